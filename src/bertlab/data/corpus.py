"""A document-aware corpus: documents of sentences, split deterministically by hash, and its token arrays.

Pure text side (:func:`split_sentences`, :func:`document_sentences`, :func:`assign_splits`) and the tokenized
side (:class:`TokenizedCorpus`): every sentence's token ids concatenated into one flat array, with offsets that
keep sentence and document boundaries (NSP/SOP pairs and RoBERTa's DOC-SENTENCES need them). The arrays are
written and memory-mapped by :mod:`bertlab.data.token_cache`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Sentence-final punctuation not preceded by a capital: "HAMLET." and "SCENE I." open a sentence, not end one.
_SENTENCE_END = re.compile(r"(?<=[^A-Z\s][.!?])['\"\]]?\s+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Document:
    """A run of consecutive sentences from one source document; ``work`` numbers the source document."""

    work: int
    sentences: tuple[str, ...]


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph (lines already joined by spaces) at sentence-final punctuation."""
    return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]


def document_sentences(text: str, splitter: Callable[[str], list[str]] = split_sentences) -> list[str]:
    """Blank lines end paragraphs; inside a paragraph lines are joined by spaces and cut by ``splitter``."""
    sentences: list[str] = []
    for block in _PARAGRAPH_BREAK.split(text):
        joined = " ".join(line.strip() for line in block.splitlines() if line.strip())
        if joined:
            sentences.extend(s for s in (p.strip() for p in splitter(joined)) if s)
    return sentences


def paragraphs_to_sentences(text: str) -> list[str]:
    """:func:`document_sentences` with the default (regex) splitter."""
    return document_sentences(text)


def held_out_split(chunk: Sequence[str], fractions: tuple[float, float], seed: int) -> int:
    """0 (train), 1 (val) or 2 (test) for a chunk of sentences, from a hash of its text and ``seed``.

    A chunk's split depends on nothing but its own text, so adding or reordering documents never moves what
    was already held out; the fractions hold in expectation.
    """
    digest = hashlib.blake2b(f"{seed}\0".encode(), digest_size=8)
    for sentence in chunk:
        digest.update(sentence.encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    u = int.from_bytes(digest.digest(), "big") / 2**64
    return 1 if u < fractions[0] else 2 if u < fractions[0] + fractions[1] else 0


def assign_splits(
    sentences: Sequence[str], fractions: tuple[float, float], seed: int, chunk_sentences: int | None
) -> list[tuple[int, list[str]]]:
    """Runs ``(split, sentences)`` of one document: chunks of ``chunk_sentences`` (``None``: the whole document)
    keyed by :func:`held_out_split`; consecutive chunks in the same split stay one run, so a document
    boundary inside a split is always a real discontinuity in the text."""
    size = chunk_sentences or max(len(sentences), 1)
    runs: list[tuple[int, list[str]]] = []
    for start in range(0, len(sentences), size):
        chunk = list(sentences[start : start + size])
        split = held_out_split(chunk, fractions, seed) if any(fractions) else 0
        if runs and runs[-1][0] == split:
            runs[-1][1].extend(chunk)
        else:
            runs.append((split, chunk))
    return runs


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
        doc_work = np.array([doc.work for doc in docs], dtype=np.int64)
        return cls(ids, sentence_starts, doc_starts, doc_work)


def tokenizer_fingerprint(tokenizer) -> str:
    """Hash of what determines token ids: the serialized fast tokenizer without per-call padding/truncation."""
    state = json.loads(tokenizer.backend_tokenizer.to_str())
    state.pop("truncation", None)
    state.pop("padding", None)
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
