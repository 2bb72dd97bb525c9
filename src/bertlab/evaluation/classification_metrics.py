"""Per-task classification and regression metrics that agree with GLUE's scorer (scikit-learn / scipy).

torchmetrics objects (they accumulate per batch and synchronise over ranks), checked against
``sklearn.metrics`` / ``scipy.stats`` in ``tests/unit/test_classification_metrics.py``, degenerate inputs
included. Where torchmetrics 1.9 disagrees with the reference, the metric is wrapped here:

- ``mcc``: torchmetrics' ``MatthewsCorrCoef`` replaces zero rows/columns of the confusion matrix with an epsilon
  (torchmetrics #3355), so a constant predictor on CoLA's out-of-domain dev ([[0, 162], [0, 354]]) scores 0.0353
  instead of scikit-learn's 0.0. :class:`MatthewsCorrelation` computes scikit-learn's formula from the
  accumulated confusion matrix, in float64, and returns 0 when either marginal is constant.
- ``spearman``: torchmetrics returns 0 for a constant input; ``scipy.stats.spearmanr`` returns NaN (the
  correlation is undefined). :class:`SpearmanCorrelation` returns NaN, as GLUE's scorer would print.
- ``pearson`` and ``spearman`` accumulate in float64 (torchmetrics keeps the input's dtype; float32 running
  sums drift from scipy on a few thousand STS-B pairs).

A NaN monitored value never becomes Lightning's "best" checkpoint (ModelCheckpoint treats NaN as the worst).

Input contract of ``update(preds, target)`` per task:
``single_label``: predicted class ids (B,) and gold ids (B,); ``regression``: (B,) floats and (B,) floats;
``multi_label``: (B, C) 0/1 predictions and (B, C) 0/1 gold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torchmetrics import Metric, MetricCollection
from torchmetrics.classification import (
    BinaryF1Score,
    MulticlassAccuracy,
    MulticlassConfusionMatrix,
    MulticlassF1Score,
    MultilabelExactMatch,
    MultilabelF1Score,
)
from torchmetrics.regression import PearsonCorrCoef, SpearmanCorrCoef
from torchmetrics.utilities import dim_zero_cat

from bertlab.errors import ConfigError

TASKS = ("single_label", "regression", "multi_label")


def mcc_from_confusion(matrix: torch.Tensor) -> torch.Tensor:
    """Matthews correlation of a (C, C) confusion matrix (rows true), as ``sklearn.metrics.matthews_corrcoef``.

    Gorodkin's (2004) multi-class form; 0 when the true or the predicted labels take a single value.
    """
    c = matrix.to(torch.float64)
    t_sum, p_sum = c.sum(1), c.sum(0)  # (C,) true and predicted counts per class
    n, correct = c.sum(), c.trace()
    cov_tp = correct * n - t_sum @ p_sum
    cov_pp = n * n - p_sum @ p_sum
    cov_tt = n * n - t_sum @ t_sum
    if cov_pp * cov_tt == 0:
        return torch.zeros((), dtype=torch.float64)
    return cov_tp / torch.sqrt(cov_tt * cov_pp)


class MatthewsCorrelation(MulticlassConfusionMatrix):
    """scikit-learn's MCC from torchmetrics' accumulated (and rank-synchronised) confusion matrix."""

    def compute(self) -> torch.Tensor:
        return mcc_from_confusion(super().compute())


class PearsonCorrelation(PearsonCorrCoef):
    """``scipy.stats.pearsonr`` (NaN for a constant input, as torchmetrics already gives), summed in float64."""

    def __init__(self) -> None:
        super().__init__()
        self.set_dtype(torch.float64)  # the running sums; ``.double()`` is a no-op on torchmetrics metrics

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        super().update(preds.double(), target.double())


class SpearmanCorrelation(SpearmanCorrCoef):
    """``scipy.stats.spearmanr`` (average ranks for ties; NaN for a constant input), in float64."""

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        super().update(preds.double(), target.double())

    def compute(self) -> torch.Tensor:
        preds, target = dim_zero_cat(self.preds), dim_zero_cat(self.target)  # (N,) each, from every rank
        if len(preds) < 2 or bool((preds == preds[0]).all()) or bool((target == target[0]).all()):
            return torch.tensor(float("nan"), dtype=torch.float64)
        return super().compute()


def _binary_f1(num_labels: int) -> Metric:
    if num_labels != 2:
        raise ConfigError(
            f"data.metrics: f1 is the binary F1 of label 1 and needs 2 labels, the data has {num_labels}; "
            "use f1_macro"
        )
    return BinaryF1Score()


# name → factory(num_labels); "accuracy" means exact match for multi-label, as sklearn's accuracy_score.
FACTORIES: dict[str, dict[str, Callable[[int], Metric]]] = {
    "single_label": {
        "accuracy": lambda n: MulticlassAccuracy(n, average="micro"),
        "f1": _binary_f1,
        "f1_macro": lambda n: MulticlassF1Score(n, average="macro"),
        "mcc": MatthewsCorrelation,
    },
    "regression": {
        "pearson": lambda n: PearsonCorrelation(),
        "spearman": lambda n: SpearmanCorrelation(),
    },
    "multi_label": {
        "accuracy": MultilabelExactMatch,
        "f1_micro": lambda n: MultilabelF1Score(n, average="micro"),
        "f1_macro": lambda n: MultilabelF1Score(n, average="macro"),
    },
}


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ConfigError(f"data.task={task!r}: expected one of {', '.join(TASKS)}")
    return task


def metric_names(task: str, names: Sequence[str]) -> list[str]:
    """``names`` checked against what ``task`` offers; the first is the run's main metric."""
    available = FACTORIES[check_task(task)]
    unknown = [name for name in names if name not in available]
    if unknown or not names:
        problem = f"unknown for task {task}: {', '.join(unknown)}" if unknown else "empty"
        raise ConfigError(f"data.metrics={list(names)}: {problem}; {task} offers {', '.join(available)}")
    return list(names)


def build_metrics(task: str, names: Sequence[str], num_labels: int) -> MetricCollection:
    """A MetricCollection of the named metrics for ``task`` (see the module docstring for inputs)."""
    chosen = metric_names(task, names)
    return MetricCollection({name: FACTORIES[task][name](num_labels) for name in chosen})
