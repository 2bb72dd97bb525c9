"""A SQuAD run writes the official prediction files; ``bertlab-eval run`` re-evaluates its checkpoint and export."""

from __future__ import annotations

import json

import pytest

from bertlab import precision
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


def test_evaluation_runs_at_the_probes_choice_or_the_given_precision(compose, tmp_path, monkeypatch):
    cfg = compose("experiment=squad_v2_local", "debug=smoke", *SQUAD_SMOKE, data_dir=FIXTURE_DATA / "squad")
    train(cfg)
    run_dir = tmp_path / "run"
    save_run_config(cfg, run_dir)
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    fp32 = evaluate_run(run_dir, checkpoint, "val", ["trainer.precision=32-true"])
    monkeypatch.setattr(precision, "probe_cpu", lambda hidden, inner: {"fp32": 100e9, "bf16": 400e9})
    bf16 = evaluate_run(run_dir, checkpoint, "val", ["trainer.precision=auto", f"paths.cache_dir={tmp_path}"])
    weights = evaluate_run(run_dir, checkpoint, "val", ["trainer.precision=bf16-true"])
    assert (fp32["precision"], bf16["precision"], weights["precision"]) == (
        "32-true",
        "bf16-mixed",
        "bf16-true",
    )
    for run in (bf16, weights):  # the same model in bf16: the loss moves, by bf16 rounding only
        assert run["val/loss"] != fp32["val/loss"]
        assert run["val/loss"] == pytest.approx(fp32["val/loss"], rel=0.05)
        assert run["val/total"] == fp32["val/total"] == 5
