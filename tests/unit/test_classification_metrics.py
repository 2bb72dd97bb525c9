"""Every task metric agrees with scikit-learn / scipy (GLUE's scorer), on random and degenerate inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
from torchmetrics.classification import MulticlassMatthewsCorrCoef

from bertlab.errors import ConfigError
from bertlab.evaluation.classification_metrics import build_metrics, mcc_from_confusion

warnings.filterwarnings("ignore", module="sklearn")
warnings.filterwarnings("ignore", module="scipy")


def _score(task: str, names: list[str], num_labels: int, preds, target, batch: int = 7) -> dict[str, float]:
    """Feed the metrics in batches (as evaluation does), then compute."""
    metrics = build_metrics(task, names, num_labels)
    for start in range(0, len(preds), batch):
        metrics.update(preds[start : start + batch], target[start : start + batch])
    return {name: float(value) for name, value in metrics.compute().items()}


def _same(ours: float, reference: float) -> bool:
    return (math.isnan(ours) and math.isnan(reference)) or ours == pytest.approx(reference, abs=1e-6)


def _label_cases(num_labels: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    rng = torch.Generator().manual_seed(num_labels)
    target = torch.randint(0, num_labels, (53,), generator=rng)
    target[:num_labels] = torch.arange(num_labels)  # every class present
    return {
        "random": (torch.randint(0, num_labels, (53,), generator=rng), target),
        "constant predictor": (torch.ones(53, dtype=torch.long), target),
        "single-class target": (torch.randint(0, num_labels, (53,), generator=rng), torch.zeros(53).long()),
        "both constant": (torch.zeros(53).long(), torch.zeros(53).long()),
        "perfect": (target.clone(), target),
        "inverted": ((num_labels - 1) - target, target),
    }


@pytest.mark.parametrize("num_labels", [2, 3])
@pytest.mark.parametrize("case", list(_label_cases(2)))
def test_single_label_metrics_agree_with_sklearn(num_labels, case):
    preds, target = _label_cases(num_labels)[case]
    names = ["accuracy", "f1_macro", "mcc"] + (["f1"] if num_labels == 2 else [])
    ours = _score("single_label", names, num_labels, preds, target)
    reference = {
        "accuracy": accuracy_score(target, preds),
        "f1_macro": f1_score(target, preds, average="macro"),
        "mcc": matthews_corrcoef(target, preds),
        "f1": f1_score(target, preds) if num_labels == 2 else None,
    }
    for name in names:
        assert _same(ours[name], reference[name]), (name, ours[name], reference[name])


def test_cola_constant_predictor_scores_zero_where_torchmetrics_gives_0_0353():
    """The chapter's from-scratch CoLA baseline: 'acceptable' for all 516 out-of-domain sentences."""
    target = torch.tensor([0] * 162 + [1] * 354)
    preds = torch.ones(516, dtype=torch.long)
    assert float(MulticlassMatthewsCorrCoef(2)(preds, target)) == pytest.approx(0.0353, abs=1e-4)  # #3355
    assert _score("single_label", ["mcc"], 2, preds, target)["mcc"] == 0.0 == matthews_corrcoef(target, preds)
    assert float(mcc_from_confusion(torch.tensor([[0, 162], [0, 354]]))) == 0.0


def _regression_cases() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    rng = np.random.default_rng(0)
    target = torch.from_numpy(rng.uniform(0, 5, 61)).float()
    ties = torch.from_numpy(rng.integers(0, 4, 61)).float()  # STS-B scores have many ties
    return {
        "random": (torch.from_numpy(rng.normal(2.5, 1, 61)).float(), target),
        "ties": (ties, torch.from_numpy(rng.integers(0, 6, 61)).float()),
        "constant predictor": (torch.full((61,), 2.5), target),
        "perfect": (target.clone(), target),
        "inverted": (-target, target),
        "monotone but not linear": (target**3, target),
    }


@pytest.mark.parametrize("case", list(_regression_cases()))
def test_regression_metrics_agree_with_scipy(case):
    preds, target = _regression_cases()[case]
    ours = _score("regression", ["pearson", "spearman"], 1, preds, target)
    assert _same(ours["pearson"], pearsonr(preds.double().numpy(), target.double().numpy())[0])
    assert _same(ours["spearman"], spearmanr(preds.numpy(), target.numpy())[0])


def _multilabel_cases() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    rng = torch.Generator().manual_seed(3)
    target = torch.randint(0, 2, (29, 4), generator=rng)
    return {
        "random": (torch.randint(0, 2, (29, 4), generator=rng), target),
        "all off": (torch.zeros(29, 4).long(), target),
        "a label never present": (
            torch.randint(0, 2, (29, 4), generator=rng),
            target * torch.tensor([1, 1, 1, 0]),
        ),
        "perfect": (target.clone(), target),
        "inverted": (1 - target, target),
    }


@pytest.mark.parametrize("case", list(_multilabel_cases()))
def test_multi_label_metrics_agree_with_sklearn(case):
    preds, target = _multilabel_cases()[case]
    ours = _score("multi_label", ["accuracy", "f1_micro", "f1_macro"], 4, preds, target)
    assert _same(ours["accuracy"], accuracy_score(target, preds))  # exact match of the whole label set
    assert _same(ours["f1_micro"], f1_score(target, preds, average="micro"))
    assert _same(ours["f1_macro"], f1_score(target, preds, average="macro"))


def test_unknown_or_misplaced_metric_names_are_config_errors():
    with pytest.raises(ConfigError, match="unknown for task regression: mcc"):
        build_metrics("regression", ["mcc"], 1)
    with pytest.raises(ConfigError, match="needs 2 labels, the data has 3"):
        build_metrics("single_label", ["f1"], 3)
    with pytest.raises(ConfigError, match="data.task='ranking'"):
        build_metrics("ranking", ["accuracy"], 2)
