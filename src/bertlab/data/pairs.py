"""Sentence pairs for NSP (Devlin et al. 2019, §3.1 Task #2) and SOP (Lan et al. 2020, ALBERT §4.3).

Source chapter Blocks 5-6 (``[CLS] A [SEP] B [SEP]``, ``is_next``) and Block 15 (sentence order). Pairs are
built from a document-aware :class:`~bertlab.data.corpus.TokenizedCorpus` the way BERT's
``create_pretraining_data.py`` does: a chunk of consecutive sentences is filled up to a target length (the
maximum, or with ``short_seq_prob`` a random shorter one), split at a random sentence boundary into A and B,
and the longer side is truncated one token at a time from a random end until the pair fits.

* NSP: B is the true continuation (label 1) or, 50%, a run of sentences from a random *other* document (0).
* SOP: A and B are always consecutive; 50% of pairs are swapped (label 0).

Each item is a pure function of (seed, epoch, index): a fixed list of anchors (sentence ranges that fill the
maximum length) is computed once, and everything random about item ``index`` in ``epoch`` (short target,
split point, label, negative document, truncation) comes from a generator keyed by those numbers. Unlike
BERT's sequential generator, a short target only shortens the anchor's chunk: the rest of the anchor is not
re-used that epoch (it is in other epochs), which keeps items independent of each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertlab.data.corpus import TokenizedCorpus

PAIRINGS = ("nsp", "sop")
_PAIR_STREAM = 0x5041  # separates pair randomness from the masking streams of keyed_random


@dataclass(frozen=True)
class Pair:
    """Token ids of the two sides (no special tokens) and the label (1 = next / in order)."""

    a: np.ndarray
    b: np.ndarray
    label: int


@dataclass(frozen=True)
class Anchors:
    """Sentence ranges ``[start, end)`` (each at least two sentences, inside one document) and their document."""

    ranges: np.ndarray  # (N, 2) int64 sentence indices
    documents: np.ndarray  # (N,) int64
    skipped_documents: int  # documents with fewer than two sentences: no pair can be formed


def segment_anchors(corpus: TokenizedCorpus, max_tokens: int) -> Anchors:
    """Greedy chunks of consecutive sentences reaching ``max_tokens`` (the last chunk may be shorter).

    A trailing one-sentence chunk is merged into the previous chunk of its document (truncation trims it),
    so every anchor can be split into A and B at a sentence boundary.
    """
    lengths = np.diff(np.asarray(corpus.sentence_starts))
    ranges: list[tuple[int, int]] = []
    documents: list[int] = []
    skipped = 0
    for d in range(corpus.num_documents):
        first, last = int(corpus.doc_starts[d]), int(corpus.doc_starts[d + 1])
        if last - first < 2:
            skipped += 1
            continue
        start, total = first, 0
        doc_ranges: list[tuple[int, int]] = []
        for s in range(first, last):
            total += int(lengths[s])
            if total >= max_tokens or s == last - 1:
                doc_ranges.append((start, s + 1))
                start, total = s + 1, 0
        if len(doc_ranges) > 1 and doc_ranges[-1][1] - doc_ranges[-1][0] < 2:
            doc_ranges[-2:] = [(doc_ranges[-2][0], doc_ranges[-1][1])]
        ranges.extend(doc_ranges)
        documents.extend([d] * len(doc_ranges))
    return _anchors(ranges, documents, skipped)


def sentence_anchors(corpus: TokenizedCorpus) -> Anchors:
    """Every pair of consecutive sentences inside one document (RoBERTa's SENTENCE-PAIR input)."""
    doc_starts = np.asarray(corpus.doc_starts, dtype=np.int64)
    sizes = np.diff(doc_starts)  # sentences per document
    document = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)  # (sentences,): a sentence's document
    first = np.arange(doc_starts[-1], dtype=np.int64)
    has_next = first + 1 < doc_starts[document + 1]  # the next sentence is in the same document
    first = first[has_next]
    return Anchors(np.stack([first, first + 2], axis=1), document[has_next], int((sizes < 2).sum()))


def _anchors(ranges: list[tuple[int, int]], documents: list[int], skipped: int) -> Anchors:
    return Anchors(
        np.asarray(ranges, dtype=np.int64).reshape(-1, 2), np.asarray(documents, dtype=np.int64), skipped
    )


def truncate_pair(a: np.ndarray, b: np.ndarray, max_tokens: int, rng: np.random.Generator):
    """Remove tokens from the longer side, from its front or back at random, until ``len(a)+len(b) <= max``."""
    a_lo, a_hi, b_lo, b_hi = 0, len(a), 0, len(b)
    while (a_hi - a_lo) + (b_hi - b_lo) > max_tokens:
        front = rng.random() < 0.5
        if a_hi - a_lo > b_hi - b_lo:
            a_lo, a_hi = (a_lo + 1, a_hi) if front else (a_lo, a_hi - 1)
        else:
            b_lo, b_hi = (b_lo + 1, b_hi) if front else (b_lo, b_hi - 1)
    return a[a_lo:a_hi], b[b_lo:b_hi]


def frame_pair(a: np.ndarray, b: np.ndarray, cls_id: int, sep_id: int) -> tuple[np.ndarray, np.ndarray]:
    """``[CLS] A [SEP] B [SEP]`` and its token types: 0 for ``[CLS] A [SEP]``, 1 for ``B [SEP]``. Both (T,)."""
    input_ids = np.concatenate([[cls_id], a, [sep_id], b, [sep_id]]).astype(np.int64)
    token_type_ids = np.zeros(len(input_ids), dtype=np.int64)
    token_type_ids[len(a) + 2 :] = 1
    return input_ids, token_type_ids


class PairBuilder:
    """Draws the pair for (epoch, index) over a fixed list of anchors.

    ``max_length`` counts the three special tokens (BERT's ``max_seq_length``). ``unit="sentence"`` makes
    both sides single sentences (RoBERTa's SENTENCE-PAIR); ``"segment"`` fills them to the target length.
    """

    def __init__(
        self,
        corpus: TokenizedCorpus,
        max_length: int,
        pairing: str,
        seed: int,
        short_seq_prob: float = 0.1,
        unit: str = "segment",
    ) -> None:
        if pairing not in PAIRINGS:
            raise ValueError(f"pairing={pairing!r}: expected one of {PAIRINGS}")
        if unit not in ("segment", "sentence"):
            raise ValueError(f"unit={unit!r}: expected 'segment' or 'sentence'")
        if max_length < 5:
            raise ValueError(f"data.max_length={max_length}: a pair needs [CLS] A [SEP] B [SEP], at least 5")
        if pairing == "nsp" and corpus.num_documents < 2:
            raise ValueError(
                f"NSP needs at least two documents to draw negatives from another document; this corpus has "
                f"{corpus.num_documents} (tiny Shakespeare is one document: use data=shakespeare or objective=sop)"
            )
        self.corpus, self.pairing, self.seed, self.unit = corpus, pairing, seed, unit
        self.max_tokens = max_length - 3
        self.short_seq_prob = short_seq_prob if unit == "segment" else 0.0
        self.anchors = (
            segment_anchors(corpus, self.max_tokens) if unit == "segment" else sentence_anchors(corpus)
        )
        self.starts = np.asarray(corpus.sentence_starts)

    def __len__(self) -> int:
        return len(self.anchors.ranges)

    def _tokens(self, first: int, last: int) -> np.ndarray:
        return np.asarray(self.corpus.ids[self.starts[first] : self.starts[last]], dtype=np.int64)

    def _fill(self, first: int, last: int, target: int) -> int:
        """End sentence of the run from ``first`` that reaches ``target`` tokens (at most ``last``)."""
        reached = np.searchsorted(self.starts[first + 1 : last + 1] - self.starts[first], target)
        return first + 1 + int(min(reached, last - first - 1))

    def build(self, epoch: int, index: int) -> Pair:
        """The pair for sample ``index`` in ``epoch``; a pure function of (seed, epoch, index)."""
        rng = np.random.default_rng([self.seed, _PAIR_STREAM, epoch, index])
        first, last = (int(x) for x in self.anchors.ranges[index])
        target = self.max_tokens
        if rng.random() < self.short_seq_prob:
            target = int(rng.integers(2, self.max_tokens + 1))
        end = max(self._fill(first, last, target), first + 2)  # chunk: >= 2 sentences
        split = int(rng.integers(first + 1, end))  # A = [first, split), B = [split, end)
        a = self._tokens(first, split)
        label = int(rng.random() < 0.5)
        if label == 1 or self.pairing == "sop":
            b = self._tokens(split, end)
            if label == 0:
                a, b = b, a
        else:
            b = self._negative(int(self.anchors.documents[index]), target - len(a), rng)
        a, b = truncate_pair(a, b, self.max_tokens, rng)
        return Pair(a, b, label)

    def _negative(self, document: int, target: int, rng: np.random.Generator) -> np.ndarray:
        """Sentences from a random start in a random other document, filled to ``target`` (>= 1 sentence)."""
        other = int(rng.integers(self.corpus.num_documents - 1))
        other += other >= document
        first, last = int(self.corpus.doc_starts[other]), int(self.corpus.doc_starts[other + 1])
        start = int(rng.integers(first, last))
        end = start + 1 if self.unit == "sentence" else self._fill(start, last, max(target, 1))
        return self._tokens(start, end)
