"""Records → (texts, label) examples for classification, regression and multi-label tasks: pure, no I/O.

``text_fields`` names one field (single sentences) or two (pairs). Labels per ``task``:

- ``single_label``: the label field's value is a class. The label set is ``labels`` from the config — a list of
  the values in id order, or a mapping ``{value in the file: name}`` in id order (CoLA: ``{"0": unacceptable,
  "1": acceptable}``) — or else the values of the training file sorted (numerically when all are integers),
  as HF's ``run_glue.py`` does. A value outside the set is an error naming it and the line.
- ``regression``: the value is a number (one output, named after the field).
- ``multi_label``: the value is a list (JSONL) or a string of labels joined by ``label_separator``; the label
  set is built as for ``single_label`` from every label seen in training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bertlab.data.records import Table
from bertlab.errors import ConfigError, DataError


@dataclass(frozen=True)
class LabeledTexts:
    """Texts (one tuple per example, one or two strings) and labels as the loss wants them: int64 (N,)
    class ids, float32 (N,) values, or float32 (N, C) multi-hot rows."""

    texts: list[tuple[str, ...]]
    labels: np.ndarray


def field_keys(
    text_fields: Sequence[str | int], label_field: str | int | None
) -> tuple[list[str], str | None]:
    """Config field references (names or column indices) → record keys.

    One field is a single-text task even on a pair preset (``data=glue_mnli data.text_fields=[sentence2]``, the hypothesis):
    one side of a pair alone is a known baseline (Poliak et al. 2018, hypothesis-only NLI), so it is allowed;
    a name given as a bare string instead of a list is an error, not a list of characters.
    """
    if isinstance(text_fields, str | int):
        raise ConfigError(
            f"data.text_fields={text_fields!r}: expected a list of one field or two, e.g. "
            f"data.text_fields=[{text_fields}] (a pair: data.text_fields=[premise,hypothesis])"
        )
    keys = [str(field) for field in text_fields]
    if len(keys) not in (1, 2):
        raise ConfigError(
            f"data.text_fields={list(text_fields)}: expected one field (single texts) or two (pairs)"
        )
    return keys, None if label_field is None else str(label_field)


def check_columns(table: Table, keys: Sequence[str], hint: str = "") -> None:
    """Every key must be a column of ``table``; the error lists the columns found."""
    missing = [key for key in keys if key not in table.columns]
    if missing:
        raise DataError(
            f"{table.path}: no column {', '.join(repr(k) for k in missing)}; the columns are "
            f"{', '.join(repr(c) for c in table.columns)}{hint}"
        )


def _is_empty(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def drop_empty(table: Table, keys: Sequence[str]) -> tuple[Table, int]:
    """``table`` without the records whose text fields include an empty text, and how many were dropped."""
    kept = [i for i, record in enumerate(table.records) if not any(_is_empty(record.get(k)) for k in keys)]
    records, lines = [table.records[i] for i in kept], [table.lines[i] for i in kept]
    return Table(table.path, table.columns, records, lines), len(table.records) - len(kept)


def read_texts(table: Table, keys: Sequence[str], allow_empty: bool = False) -> list[tuple[str, ...]]:
    """The text fields of every record; a missing text, or an empty one unless allowed, is an error naming
    the line."""
    texts = []
    for i, record in enumerate(table.records):
        row = []
        for key in keys:
            value = record.get(key)
            if allow_empty and _is_empty(value):
                row.append("")
                continue
            if not isinstance(value, str) or not value.strip():
                found = "missing" if value is None else f"{value!r}"
                raise DataError(f"{table.where(i)}: field {key!r} must be a non-empty text, found {found}")
            row.append(value)
        texts.append(tuple(row))
    return texts


def _label_values(table: Table, label_key: str, task: str, separator: str) -> list:
    values = []
    for i, record in enumerate(table.records):
        value = record.get(label_key)
        if value is None:
            raise DataError(f"{table.where(i)}: no label in field {label_key!r}")
        if task == "multi_label":
            value = value if isinstance(value, list) else [v for v in str(value).split(separator) if v]
            values.append([str(v).strip() for v in value])
        else:
            values.append(value if task == "regression" else str(value))
    return values


def _sorted_labels(values: set[str]) -> list[str]:
    if all(v.lstrip("-").isdigit() for v in values):
        return sorted(values, key=int)
    return sorted(values)


def label_names(
    table: Table, label_key: str, task: str, labels: Sequence | Mapping | None, separator: str = ","
) -> dict[str, str]:
    """``{value in the file: name}`` in id order, from the config or from the training file."""
    if task == "regression":
        return {label_key: label_key}
    if labels is not None:
        pairs = labels.items() if isinstance(labels, Mapping) else ((v, v) for v in labels)
        return {str(value): str(name) for value, name in pairs}
    values = _label_values(table, label_key, task, separator)
    seen = {v for row in values for v in row} if task == "multi_label" else set(values)
    return {value: value for value in _sorted_labels(seen)}


def encode_labels(
    table: Table, label_key: str, task: str, names: Mapping[str, str], separator: str = ","
) -> np.ndarray:
    """The label field of every record → class ids, floats or multi-hot rows (see :class:`LabeledTexts`)."""
    values = _label_values(table, label_key, task, separator)
    if task == "regression":
        out = np.empty(len(values), dtype=np.float32)
        for i, value in enumerate(values):
            try:
                out[i] = float(value)
            except (TypeError, ValueError):
                raise DataError(f"{table.where(i)}: regression label {value!r} is not a number") from None
        return out
    ids = {value: i for i, value in enumerate(names)}
    known = ", ".join(repr(v) for v in names)
    if task == "multi_label":
        out = np.zeros((len(values), len(ids)), dtype=np.float32)
        for i, row in enumerate(values):
            for value in row:
                if value not in ids:
                    raise DataError(
                        f"{table.where(i)}: label {value!r} is not one of the known labels {known}"
                    )
                out[i, ids[value]] = 1.0
        return out
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if value not in ids:
            raise DataError(f"{table.where(i)}: label {value!r} is not one of the known labels {known}")
        out[i] = ids[value]
    return out


def labeled_texts(
    table: Table,
    text_keys: Sequence[str],
    label_key: str,
    task: str,
    names: Mapping[str, str],
    separator: str = ",",
    allow_empty: bool = False,
) -> LabeledTexts:
    """Texts and encoded labels of ``table`` (columns checked first)."""
    check_columns(table, [*text_keys, label_key])
    texts = read_texts(table, text_keys, allow_empty)
    return LabeledTexts(texts, encode_labels(table, label_key, task, names, separator))
