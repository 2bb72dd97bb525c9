"""``bertlab-eval``: score SQuAD predictions files, or evaluate a trained run's checkpoint on a split.

    bertlab-eval squad --data dev-v2.0.json --predictions predictions.json [--null-odds null_odds.json]
    bertlab-eval squad --data KorQuAD_v1.0_dev.json --predictions predictions.json --char-f1
    bertlab-eval run outputs/squad_v2_local/runs/<run> [--checkpoint <ckpt>] [--split test] [key=value ...]
    bertlab-eval run outputs/squad_v2_local/runs/<run> --exported <run>/hf    # a bertlab-export directory

``squad`` prints the official v2.0 evaluation JSON (exact, f1, total, HasAns_*, NoAns_*, and with null odds
best_exact/best_f1 and their thresholds); ``--na-prob-thresh`` defaults to the official 1.0. ``run`` rebuilds
the run's datamodule and module from its saved config and tokenizer, loads the checkpoint (default: the best,
else ``last.ckpt``) with ``weights_only=True`` and runs validation or test, printing the logged metrics as JSON
and the precision it ran at (``trainer.precision=auto`` resolved by :mod:`bertlab.precision`); the QA
objective also writes its predictions files under ``<run>/eval/predictions/<split>/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bertlab.data.squad import gold_answers, read_squad
from bertlab.errors import user_errors_exit
from bertlab.evaluation import squad_v2


def load_json_object(path: str | Path, what: str) -> dict:
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise SystemExit(f"{path}: cannot read {what}: {err}") from err
    if not isinstance(payload, dict):
        raise SystemExit(
            f"{path}: {what} must be a JSON object mapping question ids, found {type(payload).__name__}"
        )
    return payload


def score_squad(
    data: str | Path,
    predictions: str | Path,
    null_odds: str | Path | None,
    na_prob_thresh: float,
    char_f1: bool = False,
) -> dict:
    """The official-style result dict for a predictions file (and optional null odds) on a SQuAD data file;
    ``char_f1`` adds KorQuAD v1's ``char_exact`` and ``char_f1``."""
    golds = gold_answers(read_squad(data, training=False))
    answers = load_json_object(predictions, "predictions")
    odds = load_json_object(null_odds, "null odds") if null_odds else None
    return squad_v2.evaluate(golds, answers, odds, na_prob_thresh, char_f1)


def evaluate_run(
    run_dir: str | Path,
    checkpoint: str | Path | None,
    split: str,
    overrides: Sequence[str],
    exported: str | Path | None = None,
) -> dict:
    """Metrics of ``checkpoint`` on ``split`` (val | test), with the run's config plus dotlist ``overrides``.

    With ``exported`` (a ``bertlab-export`` / Hugging Face task-model directory) the weights and vocabulary
    come from that directory instead, through the objective's ``load_exported(directory)``.
    """
    import lightning as L
    from hydra.utils import instantiate
    from omegaconf import OmegaConf, open_dict

    from bertlab.build import build, build_reports
    from bertlab.mixed_precision import precision_arguments
    from bertlab.precision import run_precision
    from bertlab.resume import check_readable, find_checkpoint
    from bertlab.run_config import load_run_config
    from bertlab.runtime import configure_allocator

    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    if exported is None:  # a checkpoint that cannot load fails here, before anything is built
        checkpoint = check_readable(Path(checkpoint)) if checkpoint else find_checkpoint(run_dir)
    with open_dict(cfg):
        cfg.paths.output_dir = str(run_dir / "eval")
        if exported is not None:
            cfg.tokenizer.name_or_path = str(exported)
            cfg.model = {"_target_": "bertlab.models.encoder.PretrainedEncoder", "path": str(exported)}
        cfg.merge_with_dotlist(list(overrides))
    configure_allocator(cfg.cpu_allocator)  # as bertlab-train does
    datamodule, module = build(cfg)
    if exported is not None:
        module.load_exported(exported)  # the base Objective refuses with a CheckpointError
    precision = run_precision(
        OmegaConf.merge(cfg.trainer, {"devices": 1}), module.encoder.config, cfg.paths.cache_dir
    ).precision
    # the run's trainer settings with the command line's trainer.* overrides, on one device
    trainer: L.Trainer = instantiate(
        cfg.trainer,
        devices=1,
        num_nodes=1,
        strategy="auto",
        **precision_arguments(precision, str(cfg.trainer.accelerator)),
        default_root_dir=cfg.paths.output_dir,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        callbacks=build_reports(cfg),
    )
    run = trainer.validate if split == "val" else trainer.test
    results = run(
        module, datamodule=datamodule, ckpt_path=str(checkpoint) if checkpoint else None, weights_only=True
    )
    source = str(exported) if exported is not None else str(checkpoint)
    return {
        "weights": source,
        "split": split,
        "precision": precision,
        **{k: float(v) for k, v in results[0].items()},
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bertlab-eval", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    squad = commands.add_parser("squad", help="score a SQuAD predictions.json against a data file")
    squad.add_argument(
        "--data", required=True, help="SQuAD JSON (.json or .json.gz) holding the gold answers"
    )
    squad.add_argument("--predictions", required=True, help="predictions.json: question id → answer text")
    squad.add_argument("--null-odds", help="null_odds.json (or official na_prob file): question id → float")
    squad.add_argument(
        "--na-prob-thresh", type=float, default=1.0, help="predict '' above this (official: 1.0)"
    )
    squad.add_argument(
        "--char-f1", action="store_true", help="add KorQuAD v1's character F1 and exact (char_f1, char_exact)"
    )
    squad.add_argument("--out", help="also write the result JSON here")
    run = commands.add_parser("run", help="evaluate a run's checkpoint on a split")
    run.add_argument("run_dir", help="the run's output directory (holds .hydra/, checkpoints/, tokenizer/)")
    run.add_argument("--checkpoint", help="checkpoint file (default: the best one, else last.ckpt)")
    run.add_argument(
        "--exported", help="evaluate this exported (Hugging Face) directory instead of a checkpoint"
    )
    run.add_argument("--split", choices=("val", "test"), default="test")
    run.add_argument("overrides", nargs="*", help="config overrides, e.g. data.eval_batch_size=128")
    return parser


@user_errors_exit("bertlab-eval")
def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    # parse_known_args: overrides may follow options too (``run <dir> --split test key=value``), which
    # argparse's nargs="*" positional alone refuses
    args, extra = parser.parse_known_args(argv)
    unknown = [word for word in extra if args.command != "run" or word.startswith("-") or "=" not in word]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "run":
        args.overrides = [*args.overrides, *extra]
    if args.command == "squad":
        try:
            result = score_squad(
                args.data, args.predictions, args.null_odds, args.na_prob_thresh, args.char_f1
            )
        except (KeyError, ValueError) as err:  # DataError is a ValueError
            raise SystemExit(f"bertlab-eval: {err}") from err
    else:
        result = evaluate_run(args.run_dir, args.checkpoint, args.split, args.overrides, args.exported)
    text = json.dumps(result, indent=2)
    print(text)
    if getattr(args, "out", None):
        from bertlab.atomic import write_json

        write_json(args.out, result)


if __name__ == "__main__":
    main(sys.argv[1:])
