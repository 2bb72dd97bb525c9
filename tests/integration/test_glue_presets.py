"""The nine GLUE presets read hand-written fixtures in the official layout (glue_data/<TASK>/*.tsv) and train."""

from __future__ import annotations

import csv
import math

import pytest
from hydra.utils import instantiate

from bertlab.build import build
from bertlab.train import train
from tests.conftest import FIXTURE_DATA

# preset → (task directory, label names in id order or None for regression, official metrics, pair?)
GLUE = {
    "cola": ("CoLA", ["unacceptable", "acceptable"], ["mcc"], False),
    "sst2": ("SST-2", ["negative", "positive"], ["accuracy"], False),
    "mrpc": ("MRPC", ["not_equivalent", "equivalent"], ["f1", "accuracy"], True),
    "stsb": ("STS-B", None, ["pearson", "spearman"], True),
    "qqp": ("QQP", ["not_duplicate", "duplicate"], ["f1", "accuracy"], True),
    "mnli": ("MNLI", ["entailment", "neutral", "contradiction"], ["accuracy"], True),
    "qnli": ("QNLI", ["entailment", "not_entailment"], ["accuracy"], True),
    "rte": ("RTE", ["entailment", "not_entailment"], ["accuracy"], True),
    "wnli": ("WNLI", ["not_entailment", "entailment"], ["accuracy"], True),
}


def _rows(path) -> int:
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return len(rows) - (path.parent.name != "CoLA")  # GLUE's CoLA train/dev files have no header


@pytest.mark.parametrize("task", list(GLUE))
def test_preset_reads_the_official_layout_with_its_labels_and_metric(compose, task):
    directory, labels, metrics, pair = GLUE[task]
    cfg = compose("experiment=glue", f"data=glue_{task}", "debug=smoke")
    assert cfg.objective.monitor == f"val/{metrics[0]}" and cfg.task_name == f"glue_{task}"
    datamodule, module = build(cfg)
    assert module.metric_names == tuple(metrics)
    assert list(module.id2label.values()) == (labels or ["score"])
    assert module.task == ("regression" if labels is None else "single_label")
    datamodule.setup("fit")
    dev = "dev_matched.tsv" if task == "mnli" else "dev.tsv"
    assert len(datamodule.datasets["val"]) == _rows(FIXTURE_DATA / "glue_data" / directory / dev)
    batch = next(iter(datamodule.val_dataloader()))
    assert ("token_type_ids" in batch) == pair
    if pair:  # the second segment is type 1
        assert batch["token_type_ids"].max() == 1


def test_mnli_tests_on_the_mismatched_dev_set(compose):
    cfg = compose("experiment=glue", "data=glue_mnli", "debug=smoke")
    datamodule = instantiate(cfg.data)
    assert datamodule.files["val"].endswith("MNLI/dev_matched.tsv")
    assert datamodule.files["test"].endswith("MNLI/dev_mismatched.tsv")


@pytest.mark.parametrize("task", ["sst2", "stsb"])
def test_single_sentence_and_regression_presets_train_and_score(compose, task, tmp_path):
    cfg = compose(
        "experiment=glue", f"data=glue_{task}", "debug=smoke", "data.batch_size=2"
    )  # 6 rows: 3 steps
    value = train(cfg)
    assert value is not None
    logged = (tmp_path / "run" / "csv").rglob("metrics.csv")
    header = next(iter(logged)).read_text().splitlines()[0].split(",")
    for metric in GLUE[task][2]:
        assert f"test/{metric}" in header and f"val/{metric}" in header
    assert math.isnan(value) or -1.0 <= value <= 1.0
