"""A hand-made TokenizedCorpus whose token ids say where they come from (for pair and format tests).

Token ``p`` of global sentence ``s`` has id ``1000 * (s + 1) + p``: ``sentence_of(id)`` recovers ``s``.
"""

from __future__ import annotations

import numpy as np

from bertlab.data.corpus import TokenizedCorpus

CLS, SEP = 2, 3


def make_corpus(documents: list[list[int]]) -> TokenizedCorpus:
    """``documents[d]`` lists the token counts of document ``d``'s sentences."""
    lengths = [n for doc in documents for n in doc]
    ids = np.concatenate([1000 * (s + 1) + np.arange(n) for s, n in enumerate(lengths)]).astype(np.int32)
    sentence_starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    doc_starts = np.concatenate([[0], np.cumsum([len(doc) for doc in documents])]).astype(np.int64)
    return TokenizedCorpus(ids, sentence_starts, doc_starts, np.arange(len(documents), dtype=np.int32))


def sentence_of(ids: np.ndarray) -> np.ndarray:
    return np.asarray(ids) // 1000 - 1


def document_of(corpus: TokenizedCorpus, ids: np.ndarray) -> np.ndarray:
    return np.searchsorted(corpus.doc_starts, sentence_of(ids), side="right") - 1
