"""Every experiment composes and smoke-trains on CPU with a tiny model on the fixture corpus."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from bertlab.config import config_dir
from bertlab.train import train
from tests.conftest import SMALL_SPLITS

EXPERIMENTS = sorted(p.stem for p in (Path(config_dir()) / "experiment").glob("*.yaml"))
# Experiments whose data is not Shakespeare bring their own smoke overrides (fixture files) here.
SMOKE_OVERRIDES: dict[str, list[str]] = {}


def test_default_run_trains_and_checkpoints_load_with_weights_only(compose, tmp_path):
    cfg = compose("debug=smoke", *SMALL_SPLITS, "data.block_size=32")
    metric = train(cfg)
    assert metric is not None and math.isfinite(metric)
    checkpoints = sorted((tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    assert any(p.name == "last.ckpt" for p in checkpoints)
    state = torch.load(checkpoints[0], weights_only=True, map_location="cpu")
    assert any(k.startswith("encoder.") for k in state["state_dict"])
    assert (tmp_path / "run" / "tokenizer" / "tokenizer.json").is_file()
    assert (tmp_path / "run" / "csv" / "metrics.csv").is_file()


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_smoke_trains(compose, experiment):
    overrides = SMOKE_OVERRIDES.get(experiment, [*SMALL_SPLITS, "data.block_size=32"])
    cfg = compose(f"experiment={experiment}", "debug=smoke", *overrides)
    metric = train(cfg)
    assert metric is not None and math.isfinite(metric)
