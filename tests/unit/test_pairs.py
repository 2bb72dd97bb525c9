"""NSP/SOP pair building: continuity, document boundaries, label balance, swaps, keyed determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bertlab.data.formats import PairDataset
from bertlab.data.pair_collator import PairMLMCollator, format_pair_example
from bertlab.data.pairs import PairBuilder, frame_pair, segment_anchors, sentence_anchors, truncate_pair
from tests.unit.synthetic_corpus import CLS, SEP, document_of, make_corpus, sentence_of

RNG = np.random.default_rng(0)
# 40 documents of 6-30 sentences of 3-14 tokens
CORPUS = make_corpus([list(RNG.integers(3, 15, size=RNG.integers(6, 31))) for _ in range(40)])


def _pairs(builder: PairBuilder, epochs: int = 1):
    return [(e, i, builder.build(e, i)) for e in range(epochs) for i in range(len(builder))]


def _is_run(ids: np.ndarray) -> bool:
    """Consecutive token ids of consecutive sentences (the synthetic corpus makes this checkable)."""
    sentences, positions = sentence_of(ids), np.asarray(ids) % 1000
    pairs = np.stack([sentences, positions], axis=1)  # (N, 2)
    steps = zip(pairs[:-1].tolist(), pairs[1:].tolist(), strict=True)
    return all((s2 == s1 and p2 == p1 + 1) or (s2 == s1 + 1 and p2 == 0) for (s1, p1), (s2, p2) in steps)


def test_nsp_positives_are_the_true_next_segment_without_truncation():
    builder = PairBuilder(CORPUS, max_length=1000, pairing="nsp", seed=0, short_seq_prob=0.0)
    positives = [p for _, _, p in _pairs(builder, epochs=3) if p.label == 1]
    assert len(positives) > 30  # one anchor per document at this length
    for pair in positives:
        assert _is_run(np.concatenate([pair.a, pair.b]))  # B starts at the sentence right after A
        assert len(set(document_of(CORPUS, np.concatenate([pair.a, pair.b])))) == 1


def test_nsp_positives_never_cross_documents_and_negatives_come_from_another_document():
    builder = PairBuilder(CORPUS, max_length=48, pairing="nsp", seed=1)
    for _, index, pair in _pairs(builder, epochs=3):
        doc_a, doc_b = set(document_of(CORPUS, pair.a)), set(document_of(CORPUS, pair.b))
        anchor_doc = int(builder.anchors.documents[index])
        assert doc_a == {anchor_doc} and len(doc_b) == 1
        assert (doc_b == {anchor_doc}) == (pair.label == 1)
        if pair.label == 1:
            assert sentence_of(pair.a).max() < sentence_of(pair.b).min()
        assert _is_run(pair.a) and _is_run(pair.b)
        assert 2 <= len(pair.a) + len(pair.b) <= 48 - 3


def test_label_balance_is_half_within_two_percent_over_10k_pairs():
    for pairing in ("nsp", "sop"):
        builder = PairBuilder(CORPUS, max_length=32, pairing=pairing, seed=3)
        epochs = -(-10_000 // len(builder))
        labels = [p.label for _, _, p in _pairs(builder, epochs)][:10_000]
        assert len(labels) == 10_000
        assert abs(np.mean(labels) - 0.5) < 0.02


def test_sop_swaps_exactly_two_consecutive_segments():
    builder = PairBuilder(CORPUS, max_length=1000, pairing="sop", seed=0, short_seq_prob=0.0)
    pairs = [p for _, _, p in _pairs(builder, epochs=2)]
    assert {p.label for p in pairs} == {0, 1}
    for pair in pairs:
        first, second = (pair.a, pair.b) if pair.label == 1 else (pair.b, pair.a)
        assert _is_run(np.concatenate([first, second]))
        assert not _is_run(np.concatenate([second, first]))
        assert len(set(document_of(CORPUS, np.concatenate([pair.a, pair.b])))) == 1


def test_sentence_unit_pairs_single_sentences():
    builder = PairBuilder(CORPUS, max_length=1000, pairing="nsp", seed=0, unit="sentence")
    assert len(builder) == sum(int(n) - 1 for n in np.diff(CORPUS.doc_starts))
    for _, _, pair in _pairs(builder):
        assert len(set(sentence_of(pair.a))) == 1 and len(set(sentence_of(pair.b))) == 1
        if pair.label == 1:
            assert sentence_of(pair.b)[0] == sentence_of(pair.a)[0] + 1


def test_pairs_are_a_pure_function_of_seed_epoch_index_and_change_across_epochs():
    make = lambda seed: PairBuilder(CORPUS, max_length=40, pairing="nsp", seed=seed)  # noqa: E731
    a, b = make(7), make(7)
    same = [(a.build(2, i), b.build(2, i)) for i in range(len(a))]
    assert all(np.array_equal(x.a, y.a) and np.array_equal(x.b, y.b) and x.label == y.label for x, y in same)
    assert np.array_equal(a.build(2, 5).b, a.build(2, 5).b)  # no hidden state between calls

    def differ(x, y) -> bool:
        return x.label != y.label or not np.array_equal(x.a, y.a) or not np.array_equal(x.b, y.b)

    assert np.mean([differ(a.build(0, i), a.build(1, i)) for i in range(len(a))]) > 0.5
    assert np.mean([differ(a.build(0, i), make(8).build(0, i)) for i in range(len(a))]) > 0.5


def test_truncation_trims_the_longer_side_and_short_targets_occur():
    rng = np.random.default_rng(0)
    a, b = truncate_pair(np.arange(30), np.arange(100, 110), 20, rng)
    assert len(a) == 10 and len(b) == 10 and _is_run(1000 + a)
    builder = PairBuilder(CORPUS, max_length=64, pairing="sop", seed=0, short_seq_prob=0.1)
    lengths = np.array([len(p.a) + len(p.b) for _, _, p in _pairs(builder, epochs=5)])
    assert lengths.max() <= 61 and 0.03 < np.mean(lengths < 30) < 0.3


def test_one_document_corpus_cannot_make_nsp_negatives_but_sop_works():
    one = make_corpus([[5, 6, 7, 8]])
    with pytest.raises(ValueError, match="at least two documents"):
        PairBuilder(one, 32, "nsp", seed=0)
    assert PairBuilder(one, 32, "sop", seed=0).build(0, 0).label in (0, 1)


def test_documents_too_short_for_a_pair_are_counted():
    corpus = make_corpus([[5, 6, 7], [9], [4], [3, 3], [8]])
    anchors = segment_anchors(corpus, 29)
    assert anchors.skipped_documents == 3
    assert set(anchors.documents.tolist()) == {0, 3}
    assert PairDataset(PairBuilder(corpus, 32, "nsp", seed=0), CLS, SEP).skipped_documents == 3


def test_frame_pair_and_collated_token_type_ids(bert_tokenizer):
    ids, types = frame_pair(np.array([11, 12]), np.array([21, 22, 23]), CLS, SEP)
    assert ids.tolist() == [CLS, 11, 12, SEP, 21, 22, 23, SEP]
    assert types.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    tok = bert_tokenizer
    a, b = (
        np.array(tok(t, add_special_tokens=False)["input_ids"])
        for t in ("I love this candy", "Because it is so sweet")
    )
    short = {"input_ids": torch.tensor([tok.cls_token_id, a[0], tok.sep_token_id, b[0], tok.sep_token_id])}
    short |= {
        "token_type_ids": torch.tensor([0, 0, 0, 1, 1]),
        "next_sentence_label": 0,
        "mask_epoch": 0,
        "index": 1,
    }
    ids, types = frame_pair(a, b, tok.cls_token_id, tok.sep_token_id)
    item = {"input_ids": torch.from_numpy(ids), "token_type_ids": torch.from_numpy(types)}
    item |= {"next_sentence_label": 1, "mask_epoch": 0, "index": 0}
    batch = PairMLMCollator(tok, seed=0)([item, short])
    assert batch["token_type_ids"][0].tolist() == [0] * 6 + [1] * 6
    assert batch["token_type_ids"][1].tolist() == [0, 0, 0, 1, 1] + [0] * 7
    assert batch["attention_mask"][1].tolist() == [1] * 5 + [0] * 7
    assert batch["next_sentence_label"].tolist() == [1, 0]
    text = format_pair_example({k: v[0] for k, v in batch.items()}, tok)
    assert "sentence_a: i love this candy" in text and "sentence_b: because it is so sweet" in text
    assert "# is_next=1" in text and "label: 1" in text and "'[CLS]'" in text


def test_sentence_anchors_are_consecutive_sentences_inside_a_document():
    anchors = sentence_anchors(
        make_corpus([[1, 2, 3], [4], [], [5, 6], [1] * 5])
    )  # sentences 0-2, 3, -, 4-5, 6-10
    assert anchors.ranges.tolist() == [[0, 2], [1, 3], [4, 6], [6, 8], [7, 9], [8, 10], [9, 11]]
    assert anchors.documents.tolist() == [0, 0, 3, 4, 4, 4, 4] and anchors.skipped_documents == 2
