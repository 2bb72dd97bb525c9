"""Masked language modelling (Devlin et al. 2019, "BERT", §3.1; source chapter §4.2.4 and Table 1).

The collator (:class:`bertlab.data.collators.MLMCollator`) corrupts 15% of tokens (80/10/10) and labels them;
the loss is cross-entropy at the labelled positions only. The LM head is tied to the input embeddings and
decodes only the selected rows (the vocabulary projection is about half a small BERT's FLOPs otherwise).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torchmetrics import MeanMetric
from transformers import AutoModelForMaskedLM, PreTrainedModel

from bertlab.data.masking import IGNORE_INDEX
from bertlab.models.heads import MaskedLMHead, init_like
from bertlab.models.hf_names import load_encoder, load_renamed, mlm_head_state
from bertlab.objectives.base import ENCODER_INPUTS, Objective


def masked_lm_loss(
    hidden: torch.Tensor, labels: torch.Tensor, head: MaskedLMHead, decoder_weight: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean cross-entropy over labelled positions → (loss, logits (N, V), targets (N,))."""
    selected = labels != IGNORE_INDEX  # (B, T)
    logits = head(hidden[selected], decoder_weight)  # (N, H) → (N, V)
    targets = labels[selected]  # (N,)
    return nn.functional.cross_entropy(logits.float(), targets), logits, targets


class MaskedLanguageModeling(Objective):
    """Encoder + tied MLM head. Logs ``train/loss``, ``val/loss``, ``val/perplexity``, ``val/mlm_accuracy``."""

    batch_keys = (*ENCODER_INPUTS, "labels")
    metric_names = ("perplexity", "mlm_accuracy")

    def __init__(self, encoder: nn.Module, optimizer: Callable, scheduler: Callable | None = None) -> None:
        super().__init__(optimizer, scheduler)
        self.encoder = encoder
        self.head = init_like(MaskedLMHead.for_config(encoder.config), encoder)
        self.eval_loss = MeanMetric()
        self.eval_accuracy = MeanMetric()

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = self.encode(batch)
        return masked_lm_loss(hidden, batch["labels"], self.head, self.encoder.get_input_embeddings().weight)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, _, _ = self(batch)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def evaluate_batch(self, batch: dict[str, torch.Tensor], batch_idx: int, stage: str) -> None:
        loss, logits, targets = self(batch)
        count = targets.numel()
        self.eval_loss.update(loss.detach(), weight=count)  # token-weighted: exact corpus mean over ranks
        self.eval_accuracy.update((logits.argmax(-1) == targets).float().mean(), weight=count)

    def finish_evaluation(self, stage: str) -> None:
        loss = self.eval_loss.compute()  # synchronised over ranks by torchmetrics
        # values are already reduced over ranks; sync_dist=True makes every rank log the same number
        self.log(f"{stage}/loss", loss, prog_bar=True, sync_dist=True)
        self.log(f"{stage}/perplexity", torch.exp(loss), sync_dist=True)
        self.log(f"{stage}/mlm_accuracy", self.eval_accuracy.compute(), sync_dist=True)
        self.eval_loss.reset()
        self.eval_accuracy.reset()

    def hf_models(self) -> dict[str, PreTrainedModel]:
        """``BertForMaskedLM`` (``AlbertForMaskedLM``, ... by encoder type) holding our encoder and head."""
        task = AutoModelForMaskedLM.from_config(self.encoder.config)
        load_encoder(task, self.encoder)
        load_renamed(task, mlm_head_state(self.encoder.config.model_type, self.head))
        return {"": task}
