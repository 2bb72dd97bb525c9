"""The wheel ships the Hydra configs: ``bertlab-train --cfg job`` works from a non-editable install."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_configs_and_composes_outside_the_repo(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheel = next((tmp_path / "dist").glob("bertlab-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {
            "bertlab/conf/train.yaml",
            "bertlab/conf/experiment/mlm_shakespeare.yaml",
            "bertlab/data/packaged/tiny_shakespeare.txt.gz",  # the default run's corpus
        } <= names
        archive.extractall(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [sys.executable, "-m", "bertlab.train", "--cfg", "job", "experiment=mlm_shakespeare"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "max_length: 32" in result.stdout
    located = subprocess.run(
        [sys.executable, "-c", "import bertlab.config as c; print(c.config_dir())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert located.stdout.strip() == str(tmp_path / "site" / "bertlab" / "conf")
