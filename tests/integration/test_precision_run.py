"""A run records the precision it used and why (trainer.precision=auto probed, or explicit)."""

from __future__ import annotations

import json

import pytest
import yaml

from bertlab import precision
from bertlab.train import train
from tests.conftest import SMALL_SPLITS


@pytest.mark.parametrize(
    ("override", "expected"),
    [([], ("bf16-mixed", "probe")), (["trainer.precision=32-true"], ("32-true", "explicit"))],
)
def test_run_saves_the_precision_choice(compose, tmp_path, monkeypatch, override, expected):
    monkeypatch.setattr(precision, "probe_cpu", lambda hidden, inner: {"fp32": 100e9, "bf16": 400e9})
    train(compose("debug=smoke", *SMALL_SPLITS, "data.max_length=32", "test=false", *override))
    saved = json.loads((tmp_path / "run" / "precision.json").read_text())
    assert (saved["precision"], saved["source"]) == expected
    hparams = yaml.safe_load(next((tmp_path / "run" / "csv").rglob("hparams.yaml")).read_text())
    assert hparams["trainer"]["precision"] == expected[0]
    assert hparams["precision_choice"]["source"] == expected[1]
