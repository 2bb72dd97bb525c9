"""A document-aware corpus: documents of sentences, split deterministically, tokenized once and cached.

Pure text side (:class:`Document`, :func:`split_sentences`, :func:`split_corpus`) and the tokenized side
(:class:`TokenizedCorpus`): every sentence's token ids concatenated into one flat array, with offsets that
keep sentence and document boundaries (NSP/SOP pairs and RoBERTa's DOC-SENTENCES need them). The arrays are
saved as ``.npy`` files and memory-mapped on reload.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Sentence-final punctuation not preceded by a capital: "HAMLET." and "SCENE I." open a sentence, not end one.
_SENTENCE_END = re.compile(r"(?<=[^A-Z\s][.!?])['\"\]]?\s+")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Document:
    """A run of consecutive sentences from one work; ``work`` identifies the original work."""

    work: int
    sentences: tuple[str, ...]


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph (lines already joined by spaces) at sentence-final punctuation."""
    return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]


def paragraphs_to_sentences(text: str) -> list[str]:
    """Blank lines end paragraphs; inside a paragraph lines are joined and split into sentences."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        joined = " ".join(line.strip() for line in block.splitlines() if line.strip())
        sentences.extend(split_sentences(joined))
    return sentences


def split_corpus(
    works: Sequence[Sequence[str]], fractions: tuple[float, float], seed: int, chunk_sentences: int
) -> dict[str, list[Document]]:
    """Assign chunks of ``chunk_sentences`` consecutive sentences to train/val/test with a seeded shuffle.

    Consecutive chunks of one work that land in the same split stay one :class:`Document`, so a document
    boundary inside a split is always a real discontinuity in the text.
    """
    chunks = [(w, i) for w, sents in enumerate(works) for i in range(0, len(sents), chunk_sentences)]
    order = np.random.default_rng(seed).permutation(len(chunks))
    n_val, n_test = (round(f * len(chunks)) for f in fractions)
    assignment = np.zeros(len(chunks), dtype=np.int8)
    assignment[order[:n_val]] = 1
    assignment[order[n_val : n_val + n_test]] = 2
    out: dict[str, list[Document]] = {name: [] for name in SPLITS}
    previous: tuple[int, int] | None = None  # (work, split) of the previous chunk
    for (work, start), split in zip(chunks, assignment, strict=True):
        piece = tuple(works[work][start : start + chunk_sentences])
        docs = out[SPLITS[split]]
        if previous == (work, split):
            docs[-1] = Document(work, docs[-1].sentences + piece)
        else:
            docs.append(Document(work, piece))
        previous = (work, split)
    return out


@dataclass
class TokenizedCorpus:
    """Flat token ids with sentence and document offsets.

    ``ids[sentence_starts[s]:sentence_starts[s + 1]]`` is sentence ``s``; document ``d`` holds sentences
    ``doc_starts[d]:doc_starts[d + 1]`` and comes from work ``doc_work[d]``.
    """

    ids: np.ndarray
    sentence_starts: np.ndarray
    doc_starts: np.ndarray
    doc_work: np.ndarray

    _FIELDS = ("ids", "sentence_starts", "doc_starts", "doc_work")

    @property
    def num_tokens(self) -> int:
        return int(self.ids.shape[0])

    @property
    def num_documents(self) -> int:
        return int(self.doc_work.shape[0])

    def document_tokens(self, d: int) -> np.ndarray:
        s0, s1 = self.doc_starts[d], self.doc_starts[d + 1]
        return self.ids[self.sentence_starts[s0] : self.sentence_starts[s1]]

    @classmethod
    def from_documents(cls, docs: Sequence[Document], tokenizer) -> TokenizedCorpus:
        sentences = [s for doc in docs for s in doc.sentences]
        encoded = tokenizer(sentences, add_special_tokens=False, return_attention_mask=False)["input_ids"]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        ids = np.fromiter((t for e in encoded for t in e), dtype=np.int32, count=int(lengths.sum()))
        sentence_starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        doc_sizes = np.array([len(doc.sentences) for doc in docs], dtype=np.int64)
        doc_starts = np.concatenate([[0], np.cumsum(doc_sizes)]).astype(np.int64)
        doc_work = np.array([doc.work for doc in docs], dtype=np.int32)
        return cls(ids, sentence_starts, doc_starts, doc_work)

    def save(self, directory: Path) -> None:
        """Write all arrays into a temporary directory and rename it into place (all or nothing)."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
        try:
            for name in self._FIELDS:
                np.save(tmp / f"{name}.npy", getattr(self, name))
            (tmp / "meta.json").write_text(json.dumps({"num_tokens": self.num_tokens}))
            os.replace(tmp, directory)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not (directory / "meta.json").is_file():
                raise

    @classmethod
    def load(cls, directory: Path) -> TokenizedCorpus:
        return cls(*(np.load(directory / f"{name}.npy", mmap_mode="r") for name in cls._FIELDS))

    @staticmethod
    def is_cached(directory: Path) -> bool:
        return (directory / "meta.json").is_file()


def tokenizer_fingerprint(tokenizer) -> str:
    """Hash of what determines token ids: the serialized fast tokenizer without per-call padding/truncation."""
    state = json.loads(tokenizer.backend_tokenizer.to_str())
    state.pop("truncation", None)
    state.pop("padding", None)
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
