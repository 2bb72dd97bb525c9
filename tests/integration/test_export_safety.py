"""bertlab-export never deletes what it did not write, replaces its own exports atomically, follows the umask,
picks the checkpoint by its recorded score, and exports nothing from an untrained run."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import torch

from bertlab.errors import UserError
from bertlab.export import MARKER, ExportError, export_run
from bertlab.resume import find_checkpoint
from bertlab.train import train
from tests.conftest import SMALL_SPLITS, save_run_config

SMOKE = ["debug=smoke", *SMALL_SPLITS, "data.max_length=32", "test=false"]


def _run(compose, tmp_path: Path, *overrides: str) -> Path:
    cfg = compose(*SMOKE, *overrides)
    train(cfg)
    run_dir = tmp_path / "run"
    save_run_config(cfg, run_dir)
    return run_dir


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


@pytest.fixture
def run_dir(compose, tmp_path) -> Path:
    return _run(compose, tmp_path)


def test_export_refuses_unrelated_non_empty_directories_and_the_run_dir(run_dir, tmp_path):
    unrelated = tmp_path / "notes"
    unrelated.mkdir()
    (unrelated / "thesis.tex").write_text("months of work")
    before_run, before_notes = _tree(run_dir), _tree(unrelated)
    for target in (unrelated, run_dir, run_dir / "checkpoints"):
        with pytest.raises(ExportError, match=rf"{target} is not empty and is not a previous bertlab export"):
            export_run(run_dir, out=target)
    assert _tree(unrelated) == before_notes and _tree(run_dir) == before_run


def test_a_previous_export_is_replaced_whole_and_permissions_follow_the_umask(run_dir, tmp_path):
    out = tmp_path / "exported"
    previous = os.umask(0o002)
    try:
        export_run(run_dir, out=out)
        (out / "stale.bin").write_bytes(b"from the first export")
        export_run(run_dir, out=out)
    finally:
        os.umask(previous)
    assert (out / MARKER).is_file() and not (out / "stale.bin").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporaries left
    assert stat.S_IMODE(out.stat().st_mode) == 0o775
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o664}


def test_the_checkpoint_with_the_best_recorded_score_is_chosen_and_partial_files_skipped(tmp_path):
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    key = "ModelCheckpoint{'monitor': 'val/loss', 'mode': 'min', 'every_n_train_steps': 0}"
    for name, score in (("epoch009-step000900.ckpt", 0.5), ("epoch010-step001000.ckpt", 0.7)):
        state = {
            "state_dict": {},
            "callbacks": {key: {"monitor": "val/loss", "current_score": torch.tensor(score)}},
        }
        torch.save(state, checkpoints / name)
    (checkpoints / "epoch011-step001100.ckpt").write_bytes(b"PK\x03\x04 cut off")  # killed mid-write
    torch.save({"state_dict": {}}, checkpoints / "last.ckpt")
    assert find_checkpoint(tmp_path).name == "epoch009-step000900.ckpt"


def test_a_run_that_trained_no_step_exports_nothing_and_says_why(compose, tmp_path, caplog):
    run_dir = _run(compose, tmp_path, "trainer.max_steps=0", "export=true")
    assert not (run_dir / "hf").exists()
    assert "trained no step" in caplog.text
    with pytest.raises(UserError, match="trained no step"):
        export_run(run_dir, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
