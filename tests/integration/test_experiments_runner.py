"""experiments/run.py at smoke size: the lab notebook's commands run end to end and fill their tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, out: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "experiments" / "run.py"), *args, "--out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)


def test_unknown_entry_is_refused(tmp_path):
    done = _run("no_such_entry", out=tmp_path)
    assert done.returncode != 0 and "unknown entries ['no_such_entry']" in done.stderr


@pytest.mark.slow
@pytest.mark.realdata
def test_masking_entry_smoke_size_writes_a_table_and_plots(real_data_dir, tmp_path):
    done = _run("masking_static_vs_dynamic", "--size", "smoke", out=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    results = (tmp_path / "masking_static_vs_dynamic" / "results.md").read_text()
    rows = [line for line in results.splitlines() if line.startswith("| experiment=")]
    assert [row.split(" | ")[0] for row in rows] == [
        "| experiment=roberta_dynamic_masking",  # one table over both steps, labelled by what differs
        "| experiment=roberta_static_masking data.dupe_factor=1",
        "| experiment=roberta_static_masking data.dupe_factor=10",
    ]
    assert all("–" not in row for row in rows)  # every job logged val/loss and val/mlm_accuracy
    assert (tmp_path / "masking_static_vs_dynamic" / "plots" / "val_loss.png").stat().st_size > 1000
    # --report rebuilds the same tables from the runs on disk without training again
    redone = _run("masking_static_vs_dynamic", "--size", "smoke", "--report", out=tmp_path)
    assert redone.returncode == 0, redone.stderr[-3000:]
    again = (tmp_path / "masking_static_vs_dynamic" / "results.md").read_text()
    assert "Wall time: not measured" in again
    assert again.split("Wall time")[0] == results.split("Wall time")[0]
