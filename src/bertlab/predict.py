"""bertlab-predict: run a fine-tuned classifier or QA model on new inputs and write the predictions.

    bertlab-predict outputs/cola/runs/<run>/hf sentences.txt --out predictions.jsonl
    bertlab-predict outputs/cola/runs/<run> pairs.tsv --text-fields premise,hypothesis --out predictions.csv
    bertlab-predict outputs/squad/runs/<run>/checkpoints/last.ckpt questions.jsonl --out answers.jsonl

The model (:mod:`bertlab.task_model`) is an exported directory (``bertlab-export``, or one holding it in
``hf/``), a run directory (its checkpoint, chosen as ``bertlab-export`` chooses it) or a checkpoint file
``<run>/checkpoints/<name>.ckpt``: a ``*ForSequenceClassification`` or a ``*ForQuestionAnswering``.

Classification inputs: ``.txt`` (one text per line), or CSV/TSV/JSONL (``.gz`` too) with the fields named by
``--text-fields`` (default: ``text`` or ``sentence``, else the only column); a model fine-tuned on pairs needs
two fields. Output rows, in input order, carry the input line: ``label`` and ``probabilities`` per label name
(single-label), ``score`` (regression), or ``labels`` and ``probabilities`` (multi-label, a label when its
probability > 0.5). QA inputs and rows: :mod:`bertlab.predict_qa`. Written as JSONL, or CSV for a ``.csv``
``--out``, atomically. Batches hold inputs of similar length (sorted, padded per batch), under
``torch.inference_mode``; ``--precision auto`` runs bf16 where the precision probe finds it faster
(:mod:`bertlab.inference`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import numpy as np
import torch

from bertlab.atomic import write_text
from bertlab.data import files
from bertlab.data.classification import encode_texts
from bertlab.data.labeled_texts import check_columns, read_texts
from bertlab.data.records import Table, read_table, resolve_path
from bertlab.errors import DataError, user_errors_exit
from bertlab.inference import batched_outputs, inference_dtype
from bertlab.predict_qa import predict_answers, qa_settings
from bertlab.task_model import TaskModel, load_task_model

DEFAULT_FIELDS = ("text", "sentence")


def read_table_or_lines(path: str | Path) -> Table:
    """A CSV/TSV/JSONL table, or a ``.txt`` file as a one-column table ``text`` without its blank lines."""
    resolved = resolve_path(path)
    if not resolved.name.removesuffix(".gz").endswith(".txt"):
        return read_table(resolved)
    lines = files.open_text(resolved).splitlines()
    numbers = [i for i, line in enumerate(lines, 1) if line.strip()]
    return Table(str(resolved), ["text"], [{"text": lines[i - 1]} for i in numbers], numbers)


def choose_fields(table: Table, text_fields: list[str] | None, trained: list[str] | None) -> list[str]:
    """The text fields to read: as given, else the fields the model was fine-tuned on when the table has
    them, else ``text`` / ``sentence`` / the only column. A pair model given one field is an error."""
    if text_fields is None and trained and all(f in table.columns for f in trained):
        text_fields = list(trained)
    fields = text_fields or [f for f in DEFAULT_FIELDS if f in table.columns][:1] or table.columns[:1]
    if text_fields is None and len(table.columns) > 1 and fields[0] not in DEFAULT_FIELDS:
        raise DataError(
            f"{table.path}: which columns are the text? pass --text-fields (columns: {table.columns})"
        )
    if trained and len(fields) != len(trained):
        kind = "sentence pairs" if len(trained) == 2 else "single texts"
        raise DataError(
            f"{table.path}: the model was fine-tuned on {kind} (fields {trained}) but {len(fields)} text "
            f"field(s) were given ({fields}); pass --text-fields with {len(trained)} of the columns {table.columns}"
        )
    check_columns(table, fields, " (set --text-fields)")
    return fields


def read_inputs(
    path: str | Path, text_fields: list[str] | None, trained: list[str] | None = None
) -> tuple[list[tuple[str, ...]], list[int]]:
    """Texts (one or two per row) and the line each came from; a bad row is a DataError naming its line."""
    table = read_table_or_lines(path)
    return read_texts(table, choose_fields(table, text_fields, trained)), table.lines


def predict_logits(task_model: TaskModel, encoded, batch_size: int, dtype: torch.dtype) -> np.ndarray:
    """(N, C) float32 logits in input order."""
    out = np.empty((len(encoded.input_ids), task_model.model.config.num_labels), dtype=np.float32)
    pad_id = task_model.tokenizer.pad_token_id
    batches = batched_outputs(
        task_model.model, encoded.input_ids, encoded.token_type_ids, batch_size, pad_id, dtype
    )
    for batch, output in batches:
        out[batch] = output.logits.float().cpu().numpy()
    return out


def rows(
    logits: np.ndarray, lines: list[int], id2label: dict[int, str], problem_type: str | None
) -> list[dict]:
    """One output record per input row."""
    names = [id2label[i] for i in range(logits.shape[1])]
    if problem_type == "regression":
        return [{"line": n, "score": float(v[0])} for n, v in zip(lines, logits, strict=True)]
    if problem_type == "multi_label_classification":
        probs = 1 / (1 + np.exp(-logits))
        return [
            {"line": n, "labels": [k for k, q in zip(names, p, strict=True) if q > 0.5],
             "probabilities": dict(zip(names, map(float, p), strict=True))}
            for n, p in zip(lines, probs, strict=True)
        ]  # fmt: skip
    shifted = np.exp(logits - logits.max(1, keepdims=True))
    probs = shifted / shifted.sum(1, keepdims=True)
    return [
        {
            "line": n,
            "label": names[int(p.argmax())],
            "probabilities": dict(zip(names, map(float, p), strict=True)),
        }
        for n, p in zip(lines, probs, strict=True)
    ]


def to_text(records: list[dict], as_csv: bool) -> str:
    if not as_csv:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    flat = [{k: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v) for k, v in r.items()}
            for r in records]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(flat[0]))
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue()


def predict_classes(
    task_model: TaskModel,
    inputs: str | Path,
    text_fields: list[str] | None,
    batch_size: int,
    max_length: int | None,
    dtype: torch.dtype,
) -> list[dict]:
    config = task_model.model.config
    texts, lines = read_inputs(inputs, text_fields, getattr(config, "bertlab_text_fields", None))
    if not texts:
        raise DataError(f"{inputs}: no rows to predict")
    encoded = encode_texts(
        task_model.tokenizer, texts, min(max_length or 512, config.max_position_embeddings)
    )
    logits = predict_logits(task_model, encoded, batch_size, dtype)
    return rows(logits, lines, config.id2label, config.problem_type)


def predict_with(task_model: TaskModel, inputs: str | Path, text_fields: list[str] | None = None,
                 batch_size: int = 64, max_length: int | None = None, device: str = "cpu",
                 precision: str = "auto", **qa_options: float | int | None) -> list[dict]:  # fmt: skip
    """Predictions of a loaded model for every row (question) of ``inputs`` (see the module docstring).

    ``qa_options``: :class:`bertlab.predict_qa.QASettings` fields that override the run's (QA only).
    """
    model = task_model.model.to(device)
    dtype = inference_dtype(precision, model.config, device)
    if task_model.task == "question_answering":
        settings = qa_settings(task_model, max_length=max_length, **qa_options)
        return predict_answers(task_model, inputs, settings, batch_size, dtype)
    return predict_classes(task_model, inputs, text_fields, batch_size, max_length, dtype)


def predict(
    model: str | Path, inputs: str | Path, text_fields: list[str] | None = None, **options
) -> list[dict]:
    """Load ``model`` (exported directory, run directory or checkpoint) and predict ``inputs``."""
    return predict_with(load_task_model(model), inputs, text_fields, **options)


@user_errors_exit("bertlab-predict")
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "model", help="exported directory, run directory, or checkpoint <run>/checkpoints/<file>"
    )
    parser.add_argument(
        "inputs", help="classification: .txt, .csv, .tsv, .jsonl; QA: SQuAD .json or .jsonl (.gz too)"
    )
    parser.add_argument("--out", help="predictions file, .jsonl (default) or .csv; default: stdout")
    parser.add_argument("--text-fields", help="classification: comma-separated, one field or two for pairs")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--max-length", type=int, help="tokens per input (classification: 512; QA: the run's window)"
    )
    parser.add_argument("--doc-stride", type=int, help="QA: context tokens shared by neighbouring windows")
    parser.add_argument("--max-query-length", type=int, help="QA: longer questions are cut")
    parser.add_argument("--null-threshold", type=float, help='QA: answer "" above these null odds')
    parser.add_argument("--precision", default="auto", help="auto (probe: bf16 where faster), 32 or bf16")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    args = parser.parse_args(argv)
    fields = args.text_fields.split(",") if args.text_fields else None
    qa_options = {"doc_stride": args.doc_stride, "max_query_length": args.max_query_length,
                  "null_threshold": args.null_threshold}  # fmt: skip
    records = predict(args.model, args.inputs, fields, batch_size=args.batch_size, max_length=args.max_length,
                      device=args.device, precision=args.precision, **qa_options)  # fmt: skip
    text = to_text(records, bool(args.out) and args.out.endswith(".csv"))
    if args.out:
        write_text(args.out, text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
