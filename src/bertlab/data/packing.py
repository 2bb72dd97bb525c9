"""Pack a tokenized corpus into fixed-length blocks ``[CLS] tokens [SEP]`` with no padding.

``stream`` packing concatenates every document's tokens (a ``[SEP]`` between documents) and cuts the stream
into blocks regardless of sentence boundaries, as ``run_language_modeling.py``'s ``TextDataset`` does for the
source chapter's run (Block 7). The tail that does not fill a block is dropped.

The stream is never built: :class:`StreamBlocks` keeps only the stream positions of the separators (one
int64 per document) and cuts block ``i`` out of the (memory-mapped) token array when it is asked for, so
setup costs O(documents) and memory does not grow with the number of tokens.
"""

from __future__ import annotations

from array import array

import numpy as np

from bertlab.data.corpus import TokenizedCorpus


class SeparatedStream:
    """``ids`` with a separator inserted before each given stream position; reads slices, never the whole.

    ``separators`` are strictly increasing positions in the stream (tokens and separators together). A stream
    position ``p`` that is not a separator is token ``p - (separators before p)``.
    """

    def __init__(self, ids: np.ndarray, separators: np.ndarray, sep_id: int) -> None:
        self.ids, self.separators, self.sep_id = ids, separators, sep_id
        self.length = len(ids) + len(separators)

    def read(self, start: int, end: int, out: np.ndarray) -> None:
        """Write ``stream[start:end]`` into ``out`` (length ``end - start``)."""
        lo, hi = np.searchsorted(self.separators, [start, end])  # separators inside [start, end)
        is_separator = np.zeros(end - start, dtype=bool)
        is_separator[self.separators[lo:hi] - start] = True
        out[is_separator] = self.sep_id
        out[~is_separator] = self.ids[start - lo : end - hi]


def _frame(stream: SeparatedStream, start: int, end: int, cls_id: int, sep_id: int) -> np.ndarray:
    """``[CLS] stream[start:end] [SEP]``. (end - start + 2,) int32."""
    row = np.empty(end - start + 2, dtype=np.int32)
    row[0], row[-1] = cls_id, sep_id
    stream.read(start, end, row[1:-1])
    return row


class StreamBlocks:
    """Block ``i`` of the document stream, framed: ``[CLS] stream[i*body:(i+1)*body] [SEP]``. (block_size,) int32.

    The separator before document ``d`` (``d >= 1``) is at stream position ``T_d + d - 1``, where ``T_d`` is the
    document's first token in ``corpus.ids``: ``d - 1`` separators precede it.
    """

    def __init__(self, corpus: TokenizedCorpus, block_size: int, cls_id: int, sep_id: int) -> None:
        _check_block_size(block_size)
        self.block_size, self.body, self.cls_id, self.sep_id = block_size, block_size - 2, cls_id, sep_id
        n = corpus.num_documents
        doc_token_starts = np.asarray(corpus.sentence_starts[np.asarray(corpus.doc_starts[1:n])], np.int64)
        separators = doc_token_starts + np.arange(max(n - 1, 0), dtype=np.int64)  # (documents - 1,)
        self.stream = SeparatedStream(corpus.ids, separators, sep_id)
        self.num_blocks = self.stream.length // self.body if n else 0

    def __len__(self) -> int:
        return self.num_blocks

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_blocks, self.block_size)

    def __getitem__(self, i: int) -> np.ndarray:
        if not -self.num_blocks <= i < self.num_blocks:
            raise IndexError(f"block {i} of {self.num_blocks}")
        start = (i % self.num_blocks) * self.body
        return _frame(self.stream, start, start + self.body, self.cls_id, self.sep_id)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every block at once (tests and benchmarks on small corpora; training reads blocks one by one)."""
        rows = [self[i] for i in range(self.num_blocks)]
        return (np.stack(rows) if rows else np.zeros((0, self.block_size))).astype(dtype or np.int32)


class SentenceBlocks:
    """FULL-SENTENCES (``cross_documents``) or DOC-SENTENCES blocks, framed; row ``i`` is (length_i,) int32.

    Whole sentences are packed greedily up to ``block_size - 2`` tokens; a sentence longer than that is cut
    into block-sized pieces; with ``cross_documents`` a block may continue into the next document after a
    separator, otherwise a document ends its block. One pass over the sentence lengths records where each
    block ends and where separators go, as stream positions (8 bytes per block and per crossing); the tokens
    are read from ``corpus.ids`` when a row is asked for.
    """

    def __init__(
        self, corpus: TokenizedCorpus, block_size: int, cls_id: int, sep_id: int, cross_documents: bool
    ) -> None:
        _check_block_size(block_size)
        self.cls_id, self.sep_id = cls_id, sep_id
        ends, separators = _pack(corpus, block_size - 2, cross_documents)
        self.ends = np.frombuffer(ends, dtype=np.int64)  # (blocks + 1,) stream positions, ends[0] = 0
        self.stream = SeparatedStream(corpus.ids, np.frombuffer(separators, dtype=np.int64), sep_id)

    def __len__(self) -> int:
        return len(self.ends) - 1

    def mean_length(self) -> float:
        """Mean framed length."""
        return float(self.ends[-1]) / len(self) + 2 if len(self) else 0.0

    def __getitem__(self, i: int) -> np.ndarray:
        if not 0 <= i < len(self):
            raise IndexError(f"block {i} of {len(self)}")
        return _frame(self.stream, int(self.ends[i]), int(self.ends[i + 1]), self.cls_id, self.sep_id)


def _pack(corpus: TokenizedCorpus, body: int, cross: bool) -> tuple[array, array]:
    """(block end positions with a leading 0, separator positions) in the stream, greedy as described above."""
    lengths = np.diff(np.asarray(corpus.sentence_starts)).tolist()
    doc_starts = np.asarray(corpus.doc_starts).tolist()
    ends, separators = array("q", [0]), array("q")
    position, length, open_block, pending = 0, 0, False, False
    for d in range(corpus.num_documents):
        for sentence in range(doc_starts[d], doc_starts[d + 1]):
            full, rest = divmod(lengths[sentence], body)
            for piece in [body] * full + ([rest] if rest or not full else []):
                extra = 1 if pending and open_block else 0
                if length + extra + piece > body:  # does not fit: close the block (if any) and start one
                    if open_block:
                        ends.append(position)
                    length, open_block, extra = 0, False, 0
                if extra:
                    separators.append(position)
                position += extra + piece
                length, open_block, pending = length + extra + piece, True, False
        if cross:
            pending = True
        elif open_block:
            ends.append(position)
            length, open_block = 0, False
    if open_block:
        ends.append(position)
    return ends, separators


def _check_block_size(block_size: int) -> None:
    if block_size < 3:
        raise ValueError(f"data.max_length={block_size}: a block needs room for [CLS], one token and [SEP]")
