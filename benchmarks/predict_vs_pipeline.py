"""bertlab-predict vs transformers' text-classification pipeline: rows/s on CoLA's out-of-domain dev set.

    flock /tmp/bertlab-heavy.lock python -m benchmarks.predict_vs_pipeline [--repeats 3] [--batch-size 64]

One exported model for both sides: MiniLM-L6 (``minilm_l6``) with a sequence-classification head, written by
``bertlab.export.export_pretrained`` (the head is untrained: speed does not depend on the weights). The 516
sentences of ``out_of_domain_dev.tsv`` (from BERTLAB_DATA_DIR) are written as a text file; bertlab-predict reads
it (length-sorted batches padded per batch); the pipeline gets the same sentences as a list with the same batch
size (``top_k=None``: every label's probability, as bertlab writes). Same process, same threads; sides
interleave per repeat; medians. Both predicted labels are checked to agree.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    from transformers import pipeline

    from benchmarks.common import machine_line
    from bertlab.predict import predict

    print(machine_line(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="bertlab-predict-bench-"))
    model_dir = export_model(work)
    sentences = cola_sentences()
    inputs = work / "sentences.txt"
    inputs.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    classifier = pipeline("text-classification", model=str(model_dir), tokenizer=str(model_dir), device=-1)
    times: dict[str, list[float]] = {"bertlab-predict": [], "transformers pipeline": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        ours = predict(model_dir, inputs, batch_size=args.batch_size)
        times["bertlab-predict"].append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs = classifier(sentences, batch_size=args.batch_size, top_k=None)
        times["transformers pipeline"].append(time.perf_counter() - start)
    agree = sum(
        r["label"] == max(t, key=lambda x: x["score"])["label"] for r, t in zip(ours, theirs, strict=True)
    )
    print(f"{len(sentences)} sentences, batch size {args.batch_size}, {args.repeats} repeats; labels agree on "
          f"{agree}/{len(sentences)}")  # fmt: skip
    print("| side | median s | rows/s |\n|---|---|---|")
    for side, values in times.items():
        seconds = statistics.median(values)
        print(f"| {side} | {seconds:.3f} | {len(sentences) / seconds:.0f} |")
    ratio = statistics.median(times["transformers pipeline"]) / statistics.median(times["bertlab-predict"])
    print(f"speed-up: {ratio:.2f}x")


if __name__ == "__main__":
    main()
