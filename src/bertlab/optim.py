"""Optimizer and learning-rate schedule factories referenced by ``conf/optimizer`` and ``conf/scheduler``."""

from __future__ import annotations

import logging

import torch
from torch import nn
from transformers import get_linear_schedule_with_warmup

log = logging.getLogger(__name__)

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
    """AdamW over :func:`parameter_groups`; ``fused=None`` lets torch pick (foreach on CPU, slower there).

    Lightning refuses gradient clipping with a fused optimizer under mixed precision (it cannot unscale the
    gradients first), so a module whose trainer clips in ``*-mixed`` precision gets torch's choice instead.
    """
    if fused and _clips_under_mixed_precision(module):
        log.info(
            "optimizer.fused=true with gradient clipping in mixed precision: using torch's foreach AdamW"
        )
        fused = None
    return torch.optim.AdamW(
        parameter_groups(module, weight_decay), lr=lr, betas=tuple(betas), eps=eps, fused=fused
    )


def _clips_under_mixed_precision(module: nn.Module) -> bool:
    trainer = getattr(module, "_trainer", None)  # set once a Lightning trainer runs the module
    return trainer is not None and "mixed" in str(trainer.precision) and bool(trainer.gradient_clip_val)


def linear_warmup_decay(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_ratio: float = 0.06
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_ratio`` of the run, then linear decay to zero (BERT's schedule)."""
    warmup = int(round(warmup_ratio * total_steps))
    return get_linear_schedule_with_warmup(optimizer, warmup, max(total_steps, 1))
