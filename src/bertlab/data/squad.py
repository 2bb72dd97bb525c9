"""Read official SQuAD JSON (v1.1 and v2.0, plain or ``.json.gz``) into validated examples.

Rajpurkar et al. 2016 ("SQuAD: 100,000+ Questions"), 2018 ("Know What You Don't Know", v2.0); source chapter
Block 9. The schema is checked while reading, and every error names the file and the JSON path of the
offending value (``$.data[3].paragraphs[0].qas[2].answers[1]``). Each answer's ``text`` must appear at
``context[answer_start:]``: a training set skips a mismatching answer with a counted warning (and fails when
more than ``max_bad_fraction`` of its answers are bad); an evaluation set keeps every gold string, because the
official metric only compares strings. An unanswerable question (``is_impossible``) that carries answers is
an error in both.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bertlab.data import files
from bertlab.errors import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    text: str
    start: int  # character offset into the context


@dataclass(frozen=True)
class SquadExample:
    """One question about one context. ``answers`` is empty exactly when the question is unanswerable."""

    id: str
    title: str
    context: str
    question: str
    answers: tuple[Answer, ...]

    @property
    def is_impossible(self) -> bool:
        return not self.answers


@dataclass
class _Reader:
    path: Path
    training: bool
    questions_only: bool = False  # prediction inputs: answers, if any, are not read
    bad_answers: int = 0
    total_answers: int = 0

    def fail(self, where: str, message: str) -> DataError:
        return DataError(f"{self.path}: {where}: {message}")

    def field(self, node: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(node, dict):
            raise self.fail(where, f"expected an object, found {type(node).__name__}")
        if key not in node:
            raise self.fail(where, f"missing key {key!r}")
        value = node[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(f"{where}.{key}", f"expected {names}, found {type(value).__name__}")
        return value

    def answers(self, qa: dict, context: str, where: str) -> tuple[Answer, ...]:
        impossible = qa.get("is_impossible", False)
        if not isinstance(impossible, bool):
            raise self.fail(f"{where}.is_impossible", f"expected a boolean, found {impossible!r}")
        raw = self.field(qa, "answers", list, where)
        if impossible and raw:
            raise self.fail(where, f"is_impossible is true but the question carries {len(raw)} answer(s)")
        if not impossible and not raw:
            raise self.fail(where, "an answerable question (is_impossible false or absent) has no answers")
        kept = []
        for k, node in enumerate(raw):
            at = f"{where}.answers[{k}]"
            answer = Answer(self.field(node, "text", str, at), self.field(node, "answer_start", int, at))
            self.total_answers += 1
            if context[answer.start : answer.start + len(answer.text)] == answer.text or not self.training:
                kept.append(answer)
                continue
            self.bad_answers += 1
            log.warning(
                "%s: %s: answer %r is not at answer_start=%d; skipped",
                self.path,
                at,
                answer.text,
                answer.start,
            )
        return tuple(kept)

    def paragraph(self, node: dict, title: str, where: str) -> list[SquadExample]:
        context = self.field(node, "context", str, where)
        examples = []
        for j, qa in enumerate(self.field(node, "qas", list, where)):
            at = f"{where}.qas[{j}]"
            qid = self.field(qa, "id", str, at)
            question = self.field(qa, "question", str, at)
            if self.questions_only:
                examples.append(SquadExample(qid, title, context, question, ()))
                continue
            answers = self.answers(qa, context, at)
            if answers or qa.get("is_impossible", False):  # else every answer was skipped (training)
                examples.append(SquadExample(qid, title, context, question, answers))
        return examples

    def read(self, document: Any) -> list[SquadExample]:
        examples: list[SquadExample] = []
        for i, article in enumerate(self.field(document, "data", list, "$")):
            where = f"$.data[{i}]"
            title = self.field(article, "title", str, where)
            for p, paragraph in enumerate(self.field(article, "paragraphs", list, where)):
                examples.extend(self.paragraph(paragraph, title, f"{where}.paragraphs[{p}]"))
        return examples


def _read(reader: _Reader) -> list[SquadExample]:
    try:
        document = json.loads(files.open_text(reader.path))
    except json.JSONDecodeError as err:
        raise DataError(
            f"{reader.path}: line {err.lineno} column {err.colno}: invalid JSON ({err.msg})"
        ) from err
    examples = reader.read(document)
    check_unique_ids([e.id for e in examples], str(reader.path))
    return examples


def check_unique_ids(ids: list[str], origin: str) -> None:
    """Question ids key predictions and gold answers: each must occur once."""
    seen: set[str] = set()
    for qid in ids:
        if qid in seen:
            raise DataError(f"{origin}: question id {qid!r} occurs more than once")
        seen.add(qid)


def read_squad(path: str | Path, training: bool, max_bad_fraction: float = 0.01) -> list[SquadExample]:
    """Validated examples of one SQuAD file, in file order.

    ``training=True`` skips answers that are not at their ``answer_start`` (and questions left without any)
    with a counted warning, raising when more than ``max_bad_fraction`` of all answers are bad.
    """
    reader = _Reader(Path(path), training)
    examples = _read(reader)
    if reader.bad_answers:
        fraction = reader.bad_answers / max(reader.total_answers, 1)
        log.warning(
            "%s: skipped %d of %d answers not found at answer_start",
            path,
            reader.bad_answers,
            reader.total_answers,
        )
        if fraction > max_bad_fraction:
            raise DataError(
                f"{path}: {reader.bad_answers} of {reader.total_answers} answers ({fraction:.1%}) are not at their "
                f"answer_start, above data.max_bad_answer_fraction={max_bad_fraction}"
            )
    return examples


def read_squad_questions(path: str | Path) -> list[SquadExample]:
    """The questions of a SQuAD file (v1.1 or v2.0 layout) with their contexts, for prediction: ``answers`` and
    ``is_impossible`` are neither required nor read (every example's ``answers`` is empty)."""
    return _read(_Reader(Path(path), training=False, questions_only=True))


def gold_answers(examples: list[SquadExample]) -> dict[str, list[str]]:
    """Question id → gold answer strings ([] for an unanswerable question), for the v2.0 metric."""
    return {e.id: [a.text for a in e.answers] for e in examples}


def split_by_title(
    examples: list[SquadExample], titles: list[str]
) -> tuple[list[SquadExample], list[SquadExample]]:
    """(examples whose article title is in ``titles``, the others), each in file order."""
    chosen = set(titles)
    return [e for e in examples if e.title in chosen], [e for e in examples if e.title not in chosen]
