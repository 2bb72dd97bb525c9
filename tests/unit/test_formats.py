"""RoBERTa input formats: block size, document boundaries, nothing dropped, batch scaling, datamodule wiring."""

from __future__ import annotations

import logging
from functools import partial

import numpy as np
import pytest

from bertlab.data.collators import MLMCollator
from bertlab.data.corpus import TokenizedCorpus
from bertlab.data.formats import (
    PairDataset,
    SequenceDataset,
    build_dataset,
    resolve_format,
    scaled_batch_size,
)
from bertlab.data.packing import SentenceBlocks
from bertlab.data.pair_collator import PairMLMCollator
from bertlab.data.shakespeare import t8_works
from bertlab.data.text import TextDataModule
from bertlab.tokenization import PretrainedTokenizer
from tests.conftest import FIXTURE_DATA
from tests.unit.synthetic_corpus import CLS, SEP, document_of, make_corpus, sentence_of

RNG = np.random.default_rng(1)
DOCS = [list(RNG.integers(1, 12, size=RNG.integers(1, 15))) for _ in range(25)] + [[3, 70, 2]]  # one too long
CORPUS = make_corpus(DOCS)
BLOCK = 32


def _bodies(cross: bool) -> list[np.ndarray]:
    blocks = SentenceBlocks(CORPUS, BLOCK, CLS, SEP, cross_documents=cross)
    rows = [blocks[i] for i in range(len(blocks))]
    assert all(len(r) <= BLOCK and r[0] == CLS and r[-1] == SEP for r in rows)
    return [r[1:-1] for r in rows]


def _starts_at_sentence_or_piece(body: np.ndarray) -> bool:
    return body[0] % 1000 % (BLOCK - 2) == 0  # a sentence start, or the start of a long sentence's piece


def test_full_sentences_fill_blocks_and_mark_document_crossings_with_a_separator():
    bodies = _bodies(cross=True)
    for body in bodies:
        assert _starts_at_sentence_or_piece(body)
        tokens = body[body != SEP]
        docs = document_of(CORPUS, tokens)
        crossings = np.flatnonzero(docs[1:] != docs[:-1])
        assert (body == SEP).sum() == len(crossings)  # one [SEP] exactly where a document ends
    for body, following in zip(bodies[:-1], bodies[1:], strict=True):  # cut only when the next would not fit
        first = following[sentence_of(following) == sentence_of(following[0])]
        crossing = document_of(CORPUS, body[-1:])[0] != document_of(CORPUS, following[:1])[0]
        assert len(body) + crossing + len(first) > BLOCK - 2
    assert np.array_equal(np.concatenate([b[b != SEP] for b in bodies]), CORPUS.ids)  # nothing dropped
    assert sum(len(b) for b in bodies) / len(bodies) > 0.8 * (BLOCK - 2)
    assert any((b == SEP).any() for b in bodies)


def test_doc_sentences_never_cross_a_document_and_drop_nothing():
    bodies = _bodies(cross=False)
    for body in bodies:
        assert _starts_at_sentence_or_piece(body)
        assert (body != SEP).all() and len(set(document_of(CORPUS, body))) == 1
    assert np.array_equal(np.concatenate(bodies), CORPUS.ids)
    long_sentence = len(CORPUS.sentence_starts) - 3  # the 70-token sentence: cut into block-sized pieces
    pieces = [b for b in bodies if (sentence_of(b) == long_sentence).all()]
    assert [len(p) for p in pieces][:2] == [BLOCK - 2, BLOCK - 2]
    assert len(bodies) > len(_bodies(cross=True))


@pytest.mark.parametrize(
    "format", ["stream", "segment_pair", "sentence_pair", "full_sentences", "doc_sentences"]
)
def test_every_format_respects_the_block_size(format):
    pairing = "nsp" if format.endswith("pair") else None
    dataset = build_dataset(
        format, CORPUS, BLOCK, CLS, SEP, pairing=pairing, seed=0, short_seq_prob=0.1, dupe_factor=None
    )
    items = [dataset[(e, i)] for e in range(2) for i in range(len(dataset))]
    assert items and all(it["input_ids"].numel() <= BLOCK for it in items)
    if pairing:
        for it in items:
            ids, types = it["input_ids"].numpy(), it["token_type_ids"].numpy()
            a, b = ids[1 : (types == 0).sum() - 1], ids[(types == 0).sum() : -1]
            same_doc = set(document_of(CORPUS, a)) == set(document_of(CORPUS, b))
            assert len(set(document_of(CORPUS, a))) == 1 and (same_doc == (it["next_sentence_label"] == 1))


def test_resolve_format_matches_the_objective():
    assert resolve_format(None, None) == "stream" and resolve_format(None, "sop") == "segment_pair"
    assert resolve_format("sentence_pair", "nsp") == "sentence_pair"
    with pytest.raises(ValueError, match="objective=nsp needs"):
        resolve_format("full_sentences", "nsp")
    with pytest.raises(ValueError, match="use objective=nsp or objective=sop"):
        resolve_format("segment_pair", None)
    with pytest.raises(ValueError, match="data.format='pairs'"):
        resolve_format("pairs", None)


def test_scaled_batch_size_keeps_tokens_per_batch():
    assert scaled_batch_size(32, 128, 32.0) == 128
    assert scaled_batch_size(32, 128, 200.0) == 32


def _static_vs_dynamic(dataset_for, collate) -> tuple[bool, bool]:
    """(static masks equal across epochs, dynamic masks equal across epochs) for the first items."""
    results = []
    for dupe in (3, None):
        dataset = dataset_for(dupe)
        keys = range(min(len(dataset), 12))
        labels = [collate([dataset[(epoch, i)] for i in keys])["labels"] for epoch in (0, 1)]
        results.append(bool((labels[0] == labels[1]).all()))
    return results[0], results[1]


def test_static_masks_are_identical_across_epochs_and_dynamic_ones_differ(bert_tokenizer):
    mlm = MLMCollator(bert_tokenizer, seed=0)
    in_vocabulary = TokenizedCorpus(
        CORPUS.ids % 20_000 + 1000, *(getattr(CORPUS, n) for n in CORPUS._FIELDS[1:])
    )
    rows = SentenceBlocks(in_vocabulary, BLOCK, 101, 102, cross_documents=True)
    sequences = partial(SequenceDataset, rows)
    assert _static_vs_dynamic(lambda d: sequences(dupe_factor=d), mlm) == (True, False)
    pairs = partial(
        build_dataset, "segment_pair", CORPUS, BLOCK, CLS, SEP, pairing="sop", seed=0, short_seq_prob=0.1
    )
    pair_mlm = PairMLMCollator(bert_tokenizer, seed=0)
    assert _static_vs_dynamic(lambda d: pairs(dupe_factor=d), pair_mlm) == (True, False)
    static = sequences(dupe_factor=3)
    assert len(static) == 3 * len(rows)
    copies = [mlm([static[(0, c * static.size)]])["labels"] for c in range(3)]  # one sequence, three masks
    assert not (copies[0] == copies[1]).all()


def _datamodule(collator, **kwargs) -> TextDataModule:
    settings = dict(
        val_fraction=0.2,
        test_fraction=0.2,
        split_chunk_sentences=4,
        split_seed=1301,
        max_length=32,
        batch_size=4,
    )
    source = dict(
        files=["shakespeare/t8.shakespeare.txt"], boundary="file", cleaner=t8_works, tokenize_workers=1
    )
    dm = TextDataModule(data_dir=str(FIXTURE_DATA), **(settings | source | kwargs))
    dm.attach(PretrainedTokenizer("bert-base-uncased").build(dm.training_texts), collator)
    dm.setup("fit")
    return dm


def test_datamodule_builds_pairs_for_pair_objectives_and_reports_short_documents(caplog):
    with caplog.at_level(logging.WARNING):
        dm = _datamodule(partial(PairMLMCollator), pairing="nsp")
    assert isinstance(dm.datasets["train"], PairDataset)
    assert "documents have fewer than two sentences" in caplog.text
    batch = next(iter(dm.train_dataloader()))
    assert {"token_type_ids", "next_sentence_label", "labels"} <= set(batch)
    scaled = _datamodule(partial(PairMLMCollator), pairing="nsp", format="sentence_pair", max_length=256)
    assert scaled.batch_size > 4
    with pytest.raises(ValueError, match="objective=nsp or objective=sop"):
        _datamodule(partial(MLMCollator), format="segment_pair")
    with pytest.raises(ValueError, match="tiny_shakespeare.txt.*at least two documents"):
        _datamodule(
            partial(PairMLMCollator),
            pairing="nsp",
            files=["shakespeare/tiny_shakespeare.txt"],
            cleaner=None,
            split_chunk_sentences=1000,
        )
