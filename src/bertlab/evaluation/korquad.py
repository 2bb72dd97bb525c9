"""KorQuAD v1.0 scoring: exact match and F1 over characters (Lim et al. 2019, the official ``evaluate-v1.0.py``).

Korean particles attach to words ("서울에서" vs gold "서울"), so SQuAD's bag-of-words F1 gives such a prediction
0; KorQuAD's script scores characters instead. Normalisation as the official script: quotes, 《》〈〉<>, round
brackets and ‘’ become spaces, then lower-case, ASCII punctuation removed, whitespace collapsed; F1 counts
the characters of the normalised text with the spaces dropped. Written from the published semantics; the
tests check hand-computed values.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Mapping

_SPACED = re.compile("['\"《》<>〈〉()‘’]")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """KorQuAD's normalisation: symbols to spaces, lower-case, no ASCII punctuation, single spaces."""
    text = _SPACED.sub(" ", text).lower()
    return " ".join("".join(ch for ch in text if ch not in _PUNCTUATION).split())


def compute_exact(gold: str, prediction: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(prediction))


def compute_char_f1(gold: str, prediction: str) -> float:
    """F1 over the characters of the normalised strings, spaces dropped (0 when either side is empty)."""
    gold_chars = normalize_answer(gold).replace(" ", "")
    predicted_chars = normalize_answer(prediction).replace(" ", "")
    common = sum((collections.Counter(gold_chars) & collections.Counter(predicted_chars)).values())
    if common == 0:
        return float(not gold_chars and not predicted_chars)  # an unanswerable question answered ""
    precision, recall = common / len(predicted_chars), common / len(gold_chars)
    return 2 * precision * recall / (precision + recall)


def raw_scores(
    golds: Mapping[str, list[str]], predictions: Mapping[str, str]
) -> tuple[dict[str, int], dict[str, float]]:
    """Per-question KorQuAD exact and character F1, maximised over the gold answers (``[""]`` if none)."""
    exact, f1 = {}, {}
    for qid, answers in golds.items():
        answers = answers or [""]
        exact[qid] = max(compute_exact(a, predictions[qid]) for a in answers)
        f1[qid] = max(compute_char_f1(a, predictions[qid]) for a in answers)
    return exact, f1
