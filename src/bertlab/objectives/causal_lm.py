"""Causal language modelling (Radford et al. 2018/2019, "GPT", "GPT-2"; source chapter §4.3, Figs. 5-6).

A decoder with masked self-attention (``model=gpt2_*``: transformers' ``GPT2Model``) predicts every token from
the tokens before it. The collator (:class:`bertlab.data.collators.CLMCollator`) sets labels = input ids; the
loss shifts them (position t's logits against token t+1). The LM head is the input embedding matrix (tied),
named like ``GPT2LMHeadModel.lm_head``, so the export is a rename (``encoder.`` → ``transformer.``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torchmetrics import MeanMetric
from transformers import AutoModelForCausalLM, PreTrainedModel

from bertlab.data.masking import IGNORE_INDEX
from bertlab.errors import ConfigError
from bertlab.models.encoder import position_limit
from bertlab.models.hf_names import load_encoder
from bertlab.objectives.base import Objective

_CAUSAL = {"gpt2"}  # model types whose base model always applies a causal mask


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token cross-entropy: logits (B, T, V) at t against labels (B, T) at t+1 → (mean loss, count)."""
    shifted_logits = logits[:, :-1].reshape(-1, logits.shape[-1])  # (B·(T-1), V)
    targets = labels[:, 1:].reshape(-1)  # (B·(T-1),)
    count = (targets != IGNORE_INDEX).sum()
    loss = nn.functional.cross_entropy(shifted_logits.float(), targets, ignore_index=IGNORE_INDEX)
    return loss, count


class CausalLanguageModeling(Objective):
    """Decoder + tied LM head. Logs ``train/loss``, ``val/loss``, ``val/perplexity``."""

    batch_keys = ("input_ids", "attention_mask", "labels")
    metric_names = ("perplexity",)

    def __init__(
        self, encoder: PreTrainedModel, optimizer: Callable, scheduler: Callable | None = None
    ) -> None:
        super().__init__(optimizer, scheduler)
        config = encoder.config
        if config.model_type not in _CAUSAL and not getattr(config, "is_decoder", False):
            raise ConfigError(
                f"objective=clm needs a causal decoder (e.g. model=gpt2_mini); model.model_type="
                f"{config.model_type} attends in both directions"
            )
        self.encoder = encoder
        embeddings = encoder.get_input_embeddings()  # (V, E)
        self.lm_head = nn.Linear(embeddings.embedding_dim, embeddings.num_embeddings, bias=False)
        self.lm_head.weight = embeddings.weight  # tied, as GPT2LMHeadModel
        self.eval_loss = MeanMetric()

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Next-token logits (B, T, V)."""
        hidden = self.encoder(
            input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask")
        ).last_hidden_state  # (B, T, H)
        return self.lm_head(hidden)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, _ = causal_lm_loss(self(batch), batch["labels"])
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def evaluate_batch(self, batch: dict[str, torch.Tensor], batch_idx: int, stage: str) -> None:
        loss, count = causal_lm_loss(self(batch), batch["labels"])
        self.eval_loss.update(loss.detach(), weight=count)  # token-weighted: exact corpus mean

    def finish_evaluation(self, stage: str) -> None:
        loss = self.eval_loss.compute()
        self.log(f"{stage}/loss", loss, prog_bar=True)
        self.log(f"{stage}/perplexity", torch.exp(loss))
        self.eval_loss.reset()

    def hf_models(self) -> dict[str, PreTrainedModel]:
        """``GPT2LMHeadModel`` (``transformer.`` = our decoder; ``lm_head`` tied to ``wte``)."""
        task = AutoModelForCausalLM.from_config(self.encoder.config)
        load_encoder(task, self.encoder)
        task.tie_weights()
        return {"": task}


@torch.no_grad()
def sample_continuation(
    module: CausalLanguageModeling,
    tokenizer,
    prompt: str,
    max_new_tokens: int = 40,
    seed: int = 0,
    temperature: float = 1.0,
    top_k: int | None = 50,
) -> str:
    """Sample ``max_new_tokens`` after ``prompt`` (ancestral sampling, optionally top-k) → the new text only.

    The prompt is framed like a training block (``[CLS]`` first, when the tokenizer has one); the context is
    cropped to the model's position limit. Deterministic for a given ``seed``; ``module`` is left in eval mode.
    """
    if temperature <= 0:
        raise ValueError(f"temperature={temperature}: expected a positive value")
    module.eval()
    device = next(module.parameters()).device
    rng = torch.Generator(device=device).manual_seed(seed)
    start = [tokenizer.cls_token_id] if tokenizer.cls_token_id is not None else []
    ids = torch.tensor([start + tokenizer(prompt, add_special_tokens=False)["input_ids"]], device=device)
    limit, generated = position_limit(module.encoder), []
    for _ in range(max_new_tokens):
        logits = module({"input_ids": ids[:, -limit:]})[0, -1].float() / temperature  # (V,)
        if top_k is not None:
            kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        token = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=rng)  # (1,)
        ids = torch.cat([ids, token[None]], dim=1)
        generated.append(int(token))
    return tokenizer.decode(generated, skip_special_tokens=True)
