"""Tokenize a corpus in shards with worker processes into a cache of memory-mapped arrays that checks itself.

Build: the reader's documents arrive in shards (a few MB of text each); every shard is split into sentences,
held out by hash (:func:`~bertlab.data.corpus.assign_splits`) and tokenized in a worker process, which writes
the shard's arrays atomically (:mod:`bertlab.atomic`) under ``.<cache>.shards/``. A killed build keeps its
finished shards and the next run tokenizes only the rest. Finished shards are merged, split by split, into
``<cache>/<split>/{ids,sentence_starts,doc_starts,doc_work}.npy`` (ids ``uint16`` when the vocabulary fits)
and the shard directory is removed.

Every array directory has a ``meta.json`` recording each array's dtype, shape and CRC-32 at write time. A load
always checks that the files exist with that dtype and shape; the checksum and the id range (every id below
the vocabulary size) are checked on the first load in a process, or on every load with ``verify=True``. A bad
entry (truncated, zero bytes, overwritten, ids out of range, missing metadata) raises :class:`CacheCorrupt`,
and the caller rebuilds it with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import chain
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from bertlab.atomic import atomic_directory, remove_stale, write_json
from bertlab.data.corpus import SPLITS, TokenizedCorpus, assign_splits, document_sentences

log = logging.getLogger(__name__)

ARRAYS = ("ids", "sentence_starts", "doc_starts", "doc_work")
_CHUNK = 1 << 24  # elements per checksum / copy step: bounded memory for any corpus size
_ENCODE_BATCH = 4096  # sentences per encode_batch call; the Encoding objects are dropped after each
_VERIFIED: set[str] = set()  # directories whose checksums this process has checked
ShardDoc = tuple[int, int | None, str]  # (document number, fixed split or None = held out by hash, text)


class CacheCorrupt(Exception):
    """A cache entry failed a check; the caller rebuilds it (internal: the user did nothing wrong)."""


@dataclass(frozen=True)
class ShardSettings:
    """What a worker needs to turn a shard's documents into arrays (picklable; the tokenizer as JSON)."""

    tokenizer_json: str
    splitter: Callable[[str], list[str]]
    fractions: tuple[float, float]
    split_seed: int
    chunk_sentences: int | None
    id_dtype: str


def id_dtype(vocab_size: int) -> str:
    return "uint16" if vocab_size <= np.iinfo(np.uint16).max + 1 else "uint32"


def crc32(array: np.ndarray) -> int:
    flat = np.ascontiguousarray(array).reshape(-1)
    value = 0
    for start in range(0, len(flat), _CHUNK):
        value = zlib.crc32(flat[start : start + _CHUNK].tobytes(), value)
    return value


def write_arrays(target: Path, arrays: dict[str, np.ndarray], extra: dict | None = None) -> None:
    """``<name>.npy`` per array and ``meta.json`` (dtype, shape, CRC-32), all or nothing."""
    with atomic_directory(target, replace=True) as tmp:
        meta = {"arrays": {}, **(extra or {})}
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array)
            meta["arrays"][name] = {
                "dtype": str(array.dtype),
                "shape": list(array.shape),
                "crc32": crc32(array),
            }
        write_json(tmp / "meta.json", meta)


def read_arrays(directory: Path, checksum: bool, vocab_size: int | None = None) -> dict[str, np.ndarray]:
    """Memory-map the arrays of ``directory`` after checking them against ``meta.json`` (see module doc)."""
    try:
        meta = json.loads((directory / "meta.json").read_text())
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in meta["arrays"]}
    except (OSError, ValueError, KeyError, EOFError) as err:  # missing, zero bytes, truncated, bad header
        raise CacheCorrupt(f"{directory}: unreadable ({type(err).__name__}: {err})") from None
    for name, array in arrays.items():
        expected = meta["arrays"][name]
        if str(array.dtype) != expected["dtype"] or list(array.shape) != expected["shape"]:
            raise CacheCorrupt(
                f"{directory / name}.npy: {array.dtype}{list(array.shape)}, recorded {expected}"
            )
    if checksum or str(directory) not in _VERIFIED:
        for name, array in arrays.items():
            if crc32(array) != meta["arrays"][name]["crc32"]:
                raise CacheCorrupt(
                    f"{directory / name}.npy: checksum differs from the one recorded at write time"
                )
        ids = arrays.get("ids")
        if vocab_size is not None and ids is not None and len(ids) and _max(ids) >= vocab_size:
            raise CacheCorrupt(
                f"{directory}/ids.npy: token id {_max(ids)} outside the vocabulary ({vocab_size})"
            )
        _VERIFIED.add(str(directory))
    return arrays


def _max(ids: np.ndarray) -> int:
    return max(int(ids[s : s + _CHUNK].max()) for s in range(0, len(ids), _CHUNK))


def tokenize_shard(docs: list[ShardDoc], settings: ShardSettings) -> dict[str, dict[str, np.ndarray]]:
    """Arrays per split of one shard; offsets are local to the shard (rebased when merging)."""
    runs: dict[int, list[tuple[int, list[str]]]] = {0: [], 1: [], 2: []}
    for work, fixed, text in docs:
        sentences = document_sentences(text, settings.splitter)
        parts = [(fixed, sentences)] if fixed is not None else None
        parts = parts or assign_splits(
            sentences, settings.fractions, settings.split_seed, settings.chunk_sentences
        )
        for split, part in parts:
            if part:
                runs[split].append((work, part))
    return {SPLITS[split]: _encode(pieces, settings) for split, pieces in runs.items()}


_TOKENIZERS: dict[str, object] = {}


def _encode(pieces: list[tuple[int, list[str]]], settings: ShardSettings) -> dict[str, np.ndarray]:
    from tokenizers import Tokenizer

    tok = _TOKENIZERS.get(settings.tokenizer_json)
    if tok is None:
        tok = _TOKENIZERS[settings.tokenizer_json] = Tokenizer.from_str(settings.tokenizer_json)
        tok.no_padding()  # a saved tokenizer may pad/truncate every call (MiniLM's: to 128); ids must not
        tok.no_truncation()
    sentences = [s for _, part in pieces for s in part]
    ids, lengths = [], []
    for start in range(0, len(sentences), _ENCODE_BATCH):
        encoded = tok.encode_batch_fast(sentences[start : start + _ENCODE_BATCH], add_special_tokens=False)
        lengths.extend(len(e.ids) for e in encoded)
        ids.append(np.array(list(chain.from_iterable([e.ids for e in encoded])), dtype=settings.id_dtype))
    return {
        "ids": np.concatenate(ids) if ids else np.zeros(0, dtype=settings.id_dtype),
        "sentence_starts": np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64),
        "doc_starts": np.concatenate([[0], np.cumsum([len(p) for _, p in pieces], dtype=np.int64)]).astype(
            np.int64
        ),
        "doc_work": np.array([work for work, _ in pieces], dtype=np.int64),
    }


def build_shard(docs: list[ShardDoc], settings: ShardSettings, target: Path) -> None:
    """Tokenize one shard and write it (runs in a worker process)."""
    arrays = tokenize_shard(docs, settings)
    write_arrays(
        target, {f"{split}.{name}": a for split, parts in arrays.items() for name, a in parts.items()}
    )


def _shard_ok(directory: Path) -> bool:
    try:
        read_arrays(directory, checksum=True)
        return True
    except CacheCorrupt as err:
        if directory.exists():
            log.warning("rebuilding shard: %s", err)
        return False


def build_cache(
    target: Path, shards: Iterable[list[ShardDoc]], settings: ShardSettings, workers: int, vocab_size: int
) -> None:
    """Tokenize ``shards`` with ``workers`` processes (finished shards of a killed build are reused), merge."""
    work = target.parent / f".{target.name}.shards"
    work.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent), remove_stale(work)
    done: list[Path] = []
    shards = iter(shards)
    head = [s for s in (next(shards, None), next(shards, None)) if s is not None]
    parallel = workers > 1 and len(head) > 1  # one shard is tokenized in this process: no start-up cost
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if parallel else None
    pending: deque[Future] = deque()
    try:
        for i, docs in enumerate(chain(head, shards)):
            shard = work / f"shard-{i:06d}"
            done.append(shard)
            if _shard_ok(shard):
                continue
            if pool is None:
                build_shard(docs, settings, shard)
                continue
            pending.append(pool.submit(build_shard, docs, settings, shard))
            while len(pending) >= 2 * workers:  # bounded: at most 2 shards per worker in memory
                pending.popleft().result()
        while pending:
            pending.popleft().result()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    merge_shards(done, target, settings.id_dtype, vocab_size)
    shutil.rmtree(work, ignore_errors=True)


def merge_shards(shards: list[Path], target: Path, dtype: str, vocab_size: int) -> None:
    """Concatenate the shards' arrays split by split into ``target/<split>/``, streaming through memory maps."""
    parts = [read_arrays(s, checksum=False) for s in shards]
    with atomic_directory(target, replace=True) as tmp:
        for split in SPLITS:
            _merge_split([{n: p[f"{split}.{n}"] for n in ARRAYS} for p in parts], tmp / split, dtype)
        write_json(tmp / "meta.json", {"vocab_size": vocab_size, "shards": len(shards)})


def _merge_split(parts: list[dict[str, np.ndarray]], out: Path, dtype: str) -> None:
    out.mkdir()
    sizes = {n: sum(len(p[n]) - (n.endswith("starts")) for p in parts) + n.endswith("starts") for n in ARRAYS}
    dtypes = {"ids": dtype, "sentence_starts": np.int64, "doc_starts": np.int64, "doc_work": np.int64}
    meta = {"arrays": {}}
    for name in ARRAYS:
        array = np.lib.format.open_memmap(
            out / f"{name}.npy", mode="w+", dtype=dtypes[name], shape=(sizes[name],)
        )
        position, base, value = 0, 0, 0
        for p in parts:
            piece = p[name][:-1] if name.endswith("starts") else p[name]
            chunk = np.asarray(piece).astype(dtypes[name]) + base
            array[position : position + len(chunk)] = chunk
            value = zlib.crc32(np.ascontiguousarray(chunk).tobytes(), value)
            position += len(chunk)
            base += _advance(name, p)
        if name.endswith("starts"):
            array[-1] = base
            value = zlib.crc32(np.array([base], dtype=np.int64).tobytes(), value)
        array.flush()
        meta["arrays"][name] = {"dtype": str(array.dtype), "shape": [sizes[name]], "crc32": value}
        del array
    write_json(out / "meta.json", meta)


def _advance(name: str, part: dict[str, np.ndarray]) -> int:
    """How much a shard moves the next shard's offsets: its tokens (sentence starts), sentences (doc starts)."""
    return {"sentence_starts": len(part["ids"]), "doc_starts": len(part["sentence_starts"]) - 1}.get(name, 0)


def load_cache(target: Path, vocab_size: int, verify: bool) -> dict[str, TokenizedCorpus]:
    """The cached splits; :class:`CacheCorrupt` when any check fails (see the module docstring)."""
    try:
        meta = json.loads((target / "meta.json").read_text())
    except (OSError, ValueError) as err:
        raise CacheCorrupt(f"{target}/meta.json: {err}") from None
    if meta.get("vocab_size") != vocab_size:
        raise CacheCorrupt(f"{target}: built for a vocabulary of {meta.get('vocab_size')}, not {vocab_size}")
    out = {}
    for split in SPLITS:
        arrays = read_arrays(target / split, checksum=verify, vocab_size=vocab_size)
        out[split] = TokenizedCorpus(*(arrays[name] for name in ARRAYS))
    return out


def shard_documents(documents: Iterator[ShardDoc], shard_bytes: int) -> Iterator[list[ShardDoc]]:
    """Group documents into shards of about ``shard_bytes`` characters (a document is never cut)."""
    shard: list[ShardDoc] = []
    size = 0
    for doc in documents:
        shard.append(doc)
        size += len(doc[2])
        if size >= shard_bytes:
            yield shard
            shard, size = [], 0
    if shard:
        yield shard


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
