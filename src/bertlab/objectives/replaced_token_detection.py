"""ELECTRA replaced-token detection (Clark et al. 2020, "ELECTRA", §2 and §3.2; source chapter §4.6, Figs. 11-12).

The MLM collator selects 15% of the tokens (ELECTRA's recipe: 85% ``[MASK]``, 15% unchanged). A small
*generator* — an MLM encoder of the same depth, ``generator_ratio`` × the width, heads and feed-forward size —
predicts them; at every selected position a token is sampled from its distribution (no gradient flows through
the sampling). The *discriminator* (the main encoder: the model that is exported and fine-tuned) then labels
every non-pad token as original (0) or replaced (1); a sample equal to the original counts as original.
Loss = generator MLM loss + ``disc_weight`` (50) × discriminator binary cross-entropy.

Generator and discriminator share the token, position and type embeddings and the embedding LayerNorm: the
generator's ``embeddings`` *is* the discriminator's module. The generator is an ``ElectraModel`` whose
``embedding_size`` is the discriminator's embedding width, so a narrower generator projects the shared
embeddings with its own ``embeddings_project`` (as ELECTRA does), and its MLM head maps back to that width.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import BinaryAccuracy, BinaryPrecision, BinaryRecall
from transformers import (
    AutoConfig,
    AutoModel,
    ElectraForMaskedLM,
    ElectraForPreTraining,
    PretrainedConfig,
    PreTrainedModel,
)

from bertlab.data.masking import IGNORE_INDEX
from bertlab.errors import ConfigError
from bertlab.models.dropout import FastDropout, use_fast_dropout
from bertlab.models.heads import MaskedLMHead, RTDHead, init_like
from bertlab.models.hf_names import load_encoder, load_renamed, mlm_head_state, rtd_head_state
from bertlab.objectives.base import ENCODER_INPUTS, Objective
from bertlab.objectives.masked_lm import masked_lm_loss

_STAGES = {"train": 0, "val": 1, "test": 2}  # separate sampling streams


def _scaled(value: int, ratio: float, key: str) -> int:
    scaled = value * ratio
    if scaled < 1 or abs(scaled - round(scaled)) > 1e-6:
        raise ConfigError(
            f"objective.module.generator_ratio={ratio} × model.{key}={value} = {scaled:g} is not a whole "
            f"positive number; choose a generator_ratio that divides model.{key} (e.g. 1/{value})"
        )
    return int(round(scaled))


def generator_config(config: PretrainedConfig, ratio: float) -> PretrainedConfig:
    """ELECTRA generator config: the discriminator's depth, ``ratio`` × its hidden size, heads and FFN size.

    Scaling the heads keeps the head dimension, as ELECTRA's generators do (base: 768/12 → 256/4).
    """
    if not hasattr(config, "num_attention_heads") or getattr(config, "is_decoder", False):
        raise ConfigError(
            f"objective=rtd needs a bidirectional encoder; model.model_type={config.model_type}"
        )
    return AutoConfig.for_model(
        "electra",
        vocab_size=config.vocab_size,
        embedding_size=getattr(config, "embedding_size", None) or config.hidden_size,
        hidden_size=_scaled(config.hidden_size, ratio, "hidden_size"),
        num_attention_heads=_scaled(config.num_attention_heads, ratio, "num_attention_heads"),
        intermediate_size=_scaled(config.intermediate_size, ratio, "intermediate_size"),
        num_hidden_layers=config.num_hidden_layers,
        max_position_embeddings=config.max_position_embeddings,
        type_vocab_size=config.type_vocab_size,
        hidden_act=config.hidden_act,
        layer_norm_eps=config.layer_norm_eps,
        initializer_range=config.initializer_range,  # a user's model.initializer_range reaches both halves
        hidden_dropout_prob=config.hidden_dropout_prob,
        attention_probs_dropout_prob=config.attention_probs_dropout_prob,
        pad_token_id=config.pad_token_id,
    )


def build_generator(discriminator: PreTrainedModel, ratio: float) -> PreTrainedModel:
    """A narrower ``ElectraModel`` whose ``embeddings`` module is the discriminator's (the same tensors)."""
    generator = AutoModel.from_config(
        generator_config(discriminator.config, ratio),
        attn_implementation=discriminator.config._attn_implementation,
    )
    generator.embeddings = discriminator.embeddings
    if any(isinstance(m, FastDropout) for m in discriminator.modules()):
        use_fast_dropout(generator)  # the generator follows the discriminator's dropout implementation
    return generator


def sampling_rng(seed: int, stage: str, step: int, rank: int, device: torch.device) -> torch.Generator:
    """A generator keyed by (seed, stage, step, rank): resuming at a step replays the same samples."""
    key = np.random.SeedSequence([seed, _STAGES[stage], step, rank]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator(device=device).manual_seed(int(key) & 0x7FFF_FFFF_FFFF_FFFF)


def sample_replacements(logits: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """One token per row from softmax(logits), without gradient. (N, V) → (N,).

    Inverse-CDF sampling: one uniform per row (``torch.multinomial`` draws V exponentials per row, which
    costs as much as the generator's vocabulary projection). Zero-probability tokens are never drawn.
    """
    with torch.no_grad():
        cdf = torch.softmax(logits.detach().float(), dim=-1).cumsum(dim=-1)  # (N, V)
        u = torch.rand(cdf.shape[0], 1, generator=rng, device=cdf.device) * cdf[:, -1:]  # (N, 1)
        return torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp_max(cdf.shape[-1] - 1)


def replace_tokens(
    input_ids: torch.Tensor, labels: torch.Tensor, sampled: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Discriminator input and labels. ``labels`` hold the original id at selected positions, else -100.

    Returns (replaced (B, T), rtd_labels (B, T) int64) with rtd_labels = replaced != original, so a sample that
    equals the original is labelled original.
    """
    selected = labels != IGNORE_INDEX  # (B, T)
    original = torch.where(selected, labels, input_ids)  # (B, T); unselected positions are uncorrupted
    replaced = original.clone()
    replaced[selected] = sampled
    return replaced, (replaced != original).long()


def discriminator_loss(
    logits: torch.Tensor, rtd_labels: torch.Tensor, token_mask: torch.Tensor
) -> torch.Tensor:
    """Mean binary cross-entropy over the non-pad tokens. (B, T) logits, labels and bool mask → scalar."""
    return nn.functional.binary_cross_entropy_with_logits(
        logits[token_mask].float(), rtd_labels[token_mask].float()
    )


class ReplacedTokenDetection(Objective):
    """Generator + discriminator. Logs ``train/{loss,gen_loss,disc_loss}``, ``val/loss``, ``val/rtd_*``."""

    batch_keys = (*ENCODER_INPUTS, "labels")
    metric_names = ("gen_loss", "disc_loss", "rtd_accuracy", "rtd_precision", "rtd_recall")

    def __init__(
        self,
        encoder: PreTrainedModel,
        optimizer: Callable,
        scheduler: Callable | None = None,
        generator_ratio: float = 0.25,
        disc_weight: float = 50.0,
        seed: int = 0,
    ) -> None:
        super().__init__(optimizer, scheduler)
        self.encoder = encoder  # the discriminator
        self.rtd_head = init_like(RTDHead.for_config(encoder.config), encoder)
        self.generator = build_generator(encoder, generator_ratio)
        self.generator_head = init_like(MaskedLMHead.for_config(self.generator.config), self.generator)
        self.disc_weight, self.seed = disc_weight, seed
        self.eval_loss, self.eval_gen_loss, self.eval_disc_loss = MeanMetric(), MeanMetric(), MeanMetric()
        self.rtd_metrics = nn.ModuleDict(
            {
                "rtd_accuracy": BinaryAccuracy(),
                "rtd_precision": BinaryPrecision(),
                "rtd_recall": BinaryRecall(),
            }
        )

    def forward(self, batch: dict[str, torch.Tensor], rng: torch.Generator) -> dict[str, torch.Tensor]:
        """Generator MLM → sampled replacements → discriminator logits (B, T) and the three losses."""
        gen_hidden = self.generator(
            input_ids=batch["input_ids"],
            attention_mask=batch.get("attention_mask"),
            token_type_ids=batch.get("token_type_ids"),
        ).last_hidden_state  # (B, T, Hg)
        word_embeddings = self.encoder.get_input_embeddings().weight  # (V, E), shared
        gen_loss, gen_logits, _ = masked_lm_loss(
            gen_hidden, batch["labels"], self.generator_head, word_embeddings
        )
        replaced, rtd_labels = replace_tokens(
            batch["input_ids"], batch["labels"], sample_replacements(gen_logits, rng)
        )
        disc_logits = self.rtd_head(self.encode({**batch, "input_ids": replaced}))  # (B, T)
        token_mask = (
            batch["attention_mask"].bool() if "attention_mask" in batch else torch.ones_like(replaced).bool()
        )
        disc_loss = discriminator_loss(disc_logits, rtd_labels, token_mask)
        return {
            "loss": gen_loss + self.disc_weight * disc_loss,
            "gen_loss": gen_loss,
            "disc_loss": disc_loss,
            "disc_logits": disc_logits[token_mask],  # (N,)
            "rtd_labels": rtd_labels[token_mask],  # (N,)
        }

    def _rng(self, stage: str, step: int) -> torch.Generator:
        return sampling_rng(self.seed, stage, step, self.global_rank, self.device)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        out = self(batch, self._rng("train", self.global_step))
        self.log("train/loss", out["loss"], prog_bar=True)
        self.log("train/gen_loss", out["gen_loss"])
        self.log("train/disc_loss", out["disc_loss"])
        return out["loss"]

    def evaluate_batch(self, batch: dict[str, torch.Tensor], batch_idx: int, stage: str) -> None:
        out = self(batch, self._rng(stage, batch_idx))  # keyed by batch: every evaluation sees the same draws
        count = out["rtd_labels"].numel()
        self.eval_loss.update(out["loss"].detach(), weight=count)
        self.eval_gen_loss.update(out["gen_loss"].detach(), weight=count)
        self.eval_disc_loss.update(out["disc_loss"].detach(), weight=count)
        probs = torch.sigmoid(out["disc_logits"].float())
        for metric in self.rtd_metrics.values():
            metric.update(probs, out["rtd_labels"])

    def finish_evaluation(self, stage: str) -> None:
        self.log(f"{stage}/loss", self.eval_loss.compute(), prog_bar=True)
        self.log(f"{stage}/gen_loss", self.eval_gen_loss.compute())
        self.log(f"{stage}/disc_loss", self.eval_disc_loss.compute())
        for name, metric in self.rtd_metrics.items():
            self.log(f"{stage}/{name}", metric.compute())
            metric.reset()
        for metric in (self.eval_loss, self.eval_gen_loss, self.eval_disc_loss):
            metric.reset()

    def hf_models(self) -> dict[str, PreTrainedModel]:
        """The discriminator as ``ElectraForPreTraining`` (the directory itself: it is what gets fine-tuned)
        and the generator as ``ElectraForMaskedLM`` in ``generator/``."""
        if self.encoder.config.model_type not in ("bert", "electra"):
            raise ConfigError(
                f"RTD export writes ELECTRA models; model.model_type={self.encoder.config.model_type} has no "
                "ELECTRA equivalent"
            )
        discriminator = ElectraForPreTraining(generator_config(self.encoder.config, 1.0))
        load_encoder(discriminator, self.encoder)
        load_renamed(discriminator, rtd_head_state(self.rtd_head))
        generator = ElectraForMaskedLM(self.generator.config)
        load_encoder(generator, self.generator)
        load_renamed(generator, mlm_head_state("electra", self.generator_head))
        return {"": discriminator, "generator": generator}
