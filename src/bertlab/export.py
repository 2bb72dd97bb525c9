"""Hugging Face export: every objective writes the matching HF task model + tokenizer, loadable offline.

    bertlab-export outputs/mlm_shakespeare/runs/<run>               # best checkpoint → <run>/hf
    bertlab-export <run> --checkpoint <run>/checkpoints/last.ckpt --out exported/

An objective declares its HF models with ``hf_models() -> {subdir: PreTrainedModel}`` (``""`` is the
directory itself); building them is a rename of our parameters (``models/hf_names.py`` holds the HF names). The
directory also loads as a plain encoder: ``AutoModel.from_pretrained(dir)`` or ``model=pretrained
model.path=<dir>`` to fine-tune from it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from torch import nn

from bertlab import atomic
from bertlab.callbacks.checkpoints import non_finite_tensors
from bertlab.errors import UserError, user_errors_exit
from bertlab.model_card import push_to_hub, write_model_card
from bertlab.run_config import rebuild_run

MARKER = "bertlab-export.json"  # marks a directory as bertlab's own export, which a new export may replace


class ExportError(UserError):
    """The export target or the weights to export are not usable; nothing was written."""


def check_export_target(out_dir: str | Path) -> Path:
    """``out_dir`` may receive an export: absent, empty, or a previous bertlab export (holds ``MARKER``).

    Anything else is refused: an export replaces its target, and bertlab never deletes what it did not write.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"export target {out_dir} is a file; choose a directory (--out)")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise ExportError(
            f"export target {out_dir} is not empty and is not a previous bertlab export (no {MARKER}); "
            "nothing was written. Choose a new or empty directory with --out (an export replaces its target)"
        )
    return out_dir


def check_exportable(module: nn.Module, trained_steps: int | None) -> None:
    """Refuse weights that were never trained or are not finite, saying why."""
    if trained_steps == 0:
        raise ExportError(
            "the run trained no step (trainer.max_steps=0?): there are no trained weights to export"
        )
    bad = non_finite_tensors(module.state_dict())
    if bad:
        raise ExportError(
            f"{len(bad)} weight tensors hold NaN/inf (first: {bad[0]}): the run diverged; export an earlier "
            "checkpoint with --checkpoint, or retrain with a lower optimizer.lr"
        )


def export_pretrained(
    module: nn.Module,
    tokenizer,
    out_dir: str | Path,
    run_dir: str | Path | None = None,
    source: dict | None = None,
) -> Path:
    """Write ``module.hf_models()``, the tokenizer, a model card (``README.md``, from ``run_dir`` when given)
    and ``MARKER`` (with ``source``) into ``out_dir``.

    The directory appears whole or not at all; a previous export there is replaced atomically, any other
    non-empty directory is refused (:func:`check_export_target`). Permissions follow the umask.
    """
    out_dir = check_export_target(out_dir)
    check_exportable(module, None)
    with atomic.atomic_directory(out_dir, replace=True) as tmp:
        for subdir, model in module.hf_models().items():
            model.save_pretrained(str(tmp / subdir))
            tokenizer.save_pretrained(str(tmp / subdir))
            write_model_card(tmp / subdir, model, tokenizer, run_dir)
        atomic.write_json(tmp / MARKER, {"bertlab_export": 1, **(source or {})})
        _permissions_from_umask(tmp)
    return out_dir


def _permissions_from_umask(directory: Path) -> None:
    """transformers 5 stages ``model.safetensors`` with ``mkstemp`` (0600): an export on a shared cluster
    would be unreadable by everyone else. Give every entry the mode the umask allows."""
    mask = atomic.umask()
    for path in directory.rglob("*"):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def export_run(
    run_dir: str | Path, checkpoint: str | Path | None = None, out: str | Path | None = None
) -> Path:
    """Rebuild a run's module from its saved config and tokenizer, load a checkpoint, export it.

    The target and the checkpoint are checked before anything is built.
    """
    run_dir = Path(run_dir)
    out_dir = check_export_target(out or run_dir / "hf")
    run = rebuild_run(run_dir, checkpoint)
    check_exportable(run.module, run.global_step)
    source = {"checkpoint": str(run.checkpoint.resolve()), "global_step": run.global_step}
    return export_pretrained(run.module, run.datamodule.tokenizer, out_dir, run_dir, source)


@user_errors_exit("bertlab-export")
def main() -> None:
    parser = argparse.ArgumentParser(description="Export a bertlab run in Hugging Face format.")
    parser.add_argument(
        "run_dir", help="the run's output directory (holds .hydra/, checkpoints/, tokenizer/)"
    )
    parser.add_argument("--checkpoint", help="checkpoint file (default: the best one, else last.ckpt)")
    parser.add_argument("--out", help="output directory (default: <run_dir>/hf)")
    parser.add_argument("--push-to-hub", metavar="REPO", help="then upload it to this Hub repository")
    args = parser.parse_args()
    out = export_run(args.run_dir, args.checkpoint, args.out)
    print(out)
    if args.push_to_hub:
        print(push_to_hub(out, args.push_to_hub))


if __name__ == "__main__":
    main()
