"""The SQuAD v2.0 metric on the hand-written fixture, against values computed by hand (see comments)."""

from __future__ import annotations

import pytest

from bertlab.data.squad import gold_answers, read_squad
from bertlab.evaluation import squad_v2
from tests.conftest import FIXTURE_DATA

FIXTURE = FIXTURE_DATA / "squad" / "squad_v2" / "dev-v2.0.json"

# Best non-null prediction and null odds per question. At threshold 0 a question with odds > 0 answers "".
PREDICTIONS = {
    "q-normandy-country": ("france.", -3.0),  # EM 1, F1 1
    "q-normans-when": ("the 10th century", -1.0),  # EM 0; F1 vs "10th and 11th centuries": P 1/2, R 1/4 → 1/3
    "q-denmark-name": ("The Normans", 2.0),  # unanswerable; odds > 0 → "" → 1
    "q-keeper": ("Penhallow", -2.0),  # EM 0; F1: P 1, R 1/3 → 1/2
    "q-lamp-lit": ("1851", 0.5),  # raw EM 1 (second gold), but odds > 0 → "" → 0
    "q-roof": ("grey", -0.5),  # unanswerable, answered → 0
    "q-tea-origin": ("China", -4.0),  # EM 1
    "q-tea-oxidised": ("leaves", 1.5),  # unanswerable; "" → 1
    "q-arch": ("150 metres", 3.0),  # raw EM 1; "" → 0
    "q-designer": ("steel arch", 0.1),  # unanswerable; "" → 1
}


@pytest.fixture(scope="module")
def golds() -> dict[str, list[str]]:
    return gold_answers(read_squad(FIXTURE, training=False))


def test_normalize_answer_drops_case_punctuation_articles_and_spaces():
    assert squad_v2.normalize_answer("The  Quick, brown-fox!") == "quick brownfox"
    assert squad_v2.normalize_answer("An apple a day\tthe end") == "apple day end"
    assert squad_v2.normalize_answer("theatre") == "theatre"  # articles only as whole words


def test_exact_and_f1_of_single_pairs():
    assert squad_v2.compute_exact("The Eiffel Tower", "eiffel tower.") == 1
    assert squad_v2.compute_f1("10th and 11th centuries", "the 10th century") == pytest.approx(1 / 3)
    assert squad_v2.compute_f1("", "") == 1.0
    assert squad_v2.compute_f1("", "something") == 0.0
    # common tokens are counted with multiplicity: 2 of 3 on each side
    assert squad_v2.compute_f1("x y y", "y y z") == pytest.approx(2 / 3)


def test_metrics_at_threshold_zero(golds):
    answers = {qid: text for qid, (text, _) in PREDICTIONS.items()}
    odds = {qid: value for qid, (_, value) in PREDICTIONS.items()}
    result = squad_v2.evaluate(golds, answers, odds, na_prob_thresh=0.0)
    # per question (EM, F1): 1,1 | 0,1/3 | 1,1 | 0,1/2 | 0,0 | 0,0 | 1,1 | 1,1 | 0,0 | 1,1
    assert result["total"] == 10
    assert result["exact"] == pytest.approx(50.0)
    assert result["f1"] == pytest.approx(100 * (5 + 1 / 3 + 1 / 2) / 10)
    assert result["HasAns_total"] == 6 and result["NoAns_total"] == 4
    assert result["HasAns_exact"] == pytest.approx(100 * 2 / 6)
    assert result["HasAns_f1"] == pytest.approx(100 * (2 + 1 / 3 + 1 / 2) / 6)
    assert result["NoAns_exact"] == pytest.approx(75.0) and result["NoAns_f1"] == pytest.approx(75.0)


def test_best_threshold_search(golds):
    answers = {qid: text for qid, (text, _) in PREDICTIONS.items()}
    odds = {qid: value for qid, (_, value) in PREDICTIONS.items()}
    result = squad_v2.evaluate(golds, answers, odds, na_prob_thresh=0.0)
    # Start at "all unanswerable" = 4 and admit answers by increasing odds:
    # F1: +1 (tea, -4) +1 (normandy, -3) +1/2 (keeper, -2) +1/3 (when, -1) → 6.833 is the peak; then roof -1 ...
    assert result["best_f1"] == pytest.approx(100 * (4 + 1 + 1 + 1 / 2 + 1 / 3) / 10)
    assert result["best_f1_thresh"] == -1.0
    # EM: +1 (tea) +1 (normandy) → 6 at -3; keeper and when add 0, roof subtracts 1; never above 6 again
    assert result["best_exact"] == pytest.approx(60.0)
    assert result["best_exact_thresh"] == -3.0


def test_without_null_odds_the_official_defaults_apply(golds):
    answers = {qid: "" for qid in golds}
    result = squad_v2.evaluate(golds, answers)
    assert (
        result["exact"] == pytest.approx(40.0) and result["HasAns_f1"] == 0.0 and result["NoAns_f1"] == 100.0
    )
    assert "best_f1" not in result


def test_gold_answers_normalising_to_empty_count_as_no_answer():
    exact, f1 = squad_v2.raw_scores({"q": ["The", "an"]}, {"q": ""})
    assert exact["q"] == 1 and f1["q"] == 1.0
    assert squad_v2.has_answer({"q": ["The"]})["q"] is True  # as the official script: it carries answers


def test_missing_prediction_is_an_error(golds):
    with pytest.raises(KeyError, match="no prediction"):
        squad_v2.evaluate(golds, {"q-arch": "150 metres"})


def test_bertlab_eval_scores_a_predictions_file(tmp_path, capsys):
    import json

    from bertlab.evaluate import main

    predictions, odds = tmp_path / "predictions.json", tmp_path / "null_odds.json"
    predictions.write_text(json.dumps({q: ("" if o > 0 else t) for q, (t, o) in PREDICTIONS.items()}))
    odds.write_text(json.dumps({q: o for q, (_, o) in PREDICTIONS.items()}))
    out = tmp_path / "result.json"
    main(
        [
            "squad",
            "--data",
            str(FIXTURE),
            "--predictions",
            str(predictions),
            "--null-odds",
            str(odds),
            "--out",
            str(out),
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert result == json.loads(out.read_text())
    assert result["exact"] == pytest.approx(50.0) and result["total"] == 10
    assert result["f1"] == pytest.approx(100 * (5 + 1 / 3 + 1 / 2) / 10)
    # thresholded predictions can only lose answers when the threshold is lowered (as with the official script)
    assert result["best_f1"] == pytest.approx(100 * (4 + 1 + 1 + 1 / 2 + 1 / 3) / 10)
