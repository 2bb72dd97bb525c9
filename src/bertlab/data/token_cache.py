"""Tokenize a corpus in shards with worker processes into a cache of memory-mapped arrays that checks itself.

Build: the reader's documents arrive in shards (a few MB of text each); every shard is split into sentences,
held out by hash (:func:`~bertlab.data.corpus.assign_splits`) and tokenized in a worker process, which writes
the shard's arrays atomically (:mod:`bertlab.atomic`) under ``.<cache>.shards/``. A killed build keeps its
finished shards and the next run tokenizes only the rest. Finished shards are merged, split by split, into
``<cache>/<split>/{ids,sentence_starts,doc_starts,doc_work}.npy`` (ids ``uint16`` when the vocabulary fits)
and the shard directory is removed.

Every array directory checks itself (:mod:`bertlab.data.array_files`); a bad entry raises
:class:`~bertlab.data.array_files.CacheCorrupt` and the caller rebuilds it with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import types
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from bertlab.atomic import atomic_directory, remove_stale, write_json
from bertlab.data.array_files import CacheCorrupt, read_arrays, write_arrays, write_npy
from bertlab.data.corpus import SPLITS, TokenizedCorpus, assign_splits, document_sentences

log = logging.getLogger(__name__)

ARRAYS = ("ids", "sentence_starts", "doc_starts", "doc_work")
_ENCODE_BATCH = 4096  # sentences per encode_batch call; the Encoding objects are dropped after each
ShardDoc = tuple[int, int | None, str]  # (document number, fixed split or None = held out by hash, text)


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


@contextmanager
def _workers_skip_main() -> Iterator[None]:
    """Hide ``__main__`` while the pool spawns workers (it does so inside ``submit``).

    A spawned process first re-imports the parent's main module (multiprocessing's "safe importing of the
    main module"); under ``bertlab-train`` that is torch and Lightning, some 400 MB and seconds of start-up per
    worker, for a worker that needs only numpy and ``tokenizers``. ``build_shard`` and the settings pickle by
    reference to importable modules, so a worker never needs the main module (a splitter defined in a
    ``__main__`` script could not be used; Hydra's ``_target_`` paths are importable anyway).
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


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
            with _workers_skip_main():
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
    """Concatenate the shards' arrays split by split into ``target/<split>/``, one shard array at a time.

    Plain reads and writes, no memory maps: the process holds one shard's array, whatever the corpus size.
    """
    recorded = [json.loads((s / "meta.json").read_text())["arrays"] for s in shards]
    with atomic_directory(target, replace=True) as tmp:
        for split in SPLITS:
            (tmp / split).mkdir()
            sizes = [{n: m[f"{split}.{n}"]["shape"][0] for n in ARRAYS} for m in recorded]
            meta = {"arrays": {}}
            for name in ARRAYS:
                pieces = _rebased(shards, sizes, split, name)
                meta["arrays"][name] = write_npy(
                    tmp / split / f"{name}.npy", _DTYPES.get(name, dtype), pieces
                )
            write_json(tmp / split / "meta.json", meta)
        write_json(tmp / "meta.json", {"vocab_size": vocab_size, "shards": len(shards)})


_DTYPES = {"sentence_starts": "int64", "doc_starts": "int64", "doc_work": "int64"}


def _rebased(shards: list[Path], sizes: list[dict[str, int]], split: str, name: str) -> tuple[int, Iterator]:
    """(total length, pieces): a split's array across shards, offsets moved past the previous shards."""
    starts = name.endswith("starts")  # local offsets (n + 1,): drop each shard's end, append the total once
    advance = {"sentence_starts": "ids", "doc_starts": "sentence_starts"}.get(name)

    def pieces() -> Iterator[np.ndarray]:
        base = 0
        for shard, size in zip(shards, sizes, strict=True):
            piece = np.load(shard / f"{split}.{name}.npy")
            yield (piece[:-1] if starts else piece).astype(_DTYPES.get(name, piece.dtype)) + base
            base += (size[advance] - (advance == "sentence_starts")) if advance else 0
        if starts:
            yield np.array([base], dtype=np.int64)

    return sum(size[name] - starts for size in sizes) + starts, pieces()


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
