"""Unanswerable training questions made from answerable ones: the context without the sentences that answer.

SQuAD v2.0's unanswerable questions are written against their own paragraph, so "is the answer in this
context?" cannot be told from the article. When a training set's unanswerable questions come from a few
articles only (``split=local``: 8 articles), a model learns which articles have them instead. Removing every
sentence that holds a gold answer from an answerable question's context gives an on-topic context that no
longer answers it, in every article. A variant is kept only when no gold answer string (case-insensitive)
is left in the shortened context and at least one sentence remains.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import replace

from bertlab.data.squad import SquadExample

log = logging.getLogger(__name__)

# a sentence ends at . ! or ? (closing quotes and brackets included) followed by whitespace, or at the end
_SENTENCE = re.compile(r"\S.*?(?:[.!?][\"'”’)\]]*(?=\s)|$)\s*", re.DOTALL)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, stop) character spans of ``text``'s sentences, each with its trailing whitespace."""
    return [m.span() for m in _SENTENCE.finditer(text)]


def without_answer_sentences(example: SquadExample) -> SquadExample | None:
    """``example`` made unanswerable by cutting the sentences that overlap a gold answer, or None if it can't be.

    None when the example is already unanswerable, when nothing would remain, or when a gold answer's text is
    still in the remaining context (another sentence repeats it, so the question may still be answerable).
    """
    if example.is_impossible:
        return None
    answers = [(a.start, a.start + len(a.text)) for a in example.answers]
    kept = [
        example.context[start:stop]
        for start, stop in sentence_spans(example.context)
        if not any(start < a_stop and a_start < stop for a_start, a_stop in answers)
    ]
    context = "".join(kept).strip()
    lowered = context.lower()
    if not context or any(a.text.lower() in lowered for a in example.answers):
        return None
    return replace(example, id=f"{example.id}#no-answer", context=context, answers=())


def check_fraction(fraction: float) -> None:
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"data.answer_removed_negatives={fraction}: expected a fraction in [0, 1]")


def _chosen(question_id: str, seed: int, fraction: float) -> bool:
    digest = hashlib.sha256(f"{seed}:{question_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def add_answer_removed_negatives(
    examples: list[SquadExample], fraction: float, seed: int
) -> list[SquadExample]:
    """``examples`` followed by unanswerable variants of about ``fraction`` of the answerable ones.

    Which questions get a variant depends only on (seed, question id), not on file order.
    """
    check_fraction(fraction)
    if fraction == 0.0:
        return examples
    candidates = [e for e in examples if not e.is_impossible and _chosen(e.id, seed, fraction)]
    made = [v for v in map(without_answer_sentences, candidates) if v is not None]
    log.info(
        "added %d answer-removed unanswerable training questions (%d chosen; %d skipped: a gold answer is "
        "repeated outside its sentence or nothing would remain)",
        len(made),
        len(candidates),
        len(candidates) - len(made),
    )
    return examples + made
