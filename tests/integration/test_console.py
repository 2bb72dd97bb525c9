"""The console tells the user where a run lives and what to run next; --help lists only user-facing choices."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from bertlab.config import config_dir
from bertlab.train import train
from tests.conftest import FIXTURE_DATA, SMALL_SPLITS


def test_run_prints_its_directory_and_next_commands_and_saves_the_resolved_config(compose, tmp_path, capsys):
    cfg = compose("debug=smoke", *SMALL_SPLITS, "data.max_length=32", "export=false")
    train(cfg)
    out = capsys.readouterr().out
    run_dir = tmp_path / "run"
    started = out.index(f"bertlab-train: run directory {run_dir}")
    assert started < out.index(f"bertlab-train: finished; run directory {run_dir}")
    assert f"bertlab-eval run {run_dir} --split test" in out and f"bertlab-export {run_dir}" in out
    assert f"hydra.run.dir={run_dir} resume=must" in out
    resolved = (run_dir / ".hydra" / "resolved_config.yaml").read_text()
    assert "${" not in resolved
    assert yaml.safe_load(resolved)["paths"]["data_dir"] == str(FIXTURE_DATA)


def test_help_lists_groups_without_the_schema_entries():
    result = subprocess.run(
        [sys.executable, "-m", "bertlab.train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    conf = Path(config_dir())
    for group in ("data", "objective", "model"):
        options = ", ".join(sorted(p.stem for p in (conf / group).glob("*.yaml")))
        assert f"{group}: {options}\n" in result.stdout
    assert "_schema" not in result.stdout
