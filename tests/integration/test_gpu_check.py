"""benchmarks/gpu_check.py --dry-run: the GPU check's steps on CPU at tiny sizes, so it cannot rot unrun."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import subprocess_env


@pytest.mark.slow
def test_gpu_check_dry_run_passes_every_step(tmp_path):
    out = tmp_path / "gpu_check.json"
    env = subprocess_env()
    command = [sys.executable, "-m", "benchmarks.gpu_check", "--dry-run", "--experiments", "mlm_shakespeare"]
    done = subprocess.run(
        [*command, "--out", str(out)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    steps = {row["step"]: row for row in report["steps"]}
    assert list(steps) == ["smoke/mlm_shakespeare", "mlm_throughput", "sdpa_kernel", "cola_epoch", "ddp"]
    assert all(row["ok"] for row in steps.values())
    assert steps["ddp"]["detail"] == "gloo, 2 processes"
    assert "scaled_dot_product" in steps["sdpa_kernel"]["detail"]
    assert report["dry_run"] is True
