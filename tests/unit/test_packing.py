"""``stream`` blocks cut lazily from the token array equal the blocks of the old whole-stream packing."""

from __future__ import annotations

import numpy as np
import pytest

from bertlab.data.array_files import read_arrays, write_arrays
from bertlab.data.corpus import TokenizedCorpus
from bertlab.data.datasets import BlockDataset
from bertlab.data.packing import SentenceBlocks, StreamBlocks
from tests.unit.synthetic_corpus import CLS, SEP, make_corpus

RNG = np.random.default_rng(7)
# Varied lengths: one-token documents, a document longer than several blocks, a document of empty sentences
# (zero tokens: two separators in a row), and a total that leaves a partial final block.
DOCS = [list(RNG.integers(1, 9, size=RNG.integers(1, 6))) for _ in range(30)]
DOCS[3], DOCS[11], DOCS[12], DOCS[20] = [1], [40, 33], [0, 0], [1]


def _old_blocks(corpus: TokenizedCorpus, block_size: int) -> np.ndarray:
    """The packing before lazy blocks: the whole stream in memory, cut into rows (the reference)."""
    pieces = []
    for d in range(corpus.num_documents):
        if d:
            pieces.append(np.array([SEP], dtype=np.int32))
        pieces.append(np.asarray(corpus.document_tokens(d), dtype=np.int32))
    stream = np.concatenate(pieces)
    body = block_size - 2
    rows = stream[: len(stream) // body * body].reshape(-1, body)
    framed = [np.full((len(rows), 1), CLS), rows, np.full((len(rows), 1), SEP)]
    return np.concatenate(framed, axis=1).astype(np.int32)


@pytest.mark.parametrize("block_size", [3, 4, 7, 16, 32, 129])
def test_lazy_blocks_equal_the_whole_stream_packing(block_size):
    corpus = make_corpus(DOCS)
    expected = _old_blocks(corpus, block_size)
    blocks = StreamBlocks(corpus, block_size, CLS, SEP)
    assert len(blocks) == len(expected) and blocks.shape == expected.shape
    if block_size > 3:  # 497 stream positions: every body but 1 leaves a partial block, which is dropped
        assert (corpus.num_tokens + corpus.num_documents - 1) % (block_size - 2)
    for i in range(len(expected)):
        assert np.array_equal(blocks[i], expected[i]), i
    assert np.array_equal(np.asarray(blocks), expected)


def test_hand_computed_blocks_with_separators_at_block_edges():
    corpus = make_corpus([[2], [3], [1]])  # stream: 1000 1001 S 2000 2001 2002 S 3000
    blocks = StreamBlocks(corpus, 5, CLS, SEP)  # bodies of 3; the last two stream positions are dropped
    assert np.asarray(blocks).tolist() == [[CLS, 1000, 1001, SEP, SEP], [CLS, 2000, 2001, 2002, SEP]]
    with pytest.raises(IndexError):
        blocks[2]


def test_blocks_read_a_memory_mapped_cache_and_hold_one_offset_per_document(tmp_path):
    corpus = make_corpus(DOCS)
    write_arrays(tmp_path / "split", {n: getattr(corpus, n) for n in TokenizedCorpus._FIELDS})
    mapped = TokenizedCorpus(*read_arrays(tmp_path / "split", checksum=True).values())
    blocks = StreamBlocks(mapped, 16, CLS, SEP)
    assert isinstance(blocks.stream.ids, np.memmap)  # no copy of the tokens
    assert blocks.stream.separators.nbytes == 8 * (corpus.num_documents - 1)
    dataset = BlockDataset(blocks, dupe_factor=2)
    assert len(dataset) == 2 * len(blocks)
    item = dataset[(5, len(blocks) + 1)]  # copy 1 of block 1: static mask key 1
    assert item["mask_epoch"] == 1 and item["index"] == 1
    assert item["input_ids"].tolist() == _old_blocks(corpus, 16)[1].tolist()


def test_an_empty_corpus_has_no_blocks():
    empty = TokenizedCorpus(*(np.zeros(n, dtype=np.int64) for n in (0, 1, 1, 0)))
    assert len(StreamBlocks(empty, 8, CLS, SEP)) == 0


def _old_sentence_blocks(corpus: TokenizedCorpus, block_size: int, cross: bool) -> list[list[int]]:
    """The FULL-/DOC-SENTENCES packing before lazy rows: lists of pieces, materialized (the reference)."""
    body, blocks, current, length, pending = block_size - 2, [], [], 0, False
    for d in range(corpus.num_documents):
        for s in range(int(corpus.doc_starts[d]), int(corpus.doc_starts[d + 1])):
            tokens = corpus.ids[corpus.sentence_starts[s] : corpus.sentence_starts[s + 1]].tolist()
            for piece in [tokens[i : i + body] for i in range(0, max(len(tokens), 1), body)]:
                extra = 1 if pending and current else 0
                if length + extra + len(piece) > body:
                    blocks += [current] if current else []
                    current, length, pending, extra = [], 0, False, 0
                current += [[SEP]] * extra + [piece]
                length, pending = length + extra + len(piece), False
        if cross:
            pending = True
        else:
            blocks += [current] if current else []
            current, length, pending = [], 0, False
    blocks += [current] if current else []
    return [[CLS, *(t for piece in block for t in piece), SEP] for block in blocks]


@pytest.mark.parametrize("cross", [True, False])
@pytest.mark.parametrize("block_size", [3, 4, 7, 16, 32, 129])
def test_lazy_sentence_blocks_equal_the_materialized_packing(block_size, cross):
    corpus = make_corpus(DOCS)
    expected = _old_sentence_blocks(corpus, block_size, cross)
    blocks = SentenceBlocks(corpus, block_size, CLS, SEP, cross_documents=cross)
    assert [blocks[i].tolist() for i in range(len(blocks))] == expected
    assert blocks.mean_length() == pytest.approx(np.mean([len(r) for r in expected]))
    assert blocks.ends.nbytes + blocks.stream.separators.nbytes <= 8 * (len(expected) + 1 + len(DOCS))
