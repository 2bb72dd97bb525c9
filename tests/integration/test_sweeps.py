"""Sweeps: Hydra's basic sweeper and Optuna, one W&B run per job, and the SLURM launcher config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_DATA, SMALL_SPLITS, subprocess_env

SMOKE = ["debug=smoke", *SMALL_SPLITS, "data.max_length=32", f"paths.data_dir={FIXTURE_DATA}", "test=false"]


def _multirun(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = subprocess_env(tmp_path, WANDB_MODE="offline", WANDB_API_KEY="")
    command = [
        sys.executable,
        "-m",
        "bertlab.train",
        "-m",
        *SMOKE,
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        *overrides,
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def test_optuna_and_slurm_configs_compose(compose):
    cfg = compose("hparams_search=mlm_optuna")
    assert cfg.hydra.sweeper._target_.endswith("OptunaSweeper")
    assert set(cfg.hydra.sweeper.params) == {
        "optimizer.lr",
        "optimizer.weight_decay",
        "scheduler.warmup_ratio",
    }
    cfg = compose("hydra/launcher=slurm", "trainer=ddp", "trainer.devices=4", "trainer.num_nodes=2")
    assert cfg.hydra.launcher.tasks_per_node == 4 and cfg.hydra.launcher.nodes == 2


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_basic_sweep_gives_one_wandb_run_per_job_in_one_group(tmp_path):
    _multirun(tmp_path, "seed=1,2", "logger=wandb")
    jobs = sorted(p for p in (tmp_path / "sweep").iterdir() if p.is_dir() and p.name.isdigit())
    assert [p.name for p in jobs] == ["0", "1"]
    run_ids = [(job / "wandb_run_id").read_text() for job in jobs]
    assert len(set(run_ids)) == 2
    for job, run_id in zip(jobs, run_ids, strict=True):
        runs = list((job / "wandb").glob(f"offline-run-*-{run_id}"))
        assert len(runs) == 1  # each job finished its own run; none logged into the previous job's
        record = (runs[0] / f"run-{run_id}.wandb").read_bytes()
        assert b"train-sweep" in record  # the run's group: task name + sweep directory, shared by the jobs
        assert (job / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_optuna_sweep_optimises_the_returned_metric(tmp_path):
    _multirun(
        tmp_path,
        "hparams_search=mlm_optuna",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.sampler.n_startup_trials=2",
    )
    results = (tmp_path / "sweep" / "optimization_results.yaml").read_text()
    assert "best_value" in results and "optimizer.lr" in results
