"""SQuAD v2 evaluation: bertlab's validation (windows, batched forward, n-best decoding, metrics, predictions
files) vs the Hugging Face question-answering pipeline, on the same questions and the same QA model.

    python -m benchmarks.squad_eval --model outputs/.../hf --baseline-python /path/to/transformers4/bin/python
    python -m benchmarks.squad_eval --limit 300 --repeats 3      # MiniLM-L6 with a seeded random span head

The questions are the first ``--limit`` of the ``squad_v2_local`` evaluation articles. Both sides use
``max_seq_length`` 384, ``doc_stride`` 128, ``max_answer_length`` 30, 20-best decoding and null answers
(``handle_impossible_answer``); the pipeline runs at batch size 1 (its default) and ``--batch``, and its faster
setting is the baseline. bertlab runs at ``trainer.precision=auto`` as ``bertlab-eval run`` does (bf16
autocast where the probe picks bf16), at ``bf16-true`` (Lightning's bf16 weights, a lever) and in fp32, so the
bf16 rows' F1/EM can be read against fp32 on the same questions. Throughput is questions/s and windows/s (bertlab's window count for both: the same
tokenizer, length and stride give the same windows). Each run is its own process; settings interleave per
repeat; medians. Both predictions are scored against the gold answers, which shows the two decode alike.

transformers 5 removed the question-answering pipeline: give ``--baseline-python`` a Python with
``torch==2.13.0`` and ``transformers<5`` (``python -m venv hf4 && hf4/bin/pip install torch==2.13.0
'transformers<5'``). Needs BERTLAB_DATA_DIR.
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def write_random_qa_model(directory: Path, seed: int = 0) -> None:
    """MiniLM-L6 with a seeded random span head, saved as a Hugging Face QA model with its tokenizer."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from bertlab import hub

    source = hub.resolve("minilm_l6")
    torch.manual_seed(seed)
    AutoModelForQuestionAnswering.from_pretrained(source).save_pretrained(directory)
    AutoTokenizer.from_pretrained(source).save_pretrained(directory)


def run_bertlab(model: str, questions: Path, batch: int, precision: str = "auto") -> dict:
    """Time ``trainer.validate`` of ``experiment=squad_v2_local`` on the chosen questions at ``precision``
    (``auto``: what the probe picks, as ``bertlab-train`` and ``bertlab-eval run``; ``bf16-true``: Lightning's
    bf16 weights, the lever measured against autocast)."""
    from hydra.utils import instantiate

    from benchmarks.common import compose_run
    from bertlab.build import build, build_reports
    from bertlab.mixed_precision import precision_arguments
    from bertlab.precision import run_precision
    from bertlab.runtime import configure_allocator

    chosen = set(json.loads(questions.read_text()))
    cfg = compose_run(
        [
            "experiment=squad_v2_local",
            f"model.path={model}",
            f"tokenizer.name_or_path={model}",
            f"data.eval_batch_size={batch}",
            f"trainer.precision={precision}",
            "logger=none",
            "callbacks=none",
            "trainer.enable_progress_bar=false",
        ]
    )
    configure_allocator(cfg.cpu_allocator)  # as bertlab-train does
    datamodule, module = build(cfg)
    module.load_exported(model)
    datamodule.examples["val"] = [e for e in datamodule.examples["val"] if e.id in chosen]
    precision = run_precision(cfg.trainer, module.encoder.config, cfg.paths.cache_dir).precision
    trainer = instantiate(
        cfg.trainer,
        **precision_arguments(precision, cfg.trainer.accelerator),
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        callbacks=build_reports(cfg),
    )
    start = time.perf_counter()
    metrics = trainer.validate(module, datamodule=datamodule, verbose=False)[0]
    seconds = time.perf_counter() - start
    predictions = json.loads(
        (Path(trainer.default_root_dir) / "predictions/val/predictions.json").read_text()
    )
    return {
        "seconds": seconds,
        "windows": len(datamodule.windows["val"]),
        "f1": metrics["val/f1"],
        "best_f1": metrics["val/best_f1"],  # at the best null threshold (bertlab's null odds)
        "precision": precision,
        "predictions": predictions,
    }


def run_pipeline(model: str, questions: Path, batch: int) -> dict:
    """Time the question-answering pipeline (needs transformers < 5; no bertlab import)."""
    from transformers import pipeline

    items = json.loads(questions.read_text())
    qa = pipeline("question-answering", model=model, tokenizer=model, device=-1)
    inputs = [{"question": q["question"], "context": q["context"]} for q in items.values()]
    start = time.perf_counter()
    outputs = qa(
        inputs,
        batch_size=batch,
        max_seq_len=384,
        doc_stride=128,
        max_answer_len=30,
        top_k=1,
        handle_impossible_answer=True,
    )
    seconds = time.perf_counter() - start
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return {"seconds": seconds, "predictions": {i: o["answer"] for i, o in zip(items, outputs, strict=True)}}


def _measure(python: str, side: str, model: str, questions: Path, batch: int, precision: str) -> dict:
    from benchmarks.common import run_for_result

    # bertlab's side runs as a module of the repository; the pipeline's as a plain file (no bertlab there)
    entry = ["-m", "benchmarks.squad_eval"] if side == "bertlab" else [str(Path(__file__).resolve())]
    command = [
        python,
        *entry,
        "--one",
        side,
        "--model",
        model,
        "--questions",
        str(questions),
        "--batch",
        str(batch),
        *(["--precision", precision] if side == "bertlab" else []),
    ]
    return run_for_result(command, side, cwd=Path(__file__).resolve().parents[1])


def report(args) -> None:
    from benchmarks.common import compose_run, load_average, print_machine
    from bertlab.build import build
    from bertlab.evaluation import squad_v2

    work = Path(tempfile.mkdtemp(prefix="bertlab-bench-squad-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    model = args.model
    if model is None:
        model = str(work / "minilm_random_qa")
        write_random_qa_model(Path(model))
    cfg = compose_run(["experiment=squad_v2_local", "logger=none", "callbacks=none"])
    batch = args.batch or cfg.data.eval_batch_size  # bertlab's own default unless asked
    datamodule, _ = build(cfg)
    examples = datamodule.examples["val"][: args.limit]
    questions = work / "questions.json"
    questions.write_text(json.dumps({e.id: {"question": e.question, "context": e.context} for e in examples}))
    golds = {e.id: [a.text for a in e.answers] for e in examples}

    settings = [
        ("bertlab", sys.executable, batch, "auto"),
        ("bertlab", sys.executable, batch, "bf16-true"),
        ("bertlab", sys.executable, batch, "32-true"),
        ("pipeline", args.baseline_python, 1, "32-true"),
        ("pipeline", args.baseline_python, batch, "32-true"),
    ]
    print_machine()
    runs: dict[tuple, list[dict]] = {s: [] for s in settings}
    for _ in range(args.repeats):
        for setting in settings:
            side, python, batch, precision = setting
            runs[setting].append(_measure(python, side, model, questions, batch, precision))
    windows = runs[settings[0]][0]["windows"]
    rate = {s: statistics.median(len(examples) / r["seconds"] for r in rs) for s, rs in runs.items()}
    baseline = max(rate[s] for s in settings if s[0] == "pipeline")
    print(
        f"SQuAD v2 local evaluation articles: {len(examples)} questions, {windows} windows (384/128); "
        f"model {'MiniLM-L6, random span head' if args.model is None else args.model}; "
        f"median of {args.repeats}"
    )
    print(
        f"{'run':<34}{'questions/s':>12}{'windows/s':>11}{'× pipeline':>12}{'F1':>8}{'EM':>8}{'best F1':>9}"
    )
    for setting in settings:
        side, _, batch, _ = setting
        precision = runs[setting][0].get("precision", "32-true")
        scores = squad_v2.evaluate(golds, runs[setting][0]["predictions"])
        print(
            f"{f'{side} {precision} batch {batch}':<34}{rate[setting]:>12.1f}"
            f"{rate[setting] * windows / len(examples):>11.1f}{rate[setting] / baseline:>12.2f}"
            f"{scores['f1']:>8.2f}{scores['exact']:>8.2f}"
            + (f"{runs[setting][0]['best_f1']:>9.2f}" if "best_f1" in runs[setting][0] else "")
        )
    print(f"at the end: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="a Hugging Face QA model directory (default: MiniLM-L6, random head)")
    parser.add_argument(
        "--baseline-python",
        default=sys.executable,
        help="a Python whose transformers (< 5) has the question-answering pipeline",
    )
    parser.add_argument("--limit", type=int, default=500, help="questions")
    parser.add_argument("--batch", type=int, help="evaluation batch (default: experiment=squad_v2_local's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", choices=["bertlab", "pipeline"], help=argparse.SUPPRESS)
    parser.add_argument("--questions", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one == "bertlab":
        print("RESULT " + json.dumps(run_bertlab(args.model, args.questions, args.batch, args.precision)))
    elif args.one == "pipeline":
        print("RESULT " + json.dumps(run_pipeline(args.model, args.questions, args.batch)))
    else:
        report(args)


if __name__ == "__main__":
    main()
