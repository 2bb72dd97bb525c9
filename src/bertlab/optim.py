"""Optimizer and learning-rate schedule factories referenced by ``conf/optimizer`` and ``conf/scheduler``."""

from __future__ import annotations

import torch
from torch import nn
from transformers import get_linear_schedule_with_warmup

_NO_DECAY = ("bias", "LayerNorm.weight", "LayerNorm.bias", "layer_norm.weight", "layer_norm.bias")


def parameter_groups(module: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on weights only: biases and LayerNorm parameters are excluded, as in BERT."""
    decay, no_decay = [], []
    for name, param in module.named_parameters():
        if param.requires_grad:
            (no_decay if name.endswith(_NO_DECAY) else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def adamw(
    module: nn.Module,
    lr: float = 1e-4,
    weight_decay: float = 0.01,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    fused: bool | None = True,
) -> torch.optim.Optimizer:
    """AdamW over :func:`parameter_groups`; ``fused=None`` lets torch pick (foreach on CPU, slower there)."""
    return torch.optim.AdamW(parameter_groups(module, weight_decay), lr=lr, betas=tuple(betas), eps=eps, fused=fused)


def linear_warmup_decay(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_ratio: float = 0.06
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_ratio`` of the run, then linear decay to zero (BERT's schedule)."""
    warmup = int(round(warmup_ratio * total_steps))
    return get_linear_schedule_with_warmup(optimizer, warmup, max(total_steps, 1))
