"""bertlab-predict: run an exported sequence-classification model on new texts and write the predictions.

    bertlab-predict outputs/cola/runs/<run>/hf sentences.txt --out predictions.jsonl
    bertlab-predict <run>/hf pairs.tsv --text-fields premise,hypothesis --out predictions.csv --device cuda

The model is a directory ``bertlab-export`` wrote (or a run directory holding one in ``hf/``): a Hugging Face
``*ForSequenceClassification`` with its tokenizer; its ``id2label`` and ``problem_type`` say what to write.
Inputs: ``.txt`` (one text per line), or CSV/TSV/JSONL (``.gz`` too) with the fields named by ``--text-fields``
(default: ``text`` or ``sentence``, else the only column). Output rows, in input order, carry the input line:
``label`` and ``probabilities`` per label name (single-label), ``score`` (regression), or ``labels`` and
``probabilities`` (multi-label, a label when its probability > 0.5). Written as JSONL, or CSV for a ``.csv``
``--out``, atomically. Batches hold texts of similar length (sorted, padded per batch).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from bertlab.atomic import write_text
from bertlab.data.classification import encode_texts
from bertlab.data.collators import pad_stack
from bertlab.data.labeled_texts import check_columns, read_texts
from bertlab.data.records import Table, read_table, resolve_path
from bertlab.errors import CheckpointError, DataError, user_errors_exit

DEFAULT_FIELDS = ("text", "sentence")


def model_directory(path: str | Path) -> Path:
    """An export directory, or a run directory's ``hf/``."""
    path = Path(path)
    for candidate in (path, path / "hf"):
        if (candidate / "config.json").is_file():
            return candidate
    raise CheckpointError(
        f"{path}: no exported model (config.json) here or in {path / 'hf'}; run bertlab-export"
    )


def read_inputs(path: str | Path, text_fields: list[str] | None) -> tuple[list[tuple[str, ...]], list[int]]:
    """Texts (one or two per row) and the line each came from; a bad row is a DataError naming its line."""
    resolved = resolve_path(path)
    if resolved.name.removesuffix(".gz").endswith(".txt"):
        lines = resolved.read_text(encoding="utf-8").splitlines()
        numbers = [i for i, line in enumerate(lines, 1) if line.strip()]
        table = Table(str(resolved), ["text"], [{"text": lines[i - 1]} for i in numbers], numbers)
    else:
        table = read_table(resolved)
    fields = text_fields or [f for f in DEFAULT_FIELDS if f in table.columns][:1] or table.columns[:1]
    if text_fields is None and len(table.columns) > 1 and fields[0] not in DEFAULT_FIELDS:
        raise DataError(
            f"{table.path}: which columns are the text? pass --text-fields (columns: {table.columns})"
        )
    check_columns(table, fields, " (set --text-fields)")
    return read_texts(table, fields), table.lines


def length_sorted_batches(lengths: list[int], batch_size: int) -> Iterator[np.ndarray]:
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


@torch.inference_mode()
def predict_logits(model, encoded, batch_size: int, pad_id: int, device: str) -> np.ndarray:
    """(N, C) float32 logits in input order; each batch padded to its longest sequence."""
    lengths = [len(ids) for ids in encoded.input_ids]
    out = np.empty((len(lengths), model.config.num_labels), dtype=np.float32)
    for batch in length_sorted_batches(lengths, batch_size):
        ids = pad_stack([torch.from_numpy(encoded.input_ids[i].astype(np.int64)) for i in batch], pad_id)
        mask = torch.arange(ids.shape[1])[None, :] < torch.tensor([lengths[i] for i in batch])[:, None]
        inputs = {"input_ids": ids.to(device), "attention_mask": mask.long().to(device)}
        if encoded.token_type_ids is not None:
            types = [torch.from_numpy(encoded.token_type_ids[i].astype(np.int64)) for i in batch]
            inputs["token_type_ids"] = pad_stack(types, 0).to(device)
        out[batch] = model(**inputs).logits.float().cpu().numpy()
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


def predict(model_dir: str | Path, inputs: str | Path, text_fields: list[str] | None = None, batch_size: int = 64,
            max_length: int = 512, device: str = "cpu") -> list[dict]:  # fmt: skip
    """Predictions for every row of ``inputs`` (see the module docstring)."""
    directory = model_directory(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(str(directory)).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    texts, lines = read_inputs(inputs, text_fields)
    if not texts:
        raise DataError(f"{inputs}: no rows to predict")
    limit = min(max_length, model.config.max_position_embeddings)
    encoded = encode_texts(tokenizer, texts, limit)
    logits = predict_logits(model, encoded, batch_size, tokenizer.pad_token_id, device)
    return rows(logits, lines, model.config.id2label, model.config.problem_type)


@user_errors_exit("bertlab-predict")
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="exported model directory (bertlab-export) or a run directory with hf/")
    parser.add_argument("inputs", help=".txt (a text per line), .csv, .tsv or .jsonl (.gz too)")
    parser.add_argument("--out", help="predictions file, .jsonl (default) or .csv; default: stdout")
    parser.add_argument("--text-fields", help="comma-separated: one field, or two for pairs")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    args = parser.parse_args(argv)
    fields = args.text_fields.split(",") if args.text_fields else None
    records = predict(args.model, args.inputs, fields, args.batch_size, args.max_length, args.device)
    text = to_text(records, bool(args.out) and args.out.endswith(".csv"))
    if args.out:
        write_text(args.out, text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
