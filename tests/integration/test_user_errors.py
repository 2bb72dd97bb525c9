"""A user's mistake is one short message naming the key or the file, exit code 2, no traceback."""

from __future__ import annotations

import gzip
import subprocess
import sys

import pytest

from bertlab import evaluate
from bertlab.build import build
from bertlab.data import files
from bertlab.errors import DataError
from tests.conftest import FIXTURE_DATA, subprocess_env


def _short(stderr: str) -> None:
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) <= 6, stderr


def test_a_missing_model_directory_names_model_path(tmp_path):
    env = subprocess_env()
    missing = tmp_path / "nonexistent"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bertlab.train",
            "experiment=cola",
            f"model.path={missing}",
            f"paths.data_dir={FIXTURE_DATA}",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],  # fmt: skip
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert f"model.path={missing}: no such directory" in result.stderr
    _short(result.stderr)


def test_eval_refuses_a_file_that_is_not_a_checkpoint_before_building(tmp_path, capsys):
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("{}")
    bogus = tmp_path / "notes.ckpt"
    bogus.write_text("not a checkpoint")
    with pytest.raises(SystemExit) as exit_:
        evaluate.main(["run", str(tmp_path), "--checkpoint", str(bogus)])
    assert exit_.value.code == 2
    stderr = capsys.readouterr().err
    assert f"checkpoint {bogus} is unreadable or corrupt" in stderr
    _short(stderr)


def test_eval_accepts_overrides_after_options(monkeypatch):
    seen = {}
    monkeypatch.setattr(evaluate, "evaluate_run", lambda *args: seen.setdefault("args", args) and {})
    evaluate.main(
        ["run", "runs/x", "--split", "test", "data.eval_batch_size=8", "trainer.limit_test_batches=2"]
    )
    assert seen["args"][2:4] == ("test", ["data.eval_batch_size=8", "trainer.limit_test_batches=2"])
    with pytest.raises(SystemExit):
        evaluate.main(["run", "runs/x", "--no-such-option"])


def test_a_truncated_gzip_file_names_the_file(tmp_path):
    path = tmp_path / "t8.shakespeare.txt.gz"
    path.write_bytes(gzip.compress(b"To be, or not to be " * 200)[:60])
    with pytest.raises(DataError, match=rf"{path}: truncated or corrupt gzip file"):
        files.open_text(path)


def test_an_empty_validation_split_names_the_file_and_split(compose):
    cfg = compose(
        "debug=smoke", "data.val_fraction=0", "data.test_fraction=0.2", "data.split_chunk_sentences=4"
    )
    datamodule, _ = build(cfg)
    with pytest.raises(DataError, match=r"shakespeare\.txt: the val split has 0 tokens"):
        datamodule.prepare_data()
        datamodule.setup("fit")
