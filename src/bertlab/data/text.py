"""``data=text``: pretrain on any corpus, with every pretraining objective and input format.

Sources (:mod:`bertlab.data.sources`): files and globs (``data.files``) of ``.txt``/``.txt.gz``/``.jsonl``/
``.jsonl.gz``/``.parquet``, or a Hugging Face dataset (``data.hf``). Documents end where ``data.boundary`` says;
sentences come from ``data.sentence_splitter`` (any ``str -> list[str]``; the default is the regex of
:func:`bertlab.data.corpus.split_sentences`); ``data.cleaner`` (``str -> iterable of str``) rewrites or cuts a
whole file first. Validation and test come from ``data.val_files``/``data.test_files`` (or the dataset's
``val_split``/``test_split``), else from ``val_fraction``/``test_fraction`` of chunks of
``split_chunk_sentences`` sentences, keyed by a hash of their text. Tokenization runs once, in shards and
worker processes, into a self-checking memory-mapped cache (:mod:`bertlab.data.token_cache`).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path

from bertlab.data import files, sources
from bertlab.data.base import KeyedDataModule
from bertlab.data.corpus import SPLITS, TokenizedCorpus, assign_splits, document_sentences, split_sentences
from bertlab.data.corpus import tokenizer_fingerprint as fingerprint_of
from bertlab.data.formats import FORMATS, SCALED_FORMATS, build_dataset, resolve_format, scaled_batch_size
from bertlab.data.pairs import PAIRINGS
from bertlab.data.shakespeare import KNOWN_FILES  # data files bertlab can fetch (preset data sets)
from bertlab.data.token_cache import (
    CacheCorrupt,
    ShardSettings,
    build_cache,
    default_workers,
    id_dtype,
    load_cache,
    shard_documents,
)
from bertlab.errors import ConfigError, DataError

log = logging.getLogger(__name__)


def callable_key(function: Callable | None) -> str:
    """A stable name for a (partial of a) function, for cache keys (``repr`` holds a memory address)."""
    if function is None:
        return "none"
    inner = getattr(function, "func", function)
    args = (getattr(function, "args", ()), sorted(getattr(function, "keywords", {}).items()))
    return f"{inner.__module__}.{inner.__qualname__}{args!r}"


class TextDataModule(KeyedDataModule):
    """A document-aware corpus in one of the input formats of :mod:`bertlab.data.formats`.

    ``pairing`` (``nsp`` | ``sop``, passed from ``objective.pairing`` by :func:`bertlab.build.build`) asks
    for sentence pairs; ``format=None`` then means ``segment_pair``, otherwise ``stream``.
    ``conf/data/text.yaml`` describes every key.
    """

    def __init__(
        self,
        data_dir: str,
        files: list[str] | None = None,
        val_files: list[str] | None = None,
        test_files: list[str] | None = None,
        hf: dict | None = None,
        text_field: str = "text",
        boundary: str = "blank_line",
        cleaner: Callable | None = None,
        sentence_splitter: Callable[[str], list[str]] | None = None,
        encoding_errors: str = "strict",
        max_length: int = 128,
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        split_chunk_sentences: int | None = 64,
        split_seed: int = 1234,
        seed: int = 0,
        masking: str = "dynamic",
        dupe_factor: int = 10,
        format: str | None = None,
        short_seq_prob: float = 0.1,
        masking_unit: str = "token",
        cache_dir: str | None = None,
        tokenize_workers: int | None = None,
        shard_mb: float = 4.0,
        verify_cache: bool = False,
        download: bool = True,
        pairing: str | None = None,
    ) -> None:
        super().__init__(batch_size, eval_batch_size, num_workers, seed)
        _check(files, hf, boundary, masking, format, short_seq_prob, (val_fraction, test_fraction))
        if pairing is not None and pairing not in PAIRINGS:
            raise ConfigError(f"objective.pairing={pairing!r}: expected one of {PAIRINGS} or null")
        self.pairing = pairing
        self.file_patterns, self.own_files = files, {"val": val_files, "test": test_files}
        self.hf, self.text_field, self.boundary = dict(hf) if hf else None, text_field, boundary
        self.cleaner, self.splitter = cleaner, sentence_splitter or split_sentences
        self.encoding_errors, self.data_dir, self.download = encoding_errors, data_dir, download
        self.format, self.short_seq_prob, self.masking_unit = format, short_seq_prob, masking_unit
        self.requested_batch_size = batch_size  # sentence_pair / doc_sentences scale it in setup
        self.max_length = max_length
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.split_chunk_sentences, self.split_seed = split_chunk_sentences, split_seed
        self.dupe_factor = dupe_factor if masking == "static" else None
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.tokenize_workers = tokenize_workers or default_workers()
        self.shard_bytes, self.verify_cache = int(shard_mb * 2**20), verify_cache
        self.corpora: dict[str, TokenizedCorpus] = {}

    # --- documents -------------------------------------------------------------------------------------

    def _paths(self, patterns: list[str]) -> list[Path]:
        """Globs and paths under ``data_dir``; a known data set's file is also found as ``.gz`` or downloaded."""
        out = []
        for pattern in patterns:
            known = KNOWN_FILES.get(pattern)
            out += (
                [files.resolve(known, self.data_dir, self.download)]
                if known
                else sources.expand([pattern], Path(self.data_dir))
            )
        return out

    @cached_property
    def paths(self) -> dict[str, list[Path]]:
        """Input files of the held-out-by-hash stream (``all``) and of the splits that have their own."""
        if self.file_patterns is None:
            return {}
        out = {"all": self._paths(self.file_patterns)}
        out.update({split: self._paths(p) for split, p in self.own_files.items() if p})
        return out

    @cached_property
    def hf_splits(self) -> dict:
        spec = self.hf or {}
        out = {
            "all": sources.load_hf_dataset(
                spec["path"], spec.get("name"), spec.get("split", "train"), spec.get("data_files")
            )
        }
        for split in ("val", "test"):
            if spec.get(f"{split}_split"):
                out[split] = sources.load_hf_dataset(
                    spec["path"], spec.get("name"), spec[f"{split}_split"], spec.get("data_files")
                )
        return out

    def _stream(self, part: str) -> Iterator[tuple[str, str]]:
        """Documents ``(text, origin)`` of one part (``all``, ``val``, ``test``)."""
        if self.hf is not None:
            yield from sources.hf_documents(
                self.hf_splits[part], self.text_field, f"{self.hf['path']}[{part}]"
            )
            return
        decode = sources._Decoder(self.encoding_errors)
        yield from sources.file_documents(
            self.paths[part], self.boundary, self.text_field, decode, self.cleaner
        )
        if decode.replaced:
            log.warning(
                "data.encoding_errors=replace: %d lines of %s held invalid UTF-8", decode.replaced, part
            )

    def parts(self) -> list[str]:
        available = self.hf_splits if self.hf is not None else self.paths
        return [part for part in ("all", "val", "test") if part in available]

    def documents(self) -> Iterator[tuple[int, int | None, str]]:
        """Every document once: ``(number, fixed split or None, text)``; None = held out by hash."""
        number = 0
        for part in self.parts():
            fixed = None if part == "all" else SPLITS.index(part)
            for text, _ in self._stream(part):
                yield number, fixed, text
                number += 1

    @property
    def fractions(self) -> tuple[float, float]:
        """Held-out fractions of the hashed stream: zero for a split that has its own files."""
        own = set(self.parts())
        return (0.0 if "val" in own else self.val_fraction, 0.0 if "test" in own else self.test_fraction)

    def training_texts(self) -> Iterator[str]:
        for _, fixed, text in self.documents():
            sentences = document_sentences(text, self.splitter)
            runs = (
                [(fixed, sentences)]
                if fixed is not None
                else assign_splits(sentences, self.fractions, self.split_seed, self.split_chunk_sentences)
            )
            for split, run in runs:
                if split == 0:
                    yield from run

    # --- tokens ----------------------------------------------------------------------------------------

    def _source_key(self) -> str:
        if self.hf is not None:
            return json.dumps({part: ds._fingerprint for part, ds in self.hf_splits.items()}, sort_keys=True)
        stats = {
            part: [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
            for part, paths in self.paths.items()
        }
        return json.dumps(stats, sort_keys=True)

    def cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(self._source_key().encode())
        settings = (
            self.boundary,
            self.text_field,
            self.encoding_errors,
            callable_key(self.cleaner),
            callable_key(self.splitter),
            self.fractions,
            self.split_chunk_sentences,
            self.split_seed,
        )
        key.update(repr(settings).encode())
        key.update(fingerprint_of(self.tokenizer).encode())
        return self.cache_dir / f"text-{key.hexdigest()[:16]}"

    def _settings(self) -> ShardSettings:
        return ShardSettings(
            self.tokenizer.backend_tokenizer.to_str(),
            self.splitter,
            self.fractions,
            self.split_seed,
            self.split_chunk_sentences,
            id_dtype(len(self.tokenizer)),
        )

    def _load_or_build(self) -> dict[str, TokenizedCorpus]:
        target, vocab = self.cache_path(), len(self.tokenizer)
        if target is None:  # no cache: arrays in a temporary directory that lives as long as the process
            target = _process_temporary() / "cache"
        if target.exists():
            try:
                return load_cache(target, vocab, self.verify_cache)
            except CacheCorrupt as err:
                log.warning("token cache failed its check, rebuilding it: %s", err)
        shards = shard_documents(self.documents(), self.shard_bytes)
        build_cache(target, shards, self._settings(), self.tokenize_workers, vocab)
        corpora = load_cache(target, vocab, verify=False)
        if not any(c.num_tokens for c in corpora.values()):
            shutil.rmtree(target)  # not a cache worth keeping: the next run reads the (fixed) input again
            raise DataError(f"{self._describe()}: empty corpus (no text left after reading and cleaning)")
        log.info("cached %s tokens at %s", {s: c.num_tokens for s, c in corpora.items()}, target)
        return corpora

    def _describe(self) -> str:
        if self.hf is not None:
            return f"data.hf.path={self.hf['path']}"
        return ", ".join(str(p) for paths in self.paths.values() for p in paths)

    def prepare_data(self) -> None:
        self.corpora = self._load_or_build()

    def setup(self, stage: str | None = None) -> None:
        if not self.corpora:
            self.corpora = self._load_or_build()
        fmt = resolve_format(self.format, self.pairing)
        for split in SPLITS:
            if split not in self.datasets:
                self.datasets[split] = self._dataset(split, fmt, self.pairing)
        if fmt in SCALED_FORMATS:  # RoBERTa §4.2: larger batches of short inputs keep tokens per batch
            mean_length = self.datasets["train"].mean_length()
            self.batch_size = scaled_batch_size(self.requested_batch_size, self.max_length, mean_length)
            log.info("data.format=%s: mean length %.1f, batch size %d", fmt, mean_length, self.batch_size)

    def _dataset(self, split: str, fmt: str, pairing: str | None):
        corpus, tok = self.corpora[split], self.tokenizer
        try:
            dataset = build_dataset(
                fmt, corpus, self.max_length, tok.cls_token_id, tok.sep_token_id, pairing=pairing,
                seed=self.seed, short_seq_prob=self.short_seq_prob,
                dupe_factor=self.dupe_factor if split == "train" else None,
            )  # fmt: skip
        except ValueError as err:
            raise DataError(f"{self._describe()} ({split} split): {err}") from err
        skipped = getattr(dataset, "skipped_documents", 0)
        if skipped:
            log.warning(
                "%s (%s split): %d of %d documents have fewer than two sentences and form no pair (skipped)",
                self._describe(), split, skipped, corpus.num_documents,
            )  # fmt: skip
        if len(dataset) == 0:
            raise DataError(
                f"{self._describe()}: the {split} split has {corpus.num_tokens} tokens, fewer than one block of "
                f"data.max_length={self.max_length} (data.format={fmt}); add text or lower data.max_length"
            )
        return dataset


def _process_temporary() -> Path:
    """A temporary directory removed when this process exits (not by forked children, which share it)."""
    directory, owner = Path(tempfile.mkdtemp(prefix="bertlab-text-")), os.getpid()

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(directory, ignore_errors=True)

    atexit.register(remove)
    return directory


def _check(files, hf, boundary, masking, format, short_seq_prob, fractions) -> None:
    if (files is None) == (hf is None):
        raise ConfigError("data=text needs exactly one source: data.files=[...] or data.hf={path: ...}")
    if boundary not in sources.BOUNDARIES:
        raise ConfigError(f"data.boundary={boundary!r}: expected one of {sources.BOUNDARIES}")
    if masking not in ("dynamic", "static"):
        raise ConfigError(f"data.masking={masking!r}: expected 'dynamic' or 'static'")
    if format is not None and format not in FORMATS:
        raise ConfigError(f"data.format={format!r}: expected one of {FORMATS} or null")
    if not 0.0 <= short_seq_prob <= 1.0:
        raise ConfigError(f"data.short_seq_prob={short_seq_prob}: expected a probability")
    if min(fractions) < 0 or sum(fractions) >= 1:
        raise ConfigError(f"data.val_fraction + data.test_fraction = {sum(fractions)}: expected in [0, 1)")
