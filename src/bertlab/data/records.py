"""Read a table of records from CSV, TSV or JSONL (optionally ``.gz``): pure parsing, errors name file and line.

A record is a ``dict`` from field name to value. Files with a header name their fields by the header; files
without one (``header=False``, e.g. CoLA's raw release) name them by column index as strings ``"0"``, ``"1"``,
… so a config can say ``text_fields: [3]``. ``quoting=False`` reads every quote as text
(``csv.QUOTE_NONE``): CoLA and all GLUE TSVs need it, because their sentences contain unbalanced quotes.
JSONL: one JSON object per line; blank lines are skipped. JSON: one array of objects (KLUE's release files).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bertlab.data import files
from bertlab.errors import DataError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "json"}


@dataclass(frozen=True)
class Table:
    """Records of one file: ``lines[i]`` is the 1-based line where ``records[i]`` starts."""

    path: str
    columns: list[str]
    records: list[dict]
    lines: list[int]

    def where(self, i: int) -> str:
        return f"{self.path}:{self.lines[i]}"


def infer_format(path: str | Path, format: str | None) -> str:
    """``format`` if given, else from the suffix (``.gz`` ignored)."""
    if format is not None:
        if format not in FORMATS.values():
            raise DataError(f"data.format={format!r}: expected csv, tsv, jsonl or json")
        return format
    suffix = Path(str(path).removesuffix(".gz")).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{path}: cannot tell the format from the suffix {suffix!r}; set data.format")
    return FORMATS[suffix]


def resolve_path(path: str | Path) -> Path:
    """``path``, or ``path.gz`` when only the compressed file exists."""
    path = Path(path).expanduser()
    for candidate in (path, Path(f"{path}.gz")):
        if candidate.is_file():
            return candidate
    raise DataError(f"{path}: no such file (nor {path.name}.gz)")


def parse_delimited(text: str, origin: str, delimiter: str, header: bool, quoting: bool) -> Table:
    """CSV/TSV text → records; every row must have as many fields as the header (or the first row)."""
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
    )
    columns: list[str] | None = None
    records, lines = [], []
    start = 1
    for row in reader:
        if not row:  # a blank line
            start = reader.line_num + 1
            continue
        if columns is None:
            columns = list(row) if header else [str(i) for i in range(len(row))]
            if header:
                start = reader.line_num + 1
                continue
        if len(row) != len(columns):
            raise DataError(
                f"{origin}:{start}: expected {len(columns)} fields ({', '.join(columns)}), found {len(row)}"
                + ("" if quoting else "; quoting is off (data.quoting=false)")
            )
        records.append(dict(zip(columns, row, strict=True)))
        lines.append(start)
        start = reader.line_num + 1
    return Table(origin, columns or [], records, lines)


def parse_jsonl(text: str, origin: str) -> Table:
    """One JSON object per line → records; the columns are the keys seen, in first-seen order."""
    records, lines, columns = [], [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{origin}:{number}: not valid JSON ({err.msg} at column {err.colno})") from err
        if not isinstance(record, dict):
            raise DataError(f"{origin}:{number}: expected a JSON object, found {type(record).__name__}")
        columns.update(dict.fromkeys(record))
        records.append(record)
        lines.append(number)
    return Table(origin, list(columns), records, lines)


def parse_json_array(text: str, origin: str) -> Table:
    """A JSON array of objects → records; "line" numbers are 1-based positions in the array."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{origin}:{err.lineno}: not valid JSON ({err.msg} at column {err.colno})") from err
    if not isinstance(payload, list):
        raise DataError(f"{origin}: expected a JSON array of records, found {type(payload).__name__}")
    columns: dict[str, None] = {}
    for number, record in enumerate(payload, start=1):
        if not isinstance(record, dict):
            raise DataError(f"{origin}: record {number} is a {type(record).__name__}, expected a JSON object")
        columns.update(dict.fromkeys(record))
    return Table(origin, list(columns), payload, list(range(1, len(payload) + 1)))


def read_table(
    path: str | Path, format: str | None = None, header: bool = True, quoting: bool = True
) -> Table:
    """Read ``path`` (or ``path.gz``) as CSV, TSV or JSONL; an empty file is an error."""
    resolved = resolve_path(path)
    kind = infer_format(resolved, format)
    text = files.open_text(resolved)
    if kind == "jsonl":
        table = parse_jsonl(text, str(resolved))
    elif kind == "json":
        table = parse_json_array(text, str(resolved))
    else:
        table = parse_delimited(text, str(resolved), "," if kind == "csv" else "\t", header, quoting)
    if not table.records:
        raise DataError(f"{resolved}: no records")
    return table


def table_from_hf(spec: Mapping, split: str) -> tuple[Table, dict[str, list[str]]]:
    """One split of a Hugging Face dataset as a :class:`Table` (``record i`` stands for a line), and the class
    names of its ``ClassLabel`` columns (whose integer values become those names).

    ``spec``: ``path`` (a ``save_to_disk`` directory offline, or a hub name with the network) and ``name``.
    """
    from bertlab.data.sources import load_hf_dataset

    dataset = load_hf_dataset(str(spec["path"]), spec.get("name"), split)
    names = {c: f.names for c, f in dataset.features.items() if type(f).__name__ == "ClassLabel"}
    records = dataset.to_list()
    for record in records:
        for column, classes in names.items():
            if isinstance(record.get(column), int) and record[column] >= 0:
                record[column] = classes[record[column]]
    origin = f"{spec['path']}[{split}] record"
    return Table(origin, list(dataset.column_names), records, list(range(len(records)))), names
