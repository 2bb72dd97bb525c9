"""Pack a tokenized corpus into fixed-length blocks ``[CLS] tokens [SEP]`` with no padding.

``stream`` packing concatenates every document's tokens (a ``[SEP]`` between documents) and cuts the stream
into blocks regardless of sentence boundaries, as ``run_language_modeling.py``'s ``TextDataset`` does for the
source chapter's run (Block 7). The tail that does not fill a block is dropped.

The stream is never built: :class:`StreamBlocks` keeps only the stream positions of the separators (one
int64 per document) and cuts block ``i`` out of the (memory-mapped) token array when it is asked for, so
setup costs O(documents) and memory does not grow with the number of tokens.
"""

from __future__ import annotations

import numpy as np

from bertlab.data.corpus import TokenizedCorpus


class StreamBlocks:
    """Block ``i`` of the document stream, framed: ``[CLS] stream[i*body:(i+1)*body] [SEP]``. (block_size,) int32.

    Stream position of the separator before document ``d`` (``d >= 1``) is ``T_d + d - 1``, where ``T_d`` is
    the document's first token in ``corpus.ids``: ``d - 1`` separators precede it. A stream position ``p``
    that is not a separator is token ``p - (separators before p)``.
    """

    def __init__(self, corpus: TokenizedCorpus, block_size: int, cls_id: int, sep_id: int) -> None:
        if block_size < 3:
            raise ValueError(
                f"data.max_length={block_size}: a block needs room for [CLS], one token and [SEP]"
            )
        self.ids, self.block_size, self.cls_id, self.sep_id = corpus.ids, block_size, cls_id, sep_id
        self.body = block_size - 2
        n = corpus.num_documents
        doc_token_starts = np.asarray(corpus.sentence_starts[np.asarray(corpus.doc_starts[1:n])], np.int64)
        self.separators = doc_token_starts + np.arange(n - 1, dtype=np.int64)  # (documents - 1,)
        length = corpus.num_tokens + len(self.separators) if n else 0
        self.num_blocks = length // self.body

    def __len__(self) -> int:
        return self.num_blocks

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_blocks, self.block_size)

    def __getitem__(self, i: int) -> np.ndarray:
        if not -self.num_blocks <= i < self.num_blocks:
            raise IndexError(f"block {i} of {self.num_blocks}")
        start = (i % self.num_blocks) * self.body
        end = start + self.body
        lo, hi = np.searchsorted(self.separators, [start, end])  # separators inside [start, end)
        row = np.empty(self.block_size, dtype=np.int32)
        row[0], row[-1] = self.cls_id, self.sep_id
        body = row[1:-1]
        is_separator = np.zeros(self.body, dtype=bool)
        is_separator[self.separators[lo:hi] - start] = True
        body[is_separator] = self.sep_id
        body[~is_separator] = self.ids[start - lo : end - hi]
        return row

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every block at once (tests and benchmarks on small corpora; training reads blocks one by one)."""
        out = (
            np.stack([self[i] for i in range(self.num_blocks)])
            if self.num_blocks
            else np.zeros((0, self.block_size))
        )
        return out.astype(dtype or np.int32)
