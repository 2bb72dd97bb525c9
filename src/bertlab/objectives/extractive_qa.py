"""Extractive question answering on SQuAD (Devlin et al. 2019, BERT §4.2–4.3; source chapter Codes 10–12).

A span head (``qa_outputs``: H → 2) gives start and end logits per token; the loss is the mean of the start
and end cross-entropies (``BertForQuestionAnswering``). Evaluation collects the logits of every window once
(keyed by window index, gathered over DDP ranks), decodes each example over all of its windows
(:mod:`bertlab.evaluation.span_decoding`) and scores with the official v2.0 semantics
(:mod:`bertlab.evaluation.squad_v2`), at ``null_threshold`` and at the best threshold. The decoded predictions
stay in ``predictions[stage]``; report callbacks (:mod:`bertlab.callbacks.reports`) write them as the official
``predictions.json``, ``nbest_predictions.json`` and ``null_odds.json`` and as a W&B table.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torchmetrics import MeanMetric
from transformers import AutoModelForQuestionAnswering, PreTrainedModel

from bertlab.data.squad import SquadExample
from bertlab.evaluation import span_decoding, squad_v2
from bertlab.models.heads import SpanHead, init_like
from bertlab.models.hf_names import load_encoder, load_renamed
from bertlab.objectives.base import ENCODER_INPUTS, Objective

log = logging.getLogger(__name__)


@dataclass
class QAEvaluation:
    """What one evaluation decoded: the examples scored, their predictions and gold answer texts by id."""

    examples: list[SquadExample]
    predictions: span_decoding.Predictions
    golds: dict[str, list[str]]


def span_loss(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    start_positions: torch.Tensor,
    end_positions: torch.Tensor,
) -> torch.Tensor:
    """Mean of the start and end cross-entropies; logits (B, T), positions (B,) token indices."""
    start = nn.functional.cross_entropy(start_logits, start_positions)
    end = nn.functional.cross_entropy(end_logits, end_positions)
    return (start + end) / 2


def complete_examples(
    examples: list, windows: list, collected: dict
) -> tuple[dict[str, str], dict[int, object]]:
    """Contexts of the examples whose windows were all collected, and those windows as ``WindowLogits``.

    Examples with missing windows (``limit_val_batches``) are left out with a warning, never half-decoded.
    """
    missing = {windows[i].example_index for i in range(len(windows)) if i not in collected}
    if missing:
        log.warning(
            "evaluating %d of %d examples: the others were not fully seen",
            len(examples) - len(missing),
            len(examples),
        )
    contexts = {e.id: e.context for k, e in enumerate(examples) if k not in missing}
    logits = {
        i: span_decoding.WindowLogits(examples[w.example_index].id, *collected[i], w.offsets)
        for i, w in enumerate(windows)
        if w.example_index not in missing
    }
    return contexts, logits


class ExtractiveQuestionAnswering(Objective):
    """Encoder + span head. Logs ``train/loss``, ``val/loss`` and the v2.0 metrics as ``val/<name>``."""

    batch_keys = (*ENCODER_INPUTS, "start_positions", "end_positions", "window_index")
    # always logged; HasAns_* / NoAns_* too when the stage has answerable / unanswerable questions
    metric_names = (
        "exact",
        "f1",
        "total",
        "best_exact",
        "best_exact_thresh",
        "best_f1",
        "best_f1_thresh",
    )

    def __init__(
        self,
        encoder: nn.Module,
        optimizer: Callable,
        scheduler: Callable | None = None,
        n_best: int = 20,
        max_answer_length: int = 30,
        null_threshold: float = 0.0,
        char_f1: bool = False,
        version_2_with_negative: bool = True,
        window_settings: dict[str, int] | None = None,
    ) -> None:
        super().__init__(optimizer, scheduler)
        # from the data: without unanswerable questions (SQuAD v1.1-style files) never predict the empty answer
        self.version_2_with_negative = version_2_with_negative
        # the data's max_length, doc_stride, max_query_length, recorded by the export
        self.window_settings = dict(window_settings or {})
        self.char_f1 = char_f1  # also log KorQuAD's character F1 (val/char_f1) and exact (val/char_exact)
        if char_f1:
            self.metric_names = (*type(self).metric_names, "char_exact", "char_f1")
        self.encoder = encoder
        self.head = init_like(SpanHead.for_config(encoder.config), encoder)
        self.n_best, self.max_answer_length, self.null_threshold = n_best, max_answer_length, null_threshold
        self.eval_loss = MeanMetric()
        self.collected: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.predictions: dict[str, QAEvaluation] = {}  # the last evaluation per stage, for report callbacks

    def decoding_settings(self) -> dict:
        """How this model's questions are windowed and its answers decoded, as the export records them
        (``config.bertlab_qa``) for ``bertlab-predict``: the null threshold is ``null`` (never answer "")
        without unanswerable training data."""
        return {
            **self.window_settings,
            "n_best": self.n_best,
            "max_answer_length": self.max_answer_length,
            "null_threshold": self.null_threshold if self.version_2_with_negative else None,
        }

    def hf_models(self) -> dict[str, PreTrainedModel]:
        """``BertForQuestionAnswering`` (or the encoder type's QA model): our head is its ``qa_outputs``; its
        config carries :meth:`decoding_settings` as ``bertlab_qa``."""
        config = copy.deepcopy(self.encoder.config)
        config.bertlab_qa = self.decoding_settings()
        task = AutoModelForQuestionAnswering.from_config(config)
        load_encoder(task, self.encoder)
        load_renamed(task, self.head.state_dict())
        return {"": task}

    def load_exported(self, directory: str | Path) -> None:
        """Take the span head from an exported QA model (the encoder was built from the same directory)."""
        task = AutoModelForQuestionAnswering.from_pretrained(str(directory))
        self.head.qa_outputs.load_state_dict(task.qa_outputs.state_dict())

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Start and end logits (B, T) in float32; padding positions get the lowest value."""
        start, end = self.head(self.encode(batch))  # (B, T) each
        padding = batch["attention_mask"] == 0  # (B, T)
        low = torch.finfo(torch.float32).min
        return start.float().masked_fill(padding, low), end.float().masked_fill(padding, low)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = span_loss(*self(batch), batch["start_positions"], batch["end_positions"])
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def evaluate_batch(self, batch: dict[str, torch.Tensor], batch_idx: int, stage: str) -> None:
        start, end = self(batch)
        loss = span_loss(start, end, batch["start_positions"], batch["end_positions"])
        self.eval_loss.update(loss.detach(), weight=len(start))
        lengths = batch["attention_mask"].sum(-1).tolist()
        for row, index in enumerate(batch["window_index"].tolist()):
            n = lengths[row]
            self.collected[index] = (start[row, :n].cpu().numpy(), end[row, :n].cpu().numpy())

    def _gathered(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Every rank's windows; the keyed sampler gives each window to exactly one rank."""
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return self.collected
        parts: list[dict] = [{} for _ in range(dist.get_world_size())]
        dist.all_gather_object(parts, self.collected)
        merged: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for part in parts:
            duplicated = merged.keys() & part.keys()
            if duplicated:
                raise RuntimeError(f"windows {sorted(duplicated)[:5]} were evaluated on more than one rank")
            merged.update(part)
        return merged

    def finish_evaluation(self, stage: str) -> None:
        self.predictions.pop(stage, None)
        examples, windows = self.trainer.datamodule.evaluation_set(stage)
        contexts, logits = complete_examples(examples, windows, self._gathered())
        self.collected = {}
        self.log(f"{stage}/loss", self.eval_loss.compute(), sync_dist=True)
        self.eval_loss.reset()
        if not contexts:
            return
        threshold = self.null_threshold if self.version_2_with_negative else math.inf
        predictions = span_decoding.decode(logits, contexts, self.n_best, self.max_answer_length, threshold)
        golds = {e.id: [a.text for a in e.answers] for e in examples if e.id in contexts}
        metrics = squad_v2.evaluate(
            golds, predictions.best_non_null, predictions.null_odds, threshold, self.char_f1
        )
        for name, value in metrics.items():
            self.log(f"{stage}/{name}", float(value), sync_dist=True, prog_bar=name == "f1")
        self.predictions[stage] = QAEvaluation(examples, predictions, golds)
