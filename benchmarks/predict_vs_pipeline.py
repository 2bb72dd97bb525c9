"""bertlab-predict vs transformers' text-classification pipeline: rows/s on CoLA's out-of-domain dev set.

    flock /tmp/bertlab-heavy.lock python -m benchmarks.predict_vs_pipeline [--repeats 5] [--batch-size 64]
    ... --model outputs/cola/runs/<run>/hf        # a fine-tuned export instead of an untrained head

One exported model for every side: by default MiniLM-L6 (``minilm_l6``) with an untrained sequence-classification
head written by ``bertlab.export.export_pretrained`` (speed does not depend on the weights; label agreement is a
worst case there, every probability being near 0.5). The 516 sentences of ``out_of_domain_dev.tsv`` (from
BERTLAB_DATA_DIR) are written as a text file, which bertlab reads, tokenizes, predicts in length-sorted batches
and turns into rows; the pipeline gets the same sentences as a list with the same batch size (``top_k=None``:
every label's probability, as bertlab writes). Models are loaded once per side (load times printed apart); the
timed call is file/list → rows. bertlab runs with ``--precision auto`` (the precision probe's choice) and
``32``; the pipeline in its default float32 and with ``dtype=bfloat16``. Same process, same threads; sides
interleave per repeat after one warm-up call each; medians. Labels are compared with bertlab in float32.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from pathlib import Path


def export_model(out: Path) -> Path:
    from bertlab.export import export_pretrained
    from bertlab.models.encoder import PretrainedEncoder
    from bertlab.objectives.sequence_classification import SequenceClassification
    from bertlab.optim import adamw
    from bertlab.tokenization import PretrainedTokenizer

    tokenizer = PretrainedTokenizer("bert-base-uncased").build()
    encoder = PretrainedEncoder("minilm_l6").build(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id
    )
    module = SequenceClassification(encoder, adamw, id2label={0: "unacceptable", 1: "acceptable"})
    return export_pretrained(module.eval(), tokenizer, out / "hf")


def cola_sentences() -> list[str]:
    path = Path(os.environ["BERTLAB_DATA_DIR"]) / "cola" / "out_of_domain_dev.tsv"
    with open(path, newline="", encoding="utf-8") as handle:
        return [row[3] for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def sides(model_dir: Path, inputs: Path, sentences: list[str], batch_size: int) -> dict:
    """Each side's loaded model as a callable returning predicted labels, plus the load times."""
    import torch
    from transformers import pipeline

    from bertlab.predict import predict_with
    from bertlab.task_model import load_task_model

    loads = {}
    loads["bertlab"], task_model = timed(lambda: load_task_model(model_dir))

    def ours(precision: str):
        return lambda: [
            r["label"] for r in predict_with(task_model, inputs, batch_size=batch_size, precision=precision)
        ]

    def theirs(classifier):
        def call():
            scored = classifier(sentences, batch_size=batch_size, top_k=None)
            return [max(row, key=lambda x: x["score"])["label"] for row in scored]

        return call

    loads["pipeline"], fp32 = timed(lambda: pipeline("text-classification", model=str(model_dir), device=-1))
    bf16 = pipeline("text-classification", model=str(model_dir), device=-1, dtype=torch.bfloat16)
    runs = {
        "bertlab-predict --precision auto": ours("auto"),
        "bertlab-predict --precision 32": ours("32"),
        "transformers pipeline (float32)": theirs(fp32),
        "transformers pipeline (dtype=bfloat16)": theirs(bf16),
    }
    return {"runs": runs, "loads": loads, "task_model": task_model}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", help="an exported classifier (default: MiniLM-L6 with an untrained head)")
    args = parser.parse_args()

    from benchmarks.common import print_machine
    from bertlab.inference import inference_dtype

    print_machine()
    work = Path(tempfile.mkdtemp(prefix="bertlab-predict-bench-"))
    model_dir = Path(args.model) if args.model else export_model(work)
    sentences = cola_sentences()
    inputs = work / "sentences.txt"
    inputs.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    built = sides(model_dir, inputs, sentences, args.batch_size)
    runs = built["runs"]
    auto = inference_dtype("auto", built["task_model"].model.config, "cpu")
    labels = {name: run() for name, run in runs.items()}  # warm-up, and the labels compared below
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            times[name].append(timed(run)[0])
    reference = labels["bertlab-predict --precision 32"]
    print(f"{len(sentences)} sentences, batch size {args.batch_size}, {args.repeats} repeats; "
          f"--precision auto chose {auto}; load: bertlab {built['loads']['bertlab']:.2f} s, "
          f"pipeline {built['loads']['pipeline']:.2f} s")  # fmt: skip
    baseline = statistics.median(times["transformers pipeline (float32)"])
    print("| side | median s | rows/s | vs pipeline fp32 | labels = bertlab fp32 |\n|---|---|---|---|---|")
    for name, values in times.items():
        seconds = statistics.median(values)
        agree = sum(a == b for a, b in zip(labels[name], reference, strict=True))
        print(f"| {name} | {seconds:.3f} | {len(sentences) / seconds:.0f} | {baseline / seconds:.2f}x | "
              f"{agree}/{len(sentences)} |")  # fmt: skip


if __name__ == "__main__":
    main()
