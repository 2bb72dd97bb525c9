"""``bertlab-inspect`` prints one collated example as a table (the source chapter's Table 1)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import FIXTURE_DATA, SMALL_SPLITS


def _inspect(tmp_path, *overrides: str) -> str:
    env = {**os.environ, "BERTLAB_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200"}
    command = [
        sys.executable,
        "-m",
        "bertlab.inspect",
        *SMALL_SPLITS,
        f"paths.data_dir={FIXTURE_DATA}",
        f"hydra.run.dir={tmp_path / 'run'}",
        *overrides,
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_mlm_example_table_shows_tokens_masked_inputs_and_labels(tmp_path):
    out = _inspect(tmp_path, "experiment=mlm_shakespeare")
    assert "input_ids" in out and "labels" in out and "[MASK]" in out
    assert "[CLS]" in out and "[SEP]" in out and "-100" in out


def test_clm_samples_a_continuation(tmp_path):
    out = _inspect(
        tmp_path,
        "experiment=gpt_shakespeare",
        "model=gpt2_tiny",
        "inspect.prompt=to be",
        "inspect.max_new_tokens=5",
    )
    assert "prompt: to be" in out and "continuation:" in out


def test_nsp_example_is_printed_like_block_6(tmp_path):
    out = _inspect(tmp_path, "experiment=mlm_nsp_shakespeare")
    assert "sentence_a" in out and "sentence_b" in out and "token_type_ids" in out
    assert "label: 0" in out or "label: 1" in out
