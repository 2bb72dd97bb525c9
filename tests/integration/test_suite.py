"""The GLUE suite runner: tasks × seeds in one multirun, then the median-per-task table and the average."""

from __future__ import annotations

import json
import math

import pytest

from bertlab import suite
from bertlab.errors import ConfigError
from tests.conftest import FIXTURE_DATA


def test_table_is_the_median_over_seeds_per_metric_and_the_mean_over_tasks():
    results = [
        ("mrpc", 1, {"f1": 0.80, "accuracy": 0.70}),
        ("mrpc", 2, {"f1": 0.90, "accuracy": 0.60}),
        ("mrpc", 3, {"f1": 0.85, "accuracy": 0.75}),
        ("rte", 1, {"accuracy": 0.55}),
        ("rte", 2, {"accuracy": 0.65}),
        ("mnli", 1, {"m": 0.8, "mm": 0.7}),
    ]
    summary = suite.summarize(results)
    assert list(summary["tasks"]) == ["mrpc", "mnli", "rte"]  # GLUE's order
    assert summary["tasks"]["mrpc"]["metrics"] == pytest.approx({"f1": 85.0, "accuracy": 70.0})
    assert summary["tasks"]["mrpc"]["score"] == pytest.approx(77.5)
    assert summary["tasks"]["rte"]["score"] == pytest.approx(60.0)  # median of two = their mean
    assert summary["average"] == pytest.approx((77.5 + 75.0 + 60.0) / 3)
    assert "| **average** (3 tasks) | | | **70.8** |" in suite.format_table(summary)
    assert suite.columns("mnli", ["accuracy"]) == [("m", "val/accuracy"), ("mm", "test/accuracy")]


def test_unknown_tasks_are_refused():
    with pytest.raises(ConfigError, match="unknown \\['glu'\\]"):
        suite.parse_tasks("rte,glu")
    assert suite.parse_tasks("SST-2, sts-b") == ["sst2", "stsb"]


@pytest.mark.slow
def test_one_command_runs_the_subset_and_writes_the_table(tmp_path, capsys):
    out = tmp_path / "suite"
    overrides = ["debug=smoke", "data.batch_size=2", f"paths.data_dir={FIXTURE_DATA}"]
    suite.main(["--tasks", "rte,stsb", "--seeds", "1,2", "--out", str(out), *overrides])
    summary = json.loads((out / "glue_report.json").read_text())
    assert summary["tasks"]["rte"]["seeds"] == [1, 2] and summary["tasks"]["stsb"]["seeds"] == [1, 2]
    assert set(summary["tasks"]["stsb"]["metrics"]) == {"pearson", "spearman"}
    assert 0.0 <= summary["tasks"]["rte"]["metrics"]["accuracy"] <= 100.0
    assert "| rte | 2 |" in (out / "glue_report.md").read_text() and "average" in capsys.readouterr().out
    if not any(math.isnan(v) for v in summary["tasks"]["stsb"]["metrics"].values()):
        assert summary["average"] == pytest.approx(
            (summary["tasks"]["rte"]["score"] + summary["tasks"]["stsb"]["score"]) / 2
        )
