"""Checkpoint writes are whole or absent, on any filesystem; non-finite weights are never written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import torch

from bertlab.callbacks import checkpoints
from bertlab.callbacks.checkpoints import AtomicCheckpointIO, LastCheckpoint, NonFiniteWeightsError


def _directories(tmp_path: Path) -> list[Path]:
    found = [tmp_path / "run"]
    shm = Path("/dev/shm")
    if shm.is_dir():  # tmpfs: another filesystem than $TMPDIR on most machines
        found.append(Path(tempfile.mkdtemp(dir=shm, prefix="bertlab-test-")))
    return found


def test_a_write_killed_midway_leaves_the_previous_last_ckpt_intact(tmp_path, monkeypatch):
    io = AtomicCheckpointIO()
    for directory in _directories(tmp_path):
        target = directory / "checkpoints" / "last.ckpt"
        io.save_checkpoint({"state_dict": {"w": torch.ones(3)}, "global_step": 1}, target)
        before = target.read_bytes()
        seen: list[Path] = []

        def killed_midway(obj, handle, target=target, seen=seen):
            handle.write(b"half a checkpoint")
            seen.extend(target.parent.glob(".last.ckpt.*"))  # the partial file is a sibling of the target
            raise KeyboardInterrupt  # what a signal does to the writer

        monkeypatch.setattr(checkpoints.torch, "save", killed_midway)
        with pytest.raises(KeyboardInterrupt):
            io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}, "global_step": 2}, target)
        monkeypatch.undo()
        assert target.read_bytes() == before
        assert seen and all(p.parent == target.parent for p in seen)
        assert sorted(p.name for p in target.parent.iterdir()) == ["last.ckpt"]  # no leftovers
        assert torch.load(target, weights_only=True)["global_step"] == 1


def test_non_finite_weights_are_not_written_over_a_good_checkpoint(tmp_path):
    io, target = AtomicCheckpointIO(), tmp_path / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(2)}, "global_step": 4}, target)
    with pytest.raises(NonFiniteWeightsError, match=r"step 5.*optimizer\.lr"):
        io.save_checkpoint({"state_dict": {"w": torch.tensor([1.0, float("nan")])}, "global_step": 5}, target)
    assert torch.load(target, weights_only=True)["global_step"] == 4


def test_last_checkpoint_needs_exactly_one_interval(tmp_path):
    with pytest.raises(ValueError, match="exactly one of every_n_train_steps and every_minutes"):
        LastCheckpoint(str(tmp_path), every_n_train_steps=10, every_minutes=5)
    with pytest.raises(ValueError, match="exactly one"):
        LastCheckpoint(str(tmp_path))
