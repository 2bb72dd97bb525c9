"""KorQuAD v1 character F1 and exact match, hand-computed, beside SQuAD's word metric."""

from __future__ import annotations

import pytest

from bertlab.evaluation import korquad, squad_v2


def test_particle_attached_prediction_gets_character_credit_not_word_credit():
    # gold 서울 (2 chars), prediction 서울에서 (4): common 서, 울 → P = 2/4, R = 2/2, F1 = 2·.5·1/1.5 = 2/3
    assert korquad.compute_char_f1("서울", "서울에서") == pytest.approx(2 / 3)
    assert squad_v2.compute_f1("서울", "서울에서") == 0.0


def test_spaces_are_dropped_for_f1_but_count_for_exact():
    assert korquad.compute_char_f1("이순신 장군", "이순신장군") == 1.0
    assert korquad.compute_exact("이순신 장군", "이순신장군") == 0
    # gold 세종대왕 vs 세종 대왕은: chars 세 종 대 왕 / 세 종 대 왕 은 → P = 4/5, R = 1, F1 = 8/9
    assert korquad.compute_char_f1("세종대왕", "세종 대왕은") == pytest.approx(8 / 9)


def test_korquad_normalisation_drops_korean_brackets_and_quotes():
    assert korquad.compute_exact("《토지》", "토지") == 1
    assert squad_v2.compute_exact("《토지》", "토지") == 0  # 《》 are not ASCII punctuation
    assert korquad.normalize_answer("‘A’ (B) <C> 〈d〉, e.") == "a b c d e"
    # repeated characters count with multiplicity: 하하하 vs 하 → P = 1, R = 1/3, F1 = 0.5
    assert korquad.compute_char_f1("하하하", "하") == pytest.approx(0.5)
    assert korquad.compute_char_f1("가나", "다라") == 0.0


def test_evaluate_reports_char_metrics_beside_word_metrics():
    golds = {"q1": ["서울", "서울특별시"], "q2": ["1945년"], "q3": ["광복절"]}
    predictions = {"q1": "서울에서", "q2": "1945년 8월", "q3": "광복절"}
    result = squad_v2.evaluate(golds, predictions, char_f1=True)
    # q1: max(2/3, 서울 vs 서울특별시: common 2, P 2/4, R 2/5 → 4/9) = 2/3; q2: 5 of 7 chars, R 1 → 5/6; q3: 1
    assert result["char_f1"] == pytest.approx(100 * (2 / 3 + 5 / 6 + 1) / 3)
    assert result["char_exact"] == pytest.approx(100 / 3)
    # SQuAD word F1: q1 0, q2 "1945년" vs "1945년 8월" → P 1/2, R 1 → 2/3, q3 1
    assert result["f1"] == pytest.approx(100 * (0 + 2 / 3 + 1) / 3)
    assert "char_f1" not in squad_v2.evaluate(golds, predictions)


def test_char_metrics_follow_the_null_threshold():
    golds = {"q1": ["서울"], "q2": []}
    predictions = {"q1": "서울", "q2": "부산"}
    result = squad_v2.evaluate(golds, predictions, {"q1": 0.5, "q2": 2.0}, na_prob_thresh=1.0, char_f1=True)
    assert result["char_f1"] == 100.0 and result["char_exact"] == 100.0  # q2 answered "" and unanswerable
    result = squad_v2.evaluate(golds, predictions, {"q1": 0.5, "q2": 0.0}, na_prob_thresh=1.0, char_f1=True)
    assert result["char_f1"] == 50.0


def test_bertlab_eval_scores_a_korquad_predictions_file(tmp_path, capsys):
    import json

    from bertlab.evaluate import main
    from tests.conftest import FIXTURE_DATA

    predictions = {  # gold: 서울특별시, 한강, 1394년, 부산광역시, 해운대 해수욕장
        "6566495-0-0": "서울특별시는",  # 5 of 6 characters: F1 = 2·(5/6)·1/(11/6) = 10/11
        "6566495-0-1": "한강",
        "6566495-0-2": "1394년에",  # 5 of 6: 10/11
        "6566496-0-0": "인천",  # 0
        "6566496-0-1": "《해운대 해수욕장》",  # KorQuAD drops 《》: exact and F1 1; SQuAD keeps them: exact 0
    }
    path = tmp_path / "predictions.json"
    path.write_text(json.dumps(predictions, ensure_ascii=False), encoding="utf-8")
    main(
        [
            "squad",
            "--data",
            str(FIXTURE_DATA / "korquad" / "KorQuAD_v1.0_dev.json"),
            "--predictions",
            str(path),
            "--char-f1",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == 5
    assert result["char_f1"] == pytest.approx(100 * (10 / 11 + 1 + 10 / 11 + 0 + 1) / 5)
    assert result["char_exact"] == pytest.approx(100 * 2 / 5)
    assert result["exact"] == pytest.approx(
        100 * 1 / 5
    )  # SQuAD's normalisation keeps the space in 해운대 해수욕장
