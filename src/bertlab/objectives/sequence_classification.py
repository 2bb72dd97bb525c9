"""Sequence classification and regression (Devlin et al. 2019, "BERT", §4.1; source chapter §4.2.10, Codes 3–9).

The encoder's [CLS] state goes through BERT's pooler (dense → tanh), dropout and a linear layer. The loss
follows ``task`` as in HF's ``BertForSequenceClassification`` (its ``problem_type``): ``single_label``
cross-entropy over the classes, ``regression`` mean squared error of one output, ``multi_label`` binary
cross-entropy per label (a label is predicted when its logit is > 0, i.e. probability > 0.5). Metrics are named
by the data (``data.metrics``, see ``bertlab.evaluation.classification_metrics``, which agree with GLUE's
scikit-learn scorer); single-label runs also keep the confusion matrix in ``confusion[stage]`` for
:class:`bertlab.callbacks.reports.ConfusionMatrixReport` (log table, PNG, W&B).

Export (:meth:`SequenceClassification.hf_models`) writes ``BertForSequenceClassification``: a rename.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn
from torchmetrics import MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassConfusionMatrix
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from bertlab.errors import ConfigError
from bertlab.evaluation.classification_metrics import build_metrics, check_task
from bertlab.models.encoder import reinitialize_top_layers
from bertlab.models.heads import SequenceClassificationHead, init_like
from bertlab.models.hf_names import classification_head_state, load_encoder, load_renamed
from bertlab.objectives.base import ENCODER_INPUTS, Objective

# HF's config.problem_type for each task: the exported model computes the same loss.
PROBLEM_TYPES = {
    "single_label": "single_label_classification",
    "regression": "regression",
    "multi_label": "multi_label_classification",
}


def classification_loss(
    logits: torch.Tensor, labels: torch.Tensor, task: str = "single_label"
) -> torch.Tensor:
    """Mean loss of (B, C) logits, in float32: cross-entropy against (B,) class ids (``single_label``), squared
    error of (B, 1) against (B,) floats (``regression``), binary cross-entropy against (B, C) 0/1
    (``multi_label``)."""
    logits = logits.float()
    if task == "regression":
        return nn.functional.mse_loss(logits.squeeze(-1), labels.float())
    if task == "multi_label":
        return nn.functional.binary_cross_entropy_with_logits(logits, labels.float())
    return nn.functional.cross_entropy(logits, labels)


def predictions(logits: torch.Tensor, task: str) -> torch.Tensor:
    """(B, C) logits → what the metrics compare with the labels: class ids (B,), scores (B,) or 0/1 (B, C)."""
    if task == "regression":
        return logits.squeeze(-1).float()
    if task == "multi_label":
        return (logits > 0).long()
    return logits.argmax(-1)


def resolve_labels(id2label: Mapping[int, str] | None, num_labels: int | None) -> dict[int, str]:
    """The label names the data provides, checked against an explicit ``objective.module.num_labels``."""
    if id2label is None:
        if num_labels is None:
            raise ConfigError("objective.module.num_labels is not set and the datamodule provides no labels")
        return {i: f"LABEL_{i}" for i in range(num_labels)}
    labels = {int(k): str(v) for k, v in id2label.items()}
    if sorted(labels) != list(range(len(labels))):
        raise ConfigError(f"label ids {sorted(labels)} are not 0..{len(labels) - 1}")
    if num_labels is not None and num_labels != len(labels):
        raise ConfigError(
            f"objective.module.num_labels={num_labels} disagrees with the data, which has {len(labels)} labels "
            f"({', '.join(f'{i}={n}' for i, n in labels.items())}); remove the override or fix the data"
        )
    return labels


def classification_metrics(
    num_labels: int, task: str = "single_label", names: tuple[str, ...] = ("mcc", "accuracy")
) -> MetricCollection:
    """The named metrics, plus the confusion matrix for single-label tasks."""
    metrics = build_metrics(task, names, num_labels)
    if task == "single_label":
        metrics.add_metrics({"confusion": MulticlassConfusionMatrix(num_labels)})
    return metrics


class SequenceClassification(Objective):
    """Encoder + pooler/classifier head. Logs ``train/loss``, ``{val,test}/loss`` and ``{val,test}/<metric>``.

    ``id2label``, ``task`` and ``metrics`` come from the datamodule (``module_kwargs``); ``num_labels``, when set
    in the config, must agree with the labels. A regression head has one output (``id2label`` of one name).
    ``classifier_dropout=None`` follows the encoder config, as HF does.

    ``pooler_state`` is the pretrained checkpoint's pooler (the composition root passes the encoder builder's
    ``pooler_state``); ``pretrained_pooler=False`` draws the pooler afresh instead of loading it;
    ``reinit_top_layers=k`` also re-initialises the encoder's top k layers (Zhang et al. 2021), for small data
    sets on a checkpoint whose top layers serve another objective. ``text_fields`` (from the datamodule) names
    the input fields, one or a pair; the export records them for ``bertlab-predict``.
    """

    batch_keys = (*ENCODER_INPUTS, "labels")

    def __init__(
        self,
        encoder: nn.Module,
        optimizer: Callable,
        scheduler: Callable | None = None,
        id2label: Mapping[int, str] | None = None,
        num_labels: int | None = None,
        task: str = "single_label",
        metrics: Sequence[str] = ("mcc", "accuracy"),
        classifier_dropout: float | None = None,
        pretrained_pooler: bool = True,
        reinit_top_layers: int = 0,
        pooler_state: dict[str, torch.Tensor] | None = None,
        text_fields: Sequence[str] | None = None,
    ) -> None:
        super().__init__(optimizer, scheduler)
        self.text_fields = list(text_fields) if text_fields else None
        self.id2label = resolve_labels(id2label, num_labels)
        self.task, self.metric_names = check_task(task), tuple(metrics)
        if task == "regression" and len(self.id2label) != 1:
            raise ConfigError(f"data.task=regression predicts one value; num_labels={len(self.id2label)}")
        self.save_hyperparameters(
            {
                "id2label": self.id2label,
                "task": self.task,
                "metrics": list(self.metric_names),
                "classifier_dropout": classifier_dropout,
                "pretrained_pooler": pretrained_pooler,
                "reinit_top_layers": reinit_top_layers,
                "text_fields": self.text_fields,
            }
        )
        # from_pretrained returns eval mode (no dropout) and Lightning keeps each submodule's mode.
        self.encoder = encoder
        head = SequenceClassificationHead.for_config(encoder.config, len(self.id2label), classifier_dropout)
        self.head = init_like(head, encoder)
        if pooler_state is not None and pretrained_pooler:  # as BertForSequenceClassification loads it
            self.head.pooler.load_state_dict(pooler_state)
        if reinit_top_layers:
            reinitialize_top_layers(encoder, reinit_top_layers)
        self.eval_loss = MeanMetric()
        self.metrics = nn.ModuleDict(
            {s: classification_metrics(len(self.id2label), task, self.metric_names) for s in ("val", "test")}
        )
        # the last evaluation's matrix per stage (C, C), rows true, columns predicted: read by report callbacks
        self.confusion: dict[str, torch.Tensor] = {}

    def hf_models(self) -> dict[str, PreTrainedModel]:
        """``BertForSequenceClassification``: our pooler is its ``bert.pooler``, our classifier its ``classifier``."""
        if self.encoder.config.model_type != "bert":
            raise ConfigError(
                f"sequence-classification export writes BERT models; model_type={self.encoder.config.model_type} "
                "keeps its pooler elsewhere"
            )
        config = copy.deepcopy(self.encoder.config)
        config.id2label = dict(self.id2label)
        config.label2id = {name: i for i, name in self.id2label.items()}
        config.problem_type = PROBLEM_TYPES[self.task]
        if self.text_fields:  # bertlab-predict reads these fields, and refuses one text for a pair model
            config.bertlab_text_fields = self.text_fields
        task = AutoModelForSequenceClassification.from_config(config)
        load_encoder(task, self.encoder)
        load_renamed(task, classification_head_state(self.head))
        return {"": task}

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Batch → (B, num_labels) logits."""
        return self.head(self.encode(batch))

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = classification_loss(self(batch), batch["labels"], self.task)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def evaluate_batch(self, batch: dict[str, torch.Tensor], batch_idx: int, stage: str) -> None:
        logits = self(batch)
        labels = batch["labels"]
        loss = classification_loss(logits, labels, self.task).detach()
        self.eval_loss.update(loss, weight=labels.shape[0])
        self.metrics[stage].update(predictions(logits, self.task), labels)

    def finish_evaluation(self, stage: str) -> None:
        results = self.metrics[stage].compute()  # synchronised over ranks by torchmetrics
        self.log(f"{stage}/loss", self.eval_loss.compute(), prog_bar=True)
        for i, name in enumerate(self.metric_names):
            self.log(f"{stage}/{name}", results[name].float(), prog_bar=i == 0)
        self.metrics[stage].reset()
        self.eval_loss.reset()
        if "confusion" in results:
            self.confusion[stage] = results["confusion"].cpu()
