"""Exact resume: N steps straight == N/2 steps, SIGKILL, resume to N — identical fp32 parameters."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
import torch

from tests.conftest import FIXTURE_DATA, SMALL_SPLITS, subprocess_env

STEPS = 8  # the fixture's train split is 6 batches: the run crosses an epoch boundary
COMMON = [
    "debug=smoke",
    *SMALL_SPLITS,
    "data.max_length=32",
    f"paths.data_dir={FIXTURE_DATA}",
    "trainer.precision=32-true",
    "trainer.deterministic=true",
    "trainer.limit_train_batches=null",
    "scheduler=none",
    "test=false",
    "logger=csv",
    "+callbacks.model_checkpoint.every_n_train_steps=1",
    "callbacks.model_checkpoint.save_top_k=-1",
    "callbacks.model_checkpoint.monitor=null",
]


# SQuAD windows of the fixture files in length-bucketed batches of 2 (the data of experiment=squad_v2, whose
# warm-up schedule would depend on max_steps); no validation
SQUAD = [
    "data=squad_v2",
    "objective=extractive_qa",
    "debug=smoke",
    f"paths.data_dir={FIXTURE_DATA / 'squad'}",
    "data.max_length=48",
    "data.doc_stride=8",
    "data.max_query_length=16",
    "data.batch_size=2",
    "trainer.limit_val_batches=0",
    *COMMON[COMMON.index("trainer.precision=32-true") :],
]


def _command(run_dir: Path, *extra: str, common: list[str] = COMMON) -> list[str]:
    return [sys.executable, "-m", "bertlab.train", *common, f"hydra.run.dir={run_dir}", *extra]


def _env(tmp_path: Path) -> dict[str, str]:
    # One intra-op thread: with several, the CPU embedding backward sums in an order that can change with
    # thread scheduling (seen: 1.6e-7 apart after one step on a loaded machine), so no two runs are bitwise equal.
    return subprocess_env(tmp_path, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def _parameters(run_dir: Path) -> dict[str, torch.Tensor]:
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    assert state["global_step"] == STEPS
    return state["state_dict"]


def _run_until_killed(command: list[str], env: dict, wait_for: Path, timeout: float = 240) -> None:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while not wait_for.exists():
        if process.poll() is not None:
            raise AssertionError(f"run ended before it could be killed:\n{process.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("timed out waiting for the checkpoint")
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("common", "workers"), [(COMMON, 0), (COMMON, 2), (SQUAD, 0)], ids=["mlm-0", "mlm-2", "squad-0"]
)
def test_killed_and_resumed_run_equals_straight_run(tmp_path, common, workers):
    env, loader = _env(tmp_path), f"data.num_workers={workers}"
    straight, killed, resumed = tmp_path / "straight", tmp_path / "killed", tmp_path / "resumed"
    command = partial(_command, common=common)
    subprocess.run(
        command(straight, loader, f"trainer.max_steps={STEPS}"),
        env=env,
        check=True,
        timeout=240,
        capture_output=True,
    )
    half = STEPS // 2
    # the killed run is long, so the kill always lands mid-training; the step after `half` proves its file complete
    _run_until_killed(
        command(killed, loader, "trainer.max_steps=1000"),
        env,
        killed / "checkpoints" / f"epoch000-step{half + 1:06d}.ckpt",
    )
    checkpoint = killed / "checkpoints" / f"epoch000-step{half:06d}.ckpt"
    subprocess.run(
        command(resumed, loader, f"trainer.max_steps={STEPS}", f"ckpt_path={checkpoint}"),
        env=env,
        check=True,
        timeout=240,
        capture_output=True,
    )
    expected, actual = _parameters(straight), _parameters(resumed)
    assert expected.keys() == actual.keys()
    different = [k for k in expected if not torch.equal(expected[k], actual[k])]
    assert different == []


@pytest.mark.slow
def test_resume_must_without_checkpoint_is_a_clear_error(tmp_path):
    result = subprocess.run(
        _command(tmp_path / "fresh", "resume=must"),
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode != 0
    assert "resume=must" in result.stderr and "last.ckpt" in result.stderr
