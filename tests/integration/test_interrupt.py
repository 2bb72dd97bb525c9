"""SIGTERM/SIGINT mid-epoch: last.ckpt at the next step boundary, exit 143/130, the printed command resumes
exactly (fp32, deterministic) and metrics.csv keeps one continuous history."""

from __future__ import annotations

import csv
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import FIXTURE_DATA
from tests.integration.test_resume import _env

COLA = [
    "experiment=cola",
    "debug=smoke",
    f"paths.data_dir={FIXTURE_DATA}",
    "data.batch_size=2",  # 20 fixture sentences: 10 steps per epoch
    "trainer.limit_train_batches=null",
    "trainer.max_steps=-1",
    "trainer.max_epochs=2",
    "trainer.val_check_interval=1.0",
    "trainer.check_val_every_n_epoch=1",
    "trainer.deterministic=true",
    "trainer.precision=32-true",
    "test=false",
]
STEPS = 20


def _run(run_dir: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "bertlab.train", *COLA, f"hydra.run.dir={run_dir}", *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _last(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")


def _losses(run_dir: Path) -> dict[int, str]:
    with open(run_dir / "csv" / "metrics.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("train/loss")]
    steps = [int(row["step"]) for row in rows]
    assert len(steps) == len(set(steps)), f"steps logged twice: {steps}"
    return {int(row["step"]): row["train/loss"] for row in rows}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigterm_mid_epoch_saves_exits_143_and_the_printed_command_resumes_exactly(tmp_path):
    env = _env(tmp_path)
    straight = _run(tmp_path / "straight", env)
    assert straight.returncode == 0, straight.stderr[-3000:]
    at = 13  # the signal arrives during step 14: mid-way through the second epoch (10 steps per epoch)
    killed = tmp_path / "killed"
    stopped = _run(
        killed, env, "+callbacks.signal._target_=tests.helpers.SendSignal", f"+callbacks.signal.at_step={at}"
    )
    assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr[-3000:]
    assert _last(killed)["global_step"] == at + 1
    assert not (killed / "hf").exists()
    command = stopped.stderr.split("resume with:\n", 1)[1].splitlines()[0].strip()
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "bertlab.train"] and f"hydra.run.dir={killed}" in words
    resumed = subprocess.run(
        [sys.executable, *words[1:]], env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    expected, actual = _last(tmp_path / "straight"), _last(killed)
    assert expected["global_step"] == actual["global_step"] == STEPS
    different = [
        k
        for k in expected["state_dict"]
        if not torch.equal(expected["state_dict"][k], actual["state_dict"][k])
    ]
    assert different == []
    assert _losses(killed) == _losses(tmp_path / "straight")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ctrl_c_saves_last_checkpoint_and_exits_130(tmp_path):
    run = tmp_path / "run"
    stopped = _run(
        run,
        _env(tmp_path),
        "+callbacks.signal._target_=tests.helpers.SendSignal",
        "+callbacks.signal.at_step=3",
        f"+callbacks.signal.signum={int(signal.SIGINT)}",
    )
    assert stopped.returncode == 128 + signal.SIGINT, stopped.stderr[-3000:]
    assert _last(run)["global_step"] == 4
    assert "interrupted by SIGINT" in stopped.stderr and "Traceback" not in stopped.stderr
