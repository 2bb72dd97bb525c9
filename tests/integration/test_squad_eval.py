"""A SQuAD run writes the official prediction files; ``bertlab-eval run`` re-evaluates its checkpoint and export."""

from __future__ import annotations

import json

import pytest

from bertlab.callbacks.reports import PREDICTION_FILES
from bertlab.evaluate import evaluate_run
from bertlab.export import export_run
from bertlab.train import train
from tests.conftest import FIXTURE_DATA, save_run_config
from tests.integration.test_train_smoke import SQUAD_SMOKE


def test_squad_run_writes_predictions_and_checkpoint_evaluates(compose, tmp_path):
    cfg = compose("experiment=squad_v2_local", "debug=smoke", *SQUAD_SMOKE, data_dir=FIXTURE_DATA / "squad")
    train(cfg)
    run_dir = tmp_path / "run"
    predictions = run_dir / "predictions" / "test"
    answers = json.loads((predictions / "predictions.json").read_text())
    assert set(answers) == {
        "q-normandy-country",
        "q-normans-when",
        "q-denmark-name",
        "q-tea-origin",
        "q-tea-oxidised",
    }
    for name in PREDICTION_FILES:
        assert set(json.loads((predictions / name).read_text())) == set(answers)
    save_run_config(cfg, run_dir)
    result = evaluate_run(run_dir, run_dir / "checkpoints" / "last.ckpt", "val", [])
    assert result["val/total"] == 5 and 0.0 <= result["val/f1"] <= 100.0
    assert {"val/HasAns_f1", "val/NoAns_f1", "val/best_f1", "val/best_f1_thresh"} <= set(result)
    assert (run_dir / "eval" / "predictions" / "val" / "null_odds.json").is_file()
    exported = export_run(run_dir, run_dir / "checkpoints" / "last.ckpt", tmp_path / "hf")
    again = evaluate_run(run_dir, None, "val", [], exported=exported)
    assert again["val/f1"] == pytest.approx(result["val/f1"]) and again["val/loss"] == pytest.approx(
        result["val/loss"], rel=1e-2
    )
