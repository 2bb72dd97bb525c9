"""Pack a tokenized corpus into fixed-length blocks ``[CLS] tokens [SEP]`` with no padding.

``stream`` packing concatenates every document's tokens (a ``[SEP]`` between documents) and cuts the stream
into blocks regardless of sentence boundaries, as ``run_language_modeling.py``'s ``TextDataset`` does for the
source chapter's run (Block 7). The tail that does not fill a block is dropped.
"""

from __future__ import annotations

import numpy as np

from bertlab.data.corpus import TokenizedCorpus


def document_stream(corpus: TokenizedCorpus, separator_id: int) -> np.ndarray:
    """All documents' tokens in order, ``separator_id`` between consecutive documents. (N,) int32."""
    pieces: list[np.ndarray] = []
    for d in range(corpus.num_documents):
        if d:
            pieces.append(np.array([separator_id], dtype=np.int32))
        pieces.append(np.asarray(corpus.document_tokens(d), dtype=np.int32))
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)


def pack_stream(stream: np.ndarray, block_size: int, cls_id: int, sep_id: int) -> np.ndarray:
    """Cut ``stream`` into rows of ``block_size - 2`` tokens and frame each row. (num_blocks, block_size)."""
    if block_size < 3:
        raise ValueError(f"data.max_length={block_size}: a block needs room for [CLS], one token and [SEP]")
    body = block_size - 2
    num_blocks = len(stream) // body
    rows = np.asarray(stream[: num_blocks * body], dtype=np.int32).reshape(num_blocks, body)  # (N, T-2)
    cls = np.full((num_blocks, 1), cls_id, dtype=np.int32)
    sep = np.full((num_blocks, 1), sep_id, dtype=np.int32)
    return np.concatenate([cls, rows, sep], axis=1)  # (N, T)
