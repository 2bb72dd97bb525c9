"""Shakespeare pretraining corpus: the complete works (``t8``) or char-rnn's tiny Shakespeare (``tiny``).

``t8.shakespeare.txt`` (MIT OCW 6.006, Project Gutenberg etext #100) is the file of the source chapter's
pretraining run (Block 7). Its licence header and the notice repeated between works are removed; each work
(ending at ``THE END``) is one document. Tiny Shakespeare has no work boundaries and is one document.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path

from bertlab.data import files
from bertlab.data.base import KeyedDataModule
from bertlab.data.corpus import (
    SPLITS,
    Document,
    TokenizedCorpus,
    paragraphs_to_sentences,
    split_corpus,
    tokenizer_fingerprint,
)
from bertlab.data.formats import FORMATS, SCALED_FORMATS, build_dataset, resolve_format, scaled_batch_size
from bertlab.data.pairs import PAIRINGS

log = logging.getLogger(__name__)

SOURCES = {
    "t8": files.RemoteFile(
        "shakespeare",
        "t8.shakespeare.txt",
        "https://ocw.mit.edu/ans7870/6/6.006/s08/lecturenotes/files/t8.shakespeare.txt",
        "c5601d266987ac885ca96522b1b4e439feb7eca39f0fe1111f7342b63b6468f3",
    ),
    "tiny": files.RemoteFile(
        "shakespeare",
        "tiny_shakespeare.txt",
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ),
}

_NOTICE = re.compile(r"<<.*?>>", re.DOTALL)
_YEAR_LINE = re.compile(r"^\s*\d{4}\s*$", re.MULTILINE)
_THE_END = re.compile(r"^\s*THE END\s*$", re.MULTILINE)


def parse_t8(text: str) -> list[list[str]]:
    """Works of the Gutenberg complete-works file, each as a list of sentences (header and notices removed)."""
    first_work = _YEAR_LINE.search(text)
    if first_work is None:
        return []
    body = _NOTICE.sub("\n", text[first_work.start() :])
    works = []
    for piece in _THE_END.split(body):
        sentences = paragraphs_to_sentences(_YEAR_LINE.sub("", piece, count=1))
        if sentences and not piece.strip().startswith("End of this Etext"):
            works.append(sentences)
    return works


def parse_tiny(text: str) -> list[list[str]]:
    sentences = paragraphs_to_sentences(text)
    return [sentences] if sentences else []


PARSERS: dict[str, Callable[[str], list[list[str]]]] = {"t8": parse_t8, "tiny": parse_tiny}


class ShakespeareDataModule(KeyedDataModule):
    """Document-aware Shakespeare corpus in one of the input formats of :mod:`bertlab.data.formats`.

    ``pairing`` (``nsp`` | ``sop``, passed from ``objective.pairing`` by :func:`bertlab.build.build`) asks
    for sentence pairs; ``format=None`` then means ``segment_pair``, otherwise ``stream``.
    """

    def __init__(
        self,
        data_dir: str,
        source: str = "t8",
        max_length: int = 128,
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        split_chunk_sentences: int = 64,
        split_seed: int = 1234,
        seed: int = 0,
        masking: str = "dynamic",
        dupe_factor: int = 10,
        format: str | None = None,
        short_seq_prob: float = 0.1,
        masking_unit: str = "token",
        cache_dir: str | None = None,
        download: bool = True,
        pairing: str | None = None,
    ) -> None:
        super().__init__(batch_size, eval_batch_size, num_workers, seed)
        if source not in SOURCES:
            raise ValueError(f"data.source={source!r}: expected one of {sorted(SOURCES)}")
        if masking not in ("dynamic", "static"):
            raise ValueError(f"data.masking={masking!r}: expected 'dynamic' or 'static'")
        if format is not None and format not in FORMATS:
            raise ValueError(f"data.format={format!r}: expected one of {FORMATS} or null")
        if not 0.0 <= short_seq_prob <= 1.0:
            raise ValueError(f"data.short_seq_prob={short_seq_prob}: expected a probability")
        if pairing is not None and pairing not in PAIRINGS:
            raise ValueError(f"objective.pairing={pairing!r}: expected one of {PAIRINGS} or null")
        self.format, self.short_seq_prob, self.masking_unit = format, short_seq_prob, masking_unit
        self.pairing = pairing
        self.requested_batch_size = batch_size  # sentence_pair / doc_sentences scale it in setup
        self.data_dir, self.source, self.download = data_dir, source, download
        self.max_length = max_length
        self.fractions = (val_fraction, test_fraction)
        self.split_chunk_sentences, self.split_seed = split_chunk_sentences, split_seed
        self.dupe_factor = dupe_factor if masking == "static" else None
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.corpora: dict[str, TokenizedCorpus] = {}

    @cached_property
    def path(self) -> Path:
        return files.resolve(SOURCES[self.source], self.data_dir, download=self.download)

    @cached_property
    def raw_text(self) -> str:
        return files.open_text(self.path)

    @cached_property
    def documents(self) -> dict[str, list[Document]]:
        works = PARSERS[self.source](self.raw_text)
        if not works:
            raise ValueError(f"{self.path}: empty corpus (no text left after removing headers and notices)")
        return split_corpus(works, self.fractions, self.split_seed, self.split_chunk_sentences)

    def training_texts(self) -> Iterator[str]:
        return (s for doc in self.documents["train"] for s in doc.sentences)

    def _cache_path(self, split: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(self.raw_text.encode())
        key.update(repr((self.fractions, self.split_chunk_sentences, self.split_seed)).encode())
        key.update(tokenizer_fingerprint(self.tokenizer).encode())
        return self.cache_dir / f"shakespeare-{self.source}-{split}-{key.hexdigest()[:16]}"

    def _corpus(self, split: str) -> TokenizedCorpus:
        path = self._cache_path(split)
        if path is not None and TokenizedCorpus.is_cached(path):
            return TokenizedCorpus.load(path)
        corpus = TokenizedCorpus.from_documents(self.documents[split], self.tokenizer)
        if path is not None:
            corpus.save(path)
            log.info("cached %s split (%d tokens) at %s", split, corpus.num_tokens, path)
        return corpus

    def prepare_data(self) -> None:
        for split in SPLITS:
            self._corpus(split)

    def setup(self, stage: str | None = None) -> None:
        fmt = resolve_format(self.format, self.pairing)
        for split in SPLITS:
            if split not in self.datasets:
                self.datasets[split] = self._dataset(split, fmt, self.pairing)
        if fmt in SCALED_FORMATS:  # RoBERTa §4.2: larger batches of short inputs keep tokens per batch
            mean_length = self.datasets["train"].mean_length()
            self.batch_size = scaled_batch_size(self.requested_batch_size, self.max_length, mean_length)
            log.info("data.format=%s: mean length %.1f, batch size %d", fmt, mean_length, self.batch_size)

    def _dataset(self, split: str, fmt: str, pairing: str | None):
        self.corpora[split] = corpus = self._corpus(split)
        tok = self.tokenizer
        try:
            dataset = build_dataset(
                fmt, corpus, self.max_length, tok.cls_token_id, tok.sep_token_id, pairing=pairing,
                seed=self.seed, short_seq_prob=self.short_seq_prob,
                dupe_factor=self.dupe_factor if split == "train" else None,
            )  # fmt: skip
        except ValueError as err:
            raise ValueError(f"{self.path} ({split} split): {err}") from err
        skipped = getattr(dataset, "skipped_documents", 0)
        if skipped:
            log.warning(
                "%s (%s split): %d of %d documents have fewer than two sentences and form no pair",
                self.path, split, skipped, corpus.num_documents,
            )  # fmt: skip
        if len(dataset) == 0:
            raise ValueError(
                f"{self.path}: the {split} split has {corpus.num_tokens} tokens, fewer than one block of "
                f"data.max_length={self.max_length} (data.format={fmt})"
            )
        return dataset
