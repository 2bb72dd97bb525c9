"""Decode start/end logits of an example's windows into an answer text, an n-best list and a null score.

Devlin et al. 2019 (BERT §4.3 SQuAD v2.0) and Google's ``run_squad.py``: candidates are (start, end) pairs among
the ``n_best`` highest start and end logits of each window, with both tokens inside the context, start ≤ end and
at most ``max_answer_length`` tokens; a candidate scores start + end logit. The null (no-answer) score of an
example is the minimum over its windows of start[CLS] + end[CLS]. The prediction is "" when
``null_score − best_non_null_score > threshold`` (the null odds, written to ``null_odds.json``).

Pure functions over numpy arrays: the caller gathers every window exactly once (keyed by window index), e.g.
from all DDP ranks, and passes them here together with the contexts keyed by example id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

CLS_INDEX = 0
NO_SPAN_ODDS = 1e9  # null odds of an example whose windows hold no valid span at all: always answered ""


@dataclass(frozen=True)
class WindowLogits:
    """One window's logits (T,) and context character offsets (T, 2), -1 outside the context."""

    example_id: str
    start_logits: np.ndarray
    end_logits: np.ndarray
    offsets: np.ndarray


@dataclass(frozen=True)
class Candidate:
    text: str
    start_char: int
    end_char: int
    start_logit: float
    end_logit: float

    @property
    def score(self) -> float:
        return self.start_logit + self.end_logit


@dataclass
class ExampleDecoding:
    nbest: list[Candidate]  # best first, distinct character spans
    null_score: float

    @property
    def null_odds(self) -> float:
        """null score − best non-null score (large when no valid span exists)."""
        return self.null_score - self.nbest[0].score if self.nbest else NO_SPAN_ODDS

    def best(self, threshold: float) -> Candidate | None:
        """The answer span, or None (answer "") when the null odds exceed ``threshold`` or no span is valid."""
        return None if not self.nbest or self.null_odds > threshold else self.nbest[0]

    def answer(self, threshold: float) -> str:
        best = self.best(threshold)
        return "" if best is None else best.text


@dataclass
class Predictions:
    """Everything the official files hold: answers, n-best lists and null odds, keyed by question id."""

    answers: dict[str, str] = field(default_factory=dict)
    best_non_null: dict[str, str] = field(default_factory=dict)
    nbest: dict[str, list[dict]] = field(default_factory=dict)
    null_odds: dict[str, float] = field(default_factory=dict)


def window_candidates(
    window: WindowLogits, context: str, n_best: int, max_answer_length: int
) -> list[Candidate]:
    """Valid spans among the ``n_best`` top start × top end indices of one window (unsorted)."""
    length = len(window.offsets)
    start_logits, end_logits = window.start_logits[:length], window.end_logits[:length]  # drop batch padding
    in_context = window.offsets[:, 0] >= 0  # (T,)
    starts = np.argsort(-start_logits, kind="stable")[:n_best]
    ends = np.argsort(-end_logits, kind="stable")[:n_best]
    found = []
    for s in starts:
        for e in ends:
            if not (in_context[s] and in_context[e]) or e < s or e - s + 1 > max_answer_length:
                continue
            begin, end = int(window.offsets[s, 0]), int(window.offsets[e, 1])
            found.append(
                Candidate(context[begin:end], begin, end, float(start_logits[s]), float(end_logits[e]))
            )
    return found


def decode_example(
    windows: list[WindowLogits], context: str, n_best: int = 20, max_answer_length: int = 30
) -> ExampleDecoding:
    """n-best distinct spans over all of an example's windows, and its null score."""
    if not windows:
        raise ValueError("decode_example needs at least one window")
    null_score = min(float(w.start_logits[CLS_INDEX] + w.end_logits[CLS_INDEX]) for w in windows)
    candidates = [c for w in windows for c in window_candidates(w, context, n_best, max_answer_length)]
    candidates.sort(key=lambda c: c.score, reverse=True)
    best: dict[tuple[int, int], Candidate] = {}
    for candidate in candidates:  # the same span seen from two overlapping windows counts once
        best.setdefault((candidate.start_char, candidate.end_char), candidate)
        if len(best) == n_best:
            break
    return ExampleDecoding(list(best.values()), null_score)


def nbest_entries(decoding: ExampleDecoding) -> list[dict]:
    """JSON rows of ``nbest_predictions.json``: text, probability (softmax over the list), logits."""
    if not decoding.nbest:
        return [{"text": "", "probability": 1.0, "start_logit": 0.0, "end_logit": 0.0}]
    scores = np.array([c.score for c in decoding.nbest])
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    return [
        {"text": c.text, "probability": float(p), "start_logit": c.start_logit, "end_logit": c.end_logit}
        for c, p in zip(decoding.nbest, probabilities, strict=True)
    ]


def decode_examples(
    windows: Mapping[int, WindowLogits],
    contexts: Mapping[str, str],
    n_best: int = 20,
    max_answer_length: int = 30,
) -> dict[str, ExampleDecoding]:
    """The decoding of every example id in ``contexts`` from its windows (each window index appears once), in
    ``contexts`` order. Raises when an example has no window: the caller did not see all of its inputs."""
    grouped: dict[str, list[WindowLogits]] = {qid: [] for qid in contexts}
    for index in sorted(windows):
        window = windows[index]
        if window.example_id not in grouped:
            raise KeyError(f"window {index} belongs to unknown example id {window.example_id!r}")
        grouped[window.example_id].append(window)
    missing = [qid for qid, group in grouped.items() if not group]
    if missing:
        raise ValueError(f"{len(missing)} example(s) have no window, e.g. {missing[:3]}")
    return {
        qid: decode_example(group, contexts[qid], n_best, max_answer_length) for qid, group in grouped.items()
    }


def decode(
    windows: Mapping[int, WindowLogits],
    contexts: Mapping[str, str],
    n_best: int = 20,
    max_answer_length: int = 30,
    threshold: float = 0.0,
) -> Predictions:
    """Predictions for every example id in ``contexts`` (see :func:`decode_examples`), "" where the null odds
    exceed ``threshold``."""
    predictions = Predictions()
    for qid, decoding in decode_examples(windows, contexts, n_best, max_answer_length).items():
        predictions.answers[qid] = decoding.answer(threshold)
        predictions.best_non_null[qid] = decoding.nbest[0].text if decoding.nbest else ""
        predictions.nbest[qid] = nbest_entries(decoding)
        predictions.null_odds[qid] = decoding.null_odds
    return predictions
