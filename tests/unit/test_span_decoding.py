"""Span decoding: candidate rules, the null score over windows, and spans that map back to the context."""

from __future__ import annotations

import numpy as np
import pytest

from bertlab.data.squad import read_squad
from bertlab.data.squad_features import make_windows
from bertlab.evaluation.span_decoding import WindowLogits, decode, decode_example
from tests.conftest import FIXTURE_DATA

CONTEXT = "alpha beta gamma delta"
# [CLS] q [SEP] alpha beta gamma delta [SEP]: positions 0..7; context tokens 3..6
OFFSETS = np.array([[-1, -1], [-1, -1], [-1, -1], [0, 5], [6, 10], [11, 16], [17, 22], [-1, -1]])


def _window(start: list[float], end: list[float], example_id: str = "q", offsets=OFFSETS) -> WindowLogits:
    return WindowLogits(
        example_id, np.array(start, dtype=np.float32), np.array(end, dtype=np.float32), offsets
    )


def test_best_span_stays_inside_the_context_and_respects_order_and_length():
    # the question token 1 has the highest logits but is outside the context; end before start is invalid
    start = [0.0, 9.0, 0, 1.0, 0, 5.0, 0, 0]
    end = [0.0, 9.0, 0, 4.0, 0, -3.0, -3.0, 0]
    decoding = decode_example([_window(start, end)], CONTEXT, n_best=20, max_answer_length=30)
    assert decoding.nbest[0].text == "alpha"  # gamma→alpha would end before it starts
    assert all(c.text == CONTEXT[c.start_char : c.end_char] for c in decoding.nbest)
    short = decode_example([_window([0, 0, 0, 5.0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 5.0, 0])], CONTEXT, 20, 3)
    assert short.nbest[0].text != "alpha beta gamma delta"  # 4 tokens > max_answer_length 3


def test_null_score_is_the_minimum_over_windows_and_threshold_decides():
    first = _window([3.0, 0, 0, 1.0, 0, 0, 0, 0], [3.0, 0, 0, 1.0, 0, 0, 0, 0])  # null 6, best span 2
    second = _window([1.0, 0, 0, 0, 0, 0, 0, 0], [0.5, 0, 0, 0, 0, 0, 0, 0])  # null 1.5
    decoding = decode_example([first, second], CONTEXT)
    assert decoding.null_score == pytest.approx(1.5)
    assert decoding.null_odds == pytest.approx(1.5 - 2.0)
    assert decoding.answer(threshold=0.0) == "alpha"
    assert decoding.answer(threshold=-1.0) == ""


def test_overlapping_windows_count_a_span_once_and_logits_beyond_the_window_are_ignored():
    padded = _window([0, 0, 0, 4.0, 0, 0, 0, 0, 99.0], [0, 0, 0, 4.0, 0, 0, 0, 0, 99.0])  # batch padding at 8
    decoding = decode_example(
        [padded, _window([0, 0, 0, 3.0, 0, 0, 0, 0], [0, 0, 0, 3.0, 0, 0, 0, 0])], CONTEXT
    )
    texts = [c.text for c in decoding.nbest]
    assert texts.count("alpha") == 1 and decoding.nbest[0].score == pytest.approx(8.0)


def test_decode_gathers_windows_by_example_and_requires_every_example():
    windows = {
        0: _window([0, 0, 0, 2.0, 0, 0, 0, 0], [0, 0, 0, 2.0, 0, 0, 0, 0], "a"),
        1: _window([5.0] + [0] * 7, [5.0] + [0] * 7, "b"),
    }
    predictions = decode(windows, {"a": CONTEXT, "b": CONTEXT})
    assert predictions.answers == {"a": "alpha", "b": ""}
    assert predictions.best_non_null["b"] != ""
    assert predictions.null_odds["b"] > 0 > predictions.null_odds["a"]
    assert sum(row["probability"] for row in predictions.nbest["a"]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no window"):
        decode({0: windows[0]}, {"a": CONTEXT, "b": CONTEXT})


def test_labelled_windows_decode_back_to_the_exact_answer_text(bert_tokenizer):
    """Logits peaked at each window's labels decode to exactly the gold string of the context."""
    examples = read_squad(FIXTURE_DATA / "squad" / "squad_v2" / "dev-v2.0.json", training=True)
    windows = make_windows(examples, bert_tokenizer, max_seq_length=48, doc_stride=12, max_query_length=16)
    logits = {}
    for i, w in enumerate(windows):
        start, end = np.zeros(len(w.input_ids), np.float32), np.zeros(len(w.input_ids), np.float32)
        start[w.start_position] = end[w.end_position] = 10.0
        logits[i] = WindowLogits(examples[w.example_index].id, start, end, w.offsets)
    predictions = decode(logits, {e.id: e.context for e in examples})
    for example in examples:
        expected = example.answers[0].text if example.answers else ""
        assert predictions.answers[example.id] == expected
        for row in predictions.nbest[example.id]:
            assert row["text"] in example.context


def test_two_rank_sharding_gives_every_window_once_and_the_same_predictions(bert_tokenizer, monkeypatch):
    """Evaluation batches as two DDP ranks would draw them; merged by window index they decode as one process."""
    import bertlab.data.bucketing as bucketing
    import bertlab.data.sampling as sampling

    examples = read_squad(FIXTURE_DATA / "squad" / "squad_v2" / "dev-v2.0.json", training=False)
    windows = make_windows(examples, bert_tokenizer, max_seq_length=48, doc_stride=12, max_query_length=16)
    rng = np.random.default_rng(0)
    logits = {
        i: WindowLogits(examples[w.example_index].id, *rng.normal(size=(2, len(w.input_ids))), w.offsets)
        for i, w in enumerate(windows)
    }
    shards = []
    for rank in (0, 1):
        monkeypatch.setattr(sampling, "_rank_and_world", lambda rank=rank: (rank, 2))
        monkeypatch.setattr(bucketing, "_rank_and_world", lambda rank=rank: (rank, 2))
        batches = bucketing.BucketBatchSampler([len(w.input_ids) for w in windows], 4, train=False, seed=0)
        shards.append([index for batch in batches for _, index in batch])
    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == list(range(len(windows)))
    merged = {i: logits[i] for shard in shards for i in shard}
    contexts = {e.id: e.context for e in examples}
    assert decode(merged, contexts).answers == decode(logits, contexts).answers
