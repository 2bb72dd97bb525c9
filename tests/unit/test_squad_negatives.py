"""Answer-removed unanswerable training questions, on hand-written examples."""

from __future__ import annotations

import pytest

from bertlab.data.squad import Answer, SquadExample
from bertlab.data.squad_datamodule import SQuADv2DataModule
from bertlab.data.squad_negatives import (
    add_answer_removed_negatives,
    sentence_spans,
    without_answer_sentences,
)
from tests.unit.test_squad_data import SQUAD_DIR

CONTEXT = (
    'The lighthouse was built in 1851. Its keeper said "Never again." Storms closed it in 1932! '
    "Who reopened it? Nobody (until 1990.) It still stands"
)


def _example(qid: str, *answers: str) -> SquadExample:
    return SquadExample(
        qid, "Lighthouse", CONTEXT, "When?", tuple(Answer(a, CONTEXT.index(a)) for a in answers)
    )


def test_sentences_end_at_terminal_punctuation_with_closing_quotes_and_brackets():
    sentences = [CONTEXT[start:stop] for start, stop in sentence_spans(CONTEXT)]
    assert sentences == [
        "The lighthouse was built in 1851. ",
        'Its keeper said "Never again." ',
        "Storms closed it in 1932! ",
        "Who reopened it? ",
        "Nobody (until 1990.) ",
        "It still stands",
    ]
    assert "".join(sentences) == CONTEXT
    decimal = "Pi is 3.14 exactly. Yes"
    assert [decimal[a:b] for a, b in sentence_spans(decimal)] == ["Pi is 3.14 exactly. ", "Yes"]


def test_every_sentence_holding_a_gold_answer_is_removed():
    variant = without_answer_sentences(_example("q1", "1851", "in 1932"))
    assert variant.is_impossible and variant.id == "q1#no-answer"
    assert variant.context == (
        'Its keeper said "Never again." Who reopened it? Nobody (until 1990.) It still stands'
    )
    assert (variant.title, variant.question) == ("Lighthouse", "When?")


def test_an_answer_crossing_a_sentence_boundary_removes_both_sentences():
    variant = without_answer_sentences(_example("q2", "1932! Who"))
    assert "1932" not in variant.context and "Who reopened" not in variant.context
    assert variant.context.startswith("The lighthouse was built in 1851.")


def test_no_variant_when_the_answer_is_repeated_elsewhere_or_nothing_remains():
    repeated = SquadExample("q3", "t", "Rome fell. Later, rome rose.", "Which city?", (Answer("Rome", 0),))
    assert without_answer_sentences(repeated) is None  # case-insensitive: "rome" remains
    single = SquadExample("q4", "t", "Only one sentence here.", "What?", (Answer("one", 5),))
    assert without_answer_sentences(single) is None
    assert without_answer_sentences(SquadExample("q5", "t", CONTEXT, "?", ())) is None


def test_fraction_chooses_by_seed_and_question_id_not_order():
    examples = [_example(f"q{i}", "1851") for i in range(200)]
    none = add_answer_removed_negatives(examples, 0.0, seed=1)
    assert none is examples
    every = add_answer_removed_negatives(examples, 1.0, seed=1)
    assert len(every) == 400 and every[:200] == examples
    half = add_answer_removed_negatives(examples, 0.5, seed=1)
    chosen = {e.id for e in half[200:]}
    assert 70 < len(chosen) < 130
    assert chosen == {e.id for e in add_answer_removed_negatives(examples[::-1], 0.5, seed=1)[200:]}
    assert chosen != {e.id for e in add_answer_removed_negatives(examples, 0.5, seed=2)[200:]}
    with pytest.raises(ValueError, match=r"data.answer_removed_negatives=1.5"):
        add_answer_removed_negatives(examples, 1.5, seed=1)


def test_datamodule_adds_negatives_to_training_only():
    def examples(fraction):
        return SQuADv2DataModule(
            str(SQUAD_DIR),
            split="local",
            answer_removed_negatives=fraction,
        ).examples

    plain, augmented = examples(0.0), examples(1.0)
    assert augmented["val"] == plain["val"]
    added = augmented["train"][len(plain["train"]) :]
    assert augmented["train"][: len(plain["train"])] == plain["train"]
    assert added and all(e.is_impossible and e.id.endswith("#no-answer") for e in added)
    with pytest.raises(ValueError, match=r"data.answer_removed_negatives=-0.1"):
        SQuADv2DataModule(str(SQUAD_DIR), answer_removed_negatives=-0.1)
