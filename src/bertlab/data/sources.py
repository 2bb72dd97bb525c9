"""Read a user's corpus as a stream of documents: text files, JSONL, parquet, or a Hugging Face dataset.

Every reader yields ``(text, origin)`` pairs, one per document, where ``origin`` (``file:line`` or
``file:record``) names where the document starts, for error messages. Nothing here holds more than one
document (and one read buffer) in memory, except a ``cleaner``, which sees a whole file. Document boundaries
(``data.boundary``):

* ``file``: a whole file is one document (a cleaner may cut it into several, e.g. t8's works);
* ``blank_line``: blocks of lines separated by blank lines;
* ``line``: every non-empty line;
* ``record``: every JSONL record / parquet row / dataset row (the only boundary of those sources).

Bad input is a :class:`~bertlab.errors.DataError` naming the file and the line, record or byte offset.
"""

from __future__ import annotations

import glob
import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bertlab.errors import ConfigError, DataError

BOUNDARIES = ("file", "blank_line", "line", "record")
TEXT_SUFFIXES = (".txt", ".txt.gz")
RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
ENCODING_ERRORS = ("strict", "replace")
Document = tuple[str, str]  # (text, origin)
Cleaner = Callable[[str], Iterable[str]]


def expand(patterns: Iterable[str], base: Path) -> list[Path]:
    """Paths and globs (relative ones under ``base``) → existing files, sorted within a pattern, no repeats."""
    found: list[Path] = []
    for pattern in patterns:
        full = Path(pattern).expanduser()
        full = full if full.is_absolute() else base / full
        matches = sorted(Path(p) for p in glob.glob(str(full), recursive=True) if Path(p).is_file())
        if not matches:
            raise DataError(f"data.files: {pattern!r} matches no file (looked for {full})")
        found.extend(m for m in matches if m not in found)
    for path in found:
        if not path.name.endswith(TEXT_SUFFIXES + RECORD_SUFFIXES):
            raise DataError(
                f"{path}: unsupported file type; expected one of {TEXT_SUFFIXES + RECORD_SUFFIXES}"
            )
    return found


class _Decoder:
    """UTF-8 decoding under ``data.encoding_errors``; counts the lines that needed a replacement character."""

    def __init__(self, policy: str) -> None:
        if policy not in ENCODING_ERRORS:
            raise ConfigError(f"data.encoding_errors={policy!r}: expected one of {ENCODING_ERRORS}")
        self.policy, self.replaced = policy, 0

    def __call__(self, raw: bytes, path: Path, line: int, offset: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            if self.policy == "replace":
                self.replaced += 1
                return raw.decode("utf-8", errors="replace")
            raise DataError(
                f"{path}:{line}: invalid UTF-8 at byte offset {offset + err.start} ({err.reason}). Convert the "
                "file to UTF-8, or set data.encoding_errors=replace to replace bad bytes (counted, warned)"
            ) from None


def _binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115


def _lines(path: Path, decode: _Decoder) -> Iterator[tuple[int, str]]:
    """(line number, text without the newline); a truncated or corrupt ``.gz`` is a DataError."""
    offset = 0
    try:
        with _binary(path) as handle:
            for number, raw in enumerate(handle, start=1):
                yield number, decode(raw.rstrip(b"\r\n"), path, number, offset)
                offset += len(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataError(
            f"{path}: corrupt or truncated gzip file after {offset} decompressed bytes ({err}); re-create or "
            "re-download it"
        ) from None


def _whole(path: Path, decode: _Decoder) -> str:
    return "\n".join(text for _, text in _lines(path, decode))


def text_documents(
    path: Path, boundary: str, decode: _Decoder, cleaner: Cleaner | None
) -> Iterator[Document]:
    """Documents of one text file under ``boundary``; a cleaner receives the whole file."""
    if cleaner is not None or boundary == "file":
        pieces = cleaner(_whole(path, decode)) if cleaner is not None else [_whole(path, decode)]
        for i, piece in enumerate(pieces):
            if boundary == "file":
                yield piece, f"{path} (piece {i})"
            else:
                yield from _split_text(piece, boundary, f"{path} (piece {i})")
        return
    block: list[str] = []
    start = 1
    for number, text in _lines(path, decode):
        if boundary == "line":
            if text.strip():
                yield text, f"{path}:{number}"
        elif text.strip():
            start = start if block else number
            block.append(text)
        elif block:
            yield "\n".join(block), f"{path}:{start}"
            block = []
    if block:
        yield "\n".join(block), f"{path}:{start}"


def _split_text(text: str, boundary: str, origin: str) -> Iterator[Document]:
    """``blank_line`` / ``line`` documents of text already in memory (a cleaner's output, a record)."""
    if boundary == "line":
        pieces = text.splitlines()
    else:
        pieces, block = [], []
        for line in [*text.splitlines(), ""]:
            if line.strip():
                block.append(line)
            elif block:
                pieces.append("\n".join(block))
                block = []
    for i, piece in enumerate(p for p in pieces if p.strip()):
        yield piece, f"{origin} ({boundary} {i})"


def jsonl_records(path: Path, field: str, decode: _Decoder) -> Iterator[Document]:
    for number, line in _lines(path, decode):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{number}: not a JSON object ({err.msg} at column {err.colno})") from None
        if not isinstance(record, dict) or not isinstance(record.get(field), str):
            keys = sorted(record) if isinstance(record, dict) else type(record).__name__
            raise DataError(
                f"{path}:{number}: expected a JSON object with a string field {field!r} (data.text_field); "
                f"found {keys}"
            )
        yield record[field], f"{path}:{number}"


def parquet_records(path: Path, column: str, batch_rows: int = 4096) -> Iterator[Document]:
    pq = _require("pyarrow.parquet", "pyarrow")
    try:
        reader = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises its own ArrowInvalid family for unreadable files
        raise DataError(f"{path}: not a readable parquet file ({err})") from None
    if column not in reader.schema_arrow.names:
        raise DataError(
            f"{path}: no column {column!r} (data.text_field); columns: {reader.schema_arrow.names}"
        )
    row = 0
    for batch in reader.iter_batches(batch_size=batch_rows, columns=[column]):
        for value in batch.column(0).to_pylist():
            if value is not None:
                yield str(value), f"{path}:record {row}"
            row += 1


def file_documents(
    paths: list[Path], boundary: str, field: str, decode: _Decoder, cleaner: Cleaner | None
) -> Iterator[Document]:
    """Documents of every file in order; record files yield one document per record."""
    for path in paths:
        if path.name.endswith(TEXT_SUFFIXES):
            if boundary == "record":
                raise ConfigError(f"data.boundary=record needs JSONL or parquet files; {path} is plain text")
            yield from text_documents(path, boundary, decode, cleaner)
        elif path.name.endswith(".parquet"):
            yield from _group(parquet_records(path, field), boundary)
        else:
            yield from _group(jsonl_records(path, field, decode), boundary)


def _group(records: Iterator[Document], boundary: str) -> Iterator[Document]:
    """Records as documents (``record``), split further (``line``/``blank_line``), or one per file."""
    if boundary == "record":
        yield from records
    elif boundary == "file":
        texts = [(text, origin) for text, origin in records]
        if texts:
            yield "\n\n".join(text for text, _ in texts), texts[0][1]
    else:
        for text, origin in records:
            yield from _split_text(text, boundary, origin)


def hf_documents(dataset, field: str, name: str, batch_rows: int = 1024) -> Iterator[Document]:
    """Rows of a ``datasets.Dataset`` (one document each), read in batches."""
    if field not in dataset.column_names:
        raise DataError(f"{name}: no column {field!r} (data.text_field); columns: {dataset.column_names}")
    row = 0
    for batch in dataset.iter(batch_size=batch_rows):
        for value in batch[field]:
            if value is not None:
                yield str(value), f"{name}:record {row}"
            row += 1


def load_hf_dataset(path: str, name: str | None, split: str, data_files=None):
    """A local ``save_to_disk`` directory, or ``datasets.load_dataset`` (hub name, or local data files)."""
    datasets = _require("datasets", "datasets")
    local = Path(path).expanduser()
    if local.is_dir() and (local / "state.json").is_file():
        loaded = datasets.load_from_disk(str(local))
        return loaded[split] if isinstance(loaded, datasets.DatasetDict) else loaded
    try:
        return datasets.load_dataset(path, name, split=split, data_files=data_files)
    except (FileNotFoundError, ValueError, ConnectionError) as err:
        raise DataError(
            f"data.hf.path={path!r} (name={name!r}, split={split!r}): cannot load ({err})"
        ) from None


def _require(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"this data source needs the {package!r} package: pip install 'bertlab[corpus]'"
        ) from None
