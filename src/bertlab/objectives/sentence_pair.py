"""Sentence-pair pretraining: MLM + next sentence prediction (Devlin et al. 2019, "BERT", §3.1 Task #2) or
sentence order prediction (Lan et al. 2020, "ALBERT", §4.3); source chapter Blocks 5-6 and 15.

Both use one pair head (pooled ``[CLS]`` → 2 logits, :class:`bertlab.models.heads.PairHead`); they differ
only in how the data pairs are built (:mod:`bertlab.data.pairs`, chosen by ``objective.pairing``).
The loss is the MLM loss plus the pair cross-entropy, as ``BertForPreTraining`` computes it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torchmetrics import MeanMetric
from transformers import AutoModelForPreTraining, PreTrainedModel

from bertlab.models.heads import MaskedLMHead, PairHead, init_like
from bertlab.models.hf_names import load_encoder, load_renamed, mlm_head_state, pair_head_state
from bertlab.objectives.base import ENCODER_INPUTS, Objective
from bertlab.objectives.masked_lm import masked_lm_loss


def pair_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of (B, 2) pair logits against (B,) labels (1 = next / in order)."""
    return nn.functional.cross_entropy(logits.float(), labels)


class SentencePairPretraining(Objective):
    """Encoder + tied MLM head + pair head. Loss = MLM loss + pair loss.

    Logs ``train/loss``, ``train/mlm_loss``, ``train/pair_loss`` and, per evaluation epoch, ``val/loss``
    (= ``val/mlm_loss`` + ``val/pair_loss``), ``val/perplexity`` (MLM), ``val/mlm_accuracy``,
    ``val/pair_accuracy``.
    """

    batch_keys = (*ENCODER_INPUTS, "labels", "next_sentence_label")
    metric_names = ("mlm_loss", "pair_loss", "perplexity", "mlm_accuracy", "pair_accuracy")

    def __init__(self, encoder: nn.Module, optimizer: Callable, scheduler: Callable | None = None) -> None:
        super().__init__(optimizer, scheduler)
        self.encoder = encoder
        self.head = init_like(MaskedLMHead.for_config(encoder.config), encoder)  # cls.predictions
        # bert.pooler + cls.seq_relationship
        self.pair_head = init_like(PairHead.for_config(encoder.config), encoder)
        self.eval_mlm_loss, self.eval_mlm_accuracy = MeanMetric(), MeanMetric()
        self.eval_pair_loss, self.eval_pair_accuracy = MeanMetric(), MeanMetric()

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        hidden = self.encode(batch)  # (B, T, H)
        decoder = self.encoder.get_input_embeddings().weight
        mlm, mlm_logits, mlm_targets = masked_lm_loss(hidden, batch["labels"], self.head, decoder)
        pair_logits = self.pair_head(hidden)  # (B, 2)
        pair = pair_loss(pair_logits, batch["next_sentence_label"])
        return {
            "loss": mlm + pair,
            "mlm_loss": mlm,
            "pair_loss": pair,
            "mlm_logits": mlm_logits,
            "mlm_targets": mlm_targets,
            "pair_logits": pair_logits,
        }

    def hf_models(self) -> dict[str, PreTrainedModel]:
        """``BertForPreTraining`` / ``AlbertForPreTraining`` holding our encoder, MLM head and pair head."""
        task = AutoModelForPreTraining.from_config(self.encoder.config)
        load_encoder(task, self.encoder)
        model_type = self.encoder.config.model_type
        load_renamed(
            task, mlm_head_state(model_type, self.head) | pair_head_state(model_type, self.pair_head)
        )
        return {"": task}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        out = self(batch)
        self.log("train/loss", out["loss"], prog_bar=True)
        self.log("train/mlm_loss", out["mlm_loss"])
        self.log("train/pair_loss", out["pair_loss"])
        return out["loss"]

    def evaluate_batch(self, batch: dict[str, torch.Tensor], batch_idx: int, stage: str) -> None:
        out = self(batch)
        tokens, rows = out["mlm_targets"].numel(), batch["next_sentence_label"].numel()
        # weighted: exact corpus means over batches and ranks
        self.eval_mlm_loss.update(out["mlm_loss"].detach(), weight=tokens)
        self.eval_mlm_accuracy.update(
            (out["mlm_logits"].argmax(-1) == out["mlm_targets"]).float().mean(), tokens
        )
        self.eval_pair_loss.update(out["pair_loss"].detach(), weight=rows)
        correct = out["pair_logits"].argmax(-1) == batch["next_sentence_label"]
        self.eval_pair_accuracy.update(correct.float().mean(), weight=rows)

    def finish_evaluation(self, stage: str) -> None:
        metrics = (self.eval_mlm_loss, self.eval_mlm_accuracy, self.eval_pair_loss, self.eval_pair_accuracy)
        mlm, mlm_accuracy, pair, pair_accuracy = (m.compute() for m in metrics)  # synchronised over ranks
        self.log(f"{stage}/loss", mlm + pair, prog_bar=True)
        self.log(f"{stage}/mlm_loss", mlm)
        self.log(f"{stage}/pair_loss", pair)
        self.log(f"{stage}/perplexity", torch.exp(mlm))
        self.log(f"{stage}/mlm_accuracy", mlm_accuracy)
        self.log(f"{stage}/pair_accuracy", pair_accuracy)
        for metric in metrics:
            metric.reset()
