"""DDP on CPU (gloo, 2 processes) as a real subprocess: one output, one W&B run, ranks see different data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_DATA, SMALL_SPLITS, subprocess_env

COMMON = [
    "debug=smoke",
    *SMALL_SPLITS,
    "data.max_length=32",
    f"paths.data_dir={FIXTURE_DATA}",
    "test=false",
    "trainer.precision=32-true",
    "model.hidden_dropout_prob=0",
    "model.attention_probs_dropout_prob=0",
    "+callbacks.probe._target_=tests.helpers.BatchProbe",
]


def _train(tmp_path: Path, name: str, *extra: str) -> Path:
    run_dir = tmp_path / name
    env = subprocess_env(tmp_path, WANDB_MODE="offline", WANDB_API_KEY="")
    command = [
        sys.executable,
        "-m",
        "bertlab.train",
        *COMMON,
        f"hydra.run.dir={run_dir}",
        f"+callbacks.probe.path={run_dir / 'probe'}",
        *extra,
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=420)
    assert result.returncode == 0, result.stderr[-4000:]
    return run_dir


def _probe(run_dir: Path, rank: int) -> list[dict]:
    return json.loads((run_dir / "probe" / f"probe-rank{rank}.json").read_text())


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ddp_two_processes_against_one_process_with_twice_the_batch(tmp_path):
    ddp = _train(
        tmp_path,
        "ddp",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "logger=wandb",
        "data.batch_size=2",
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["ddp"]  # one output directory
    assert len(list(ddp.rglob("last.ckpt"))) == 1 and len(list(ddp.rglob("checkpoints"))) == 1
    assert len(list((ddp / "wandb").glob("offline-run-*"))) == 1
    rank0, rank1 = _probe(ddp, 0), _probe(ddp, 1)
    seen0 = {s for r in rank0 for s in r["samples"]}
    seen1 = {s for r in rank1 for s in r["samples"]}
    assert seen0 and seen1 and not seen0 & seen1  # ranks saw different data
    assert rank0[0]["masked"] != rank1[0]["masked"]  # masks are per sample, not one RNG stream per rank

    single = _probe(_train(tmp_path, "single", "data.batch_size=4"), 0)
    # the same samples each step: rank r takes the epoch permutation's r-th of every two, batch B each
    for step in range(len(single)):
        assert set(single[step]["samples"]) == set(rank0[step]["samples"]) | set(rank1[step]["samples"])
    # DDP averages the ranks' mean losses; one process averages over all masked tokens. Tolerance: 2%.
    for a, b0, b1 in zip(single, rank0, rank1, strict=True):
        assert abs(a["loss"] - (b0["loss"] + b1["loss"]) / 2) <= 0.02 * a["loss"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_dying_rank_stops_the_run_with_its_error(tmp_path):
    env = subprocess_env(tmp_path)
    command = [
        sys.executable,
        "-m",
        "bertlab.train",
        *COMMON[:-1],
        f"hydra.run.dir={tmp_path / 'run'}",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "data.batch_size=2",
        "+callbacks.fail._target_=tests.helpers.FailOnRank",
        "+callbacks.fail.rank=1",
        "+callbacks.fail.step=1",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=420)
    assert result.returncode != 0
    assert "injected failure on rank 1 at step 1" in result.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ddp_spawn_fits_and_tests_with_csv_metrics(tmp_path):
    run = _train(
        tmp_path, "spawn", "trainer=ddp_spawn", "trainer.accelerator=cpu", "data.batch_size=2", "test=true"
    )
    header = (run / "csv" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train/loss", "val/loss", "test/loss"} <= set(header)
