"""Exact distributed evaluation: CoLA MCC and SQuAD EM/F1 under 2-process DDP equal the 1-process values.

No sampler padding duplicates an example, and every SQuAD window of an example is gathered before decoding.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_DATA, subprocess_env
from tests.integration.test_train_smoke import SQUAD_SMOKE

CASES = {
    # 8 out-of-domain rows, batches of 3: ranks get 4 rows each, uneven batches
    "cola": (["experiment=cola", "data.eval_batch_size=3"], ["test/mcc", "test/accuracy", "test/loss"]),
    "squad_v2_local": (
        [
            "experiment=squad_v2_local",
            f"paths.data_dir={FIXTURE_DATA / 'squad'}",
            *SQUAD_SMOKE,
            "data.eval_batch_size=3",
        ],
        ["test/exact", "test/f1", "test/HasAns_f1", "test/NoAns_f1", "test/best_f1"],
    ),
}


def _evaluate(tmp_path: Path, name: str, overrides: list[str], *extra: str) -> Path:
    """An evaluation-only run (random tiny model) on the fixture; returns its run directory."""
    run_dir = tmp_path / name
    env = subprocess_env(tmp_path)
    command = [
        sys.executable,
        "-m",
        "bertlab.train",
        "debug=smoke",
        f"paths.data_dir={FIXTURE_DATA}",
        "train=false",
        "test=true",
        "export=false",
        "trainer.precision=32-true",
        "trainer.limit_test_batches=null",
        f"hydra.run.dir={run_dir}",
        *overrides,
        *extra,
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=420)
    assert result.returncode == 0, result.stderr[-4000:]
    return run_dir


def _test_metrics(tmp_path: Path, name: str, overrides: list[str], *extra: str) -> dict[str, float]:
    run_dir = _evaluate(tmp_path, name, overrides, *extra)
    with (run_dir / "csv" / "metrics.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if any(k.startswith("test/") and v for k, v in r.items())]
    return {k: float(v) for k, v in rows[-1].items() if k.startswith("test/") and v}


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("case", sorted(CASES))
def test_two_process_evaluation_equals_one_process(tmp_path, case):
    overrides, keys = CASES[case]
    single = _test_metrics(tmp_path, "single", overrides)
    ddp = _test_metrics(
        tmp_path, "ddp", overrides, "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2"
    )
    for key in keys:
        assert ddp[key] == pytest.approx(single[key], abs=1e-6), key
    if case == "cola":  # every out-of-domain row counted once: the logged confusion matrix sums to 8
        for run in ("single", "ddp"):
            lines = (tmp_path / run / "train.log").read_text().splitlines()
            start = max(i for i, line in enumerate(lines) if "confusion matrix" in line)
            counts = [int(v) for line in lines[start + 2 : start + 4] for v in line.split() if v.isdigit()]
            assert sum(counts) == 8, run


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_squad_predictions_reach_wandb_as_a_table(tmp_path):
    overrides, _ = CASES["squad_v2_local"]
    run_dir = _evaluate(tmp_path, "wandb", overrides, "logger=wandb")
    tables = list(run_dir.glob("wandb/offline-run-*/files/media/table/test/predictions_*.table.json"))
    assert len(tables) == 1
    table = json.loads(tables[0].read_text())
    assert table["columns"] == ["id", "question", "prediction", "gold", "null_odds"] and table["data"]
