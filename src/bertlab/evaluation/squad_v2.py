"""The SQuAD v2.0 metric with the semantics of the official ``evaluate-v2.0.py`` (Rajpurkar et al. 2018).

Answers are normalised (lower-case, punctuation and the articles a/an/the removed, whitespace collapsed);
``exact`` and ``f1`` (bag-of-tokens overlap) take the maximum over the gold answers, and an unanswerable
question's gold is ``[""]`` (gold strings that normalise to "" are dropped first). With null odds (or no-answer
probabilities) a question is predicted unanswerable when its odds exceed ``na_prob_thresh``; ``best_exact`` /
``best_f1`` sweep that threshold over the sorted odds exactly as the official ``find_best_thresh`` does.
Written for bertlab from the published semantics; the tests check hand-computed values.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Mapping

from bertlab.evaluation import korquad

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split() if text else []


def compute_exact(gold: str, prediction: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(prediction))


def compute_f1(gold: str, prediction: str) -> float:
    gold_tokens, predicted_tokens = _tokens(gold), _tokens(prediction)
    if not gold_tokens or not predicted_tokens:
        return float(gold_tokens == predicted_tokens)  # both empty → 1, else 0
    common = sum((collections.Counter(gold_tokens) & collections.Counter(predicted_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def raw_scores(
    golds: Mapping[str, list[str]], predictions: Mapping[str, str]
) -> tuple[dict[str, int], dict[str, float]]:
    """Per-question exact and F1, maximised over the gold answers (``[""]`` for an unanswerable question)."""
    missing = [qid for qid in golds if qid not in predictions]
    if missing:
        raise KeyError(f"{len(missing)} question(s) have no prediction, e.g. {missing[:3]}")
    exact, f1 = {}, {}
    for qid, answers in golds.items():
        answers = [a for a in answers if normalize_answer(a)] or [""]
        exact[qid] = max(compute_exact(a, predictions[qid]) for a in answers)
        f1[qid] = max(compute_f1(a, predictions[qid]) for a in answers)
    return exact, f1


def has_answer(golds: Mapping[str, list[str]]) -> dict[str, bool]:
    """As the official script: a question is answerable when it carries any gold answer at all."""
    return {qid: bool(answers) for qid, answers in golds.items()}


def apply_no_answer_threshold(
    scores: Mapping[str, float], na_probs: Mapping[str, float], has_ans: Mapping[str, bool], threshold: float
) -> dict[str, float]:
    """A question whose odds exceed ``threshold`` is answered "": it scores 1 if unanswerable, else 0."""
    return {qid: float(not has_ans[qid]) if na_probs[qid] > threshold else s for qid, s in scores.items()}


def find_best_threshold(
    predictions: Mapping[str, str],
    scores: Mapping[str, float],
    na_probs: Mapping[str, float],
    has_ans: Mapping[str, bool],
) -> tuple[float, float]:
    """(best score in %, its threshold): start from "all unanswerable" and admit answers in order of odds."""
    current = best = sum(1 for qid in scores if not has_ans[qid])
    best_threshold = 0.0
    for qid in sorted(na_probs, key=lambda k: na_probs[k]):
        if qid not in scores:
            continue
        if has_ans[qid]:
            current += scores[qid]
        elif predictions[qid]:
            current -= 1
        if current > best:
            best, best_threshold = current, na_probs[qid]
    return 100.0 * best / len(scores), best_threshold


def _summary(exact: Mapping[str, float], f1: Mapping[str, float], qids: list[str]) -> dict[str, float]:
    total = len(qids)
    return {
        "exact": 100.0 * sum(exact[q] for q in qids) / total,
        "f1": 100.0 * sum(f1[q] for q in qids) / total,
        "total": total,
    }


def evaluate(
    golds: Mapping[str, list[str]],
    predictions: Mapping[str, str],
    na_probs: Mapping[str, float] | None = None,
    na_prob_thresh: float = 1.0,
    char_f1: bool = False,
) -> dict[str, float]:
    """The official output dict: exact, f1, total, HasAns_*, NoAns_* and, with ``na_probs``, best_*.

    Without ``na_probs`` every question has odds 0 (as the official script); ``na_prob_thresh`` defaults to
    the official 1.0. ``char_f1`` adds KorQuAD v1's ``char_exact`` and ``char_f1`` (:mod:`korquad`) at
    the same threshold.
    """
    has_ans = has_answer(golds)
    exact_raw, f1_raw = raw_scores(golds, predictions)
    odds = dict(na_probs) if na_probs is not None else {qid: 0.0 for qid in golds}
    missing = [qid for qid in golds if qid not in odds]
    if missing:
        raise KeyError(f"{len(missing)} question(s) have no null odds, e.g. {missing[:3]}")
    exact = apply_no_answer_threshold(exact_raw, odds, has_ans, na_prob_thresh)
    f1 = apply_no_answer_threshold(f1_raw, odds, has_ans, na_prob_thresh)
    result = _summary(exact, f1, list(golds))
    if char_f1:
        scored = zip(("char_exact", "char_f1"), korquad.raw_scores(golds, predictions), strict=True)
        for name, raw in scored:
            kept = apply_no_answer_threshold(raw, odds, has_ans, na_prob_thresh)
            result[name] = 100.0 * sum(kept.values()) / len(kept)
    for prefix, wanted in (("HasAns", True), ("NoAns", False)):
        qids = [qid for qid in golds if has_ans[qid] is wanted]
        if qids:
            result.update({f"{prefix}_{k}": v for k, v in _summary(exact, f1, qids).items()})
    if na_probs is not None:
        result["best_exact"], result["best_exact_thresh"] = find_best_threshold(
            predictions, exact_raw, odds, has_ans
        )
        result["best_f1"], result["best_f1_thresh"] = find_best_threshold(predictions, f1_raw, odds, has_ans)
    return result
