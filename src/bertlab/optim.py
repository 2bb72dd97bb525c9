"""Optimizer and learning-rate schedule factories referenced by ``conf/optimizer`` and ``conf/scheduler``."""

from __future__ import annotations

import logging

import torch
from torch import nn
from transformers import get_linear_schedule_with_warmup

from bertlab.mixed_precision import refuses_fused_clipping

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
    """AdamW over :func:`parameter_groups`; ``fused=None`` lets torch pick (foreach on CPU).

    Lightning's own mixed-precision plugin refuses gradient clipping with a fused optimizer (under fp16 it
    could not unscale the gradients first); bertlab's bf16 plugin (:mod:`bertlab.mixed_precision`) allows it.
    A module whose trainer clips with a plugin that refuses gets torch's choice instead.
    """
    if fused and _clipping_refuses_fused(module):
        log.info("optimizer.fused=true with gradient clipping in fp16 mixed precision: using foreach AdamW")
        fused = None
    return torch.optim.AdamW(
        parameter_groups(module, weight_decay), lr=lr, betas=tuple(betas), eps=eps, fused=fused
    )


def _clipping_refuses_fused(module: nn.Module) -> bool:
    trainer = getattr(module, "_trainer", None)  # set once a Lightning trainer runs the module
    return (
        trainer is not None
        and bool(trainer.gradient_clip_val)
        and refuses_fused_clipping(trainer.precision_plugin)
    )


def linear_warmup_decay(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_ratio: float = 0.06
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_ratio`` of the run, then linear decay to zero (BERT's schedule)."""
    warmup = int(round(warmup_ratio * total_steps))
    return get_linear_schedule_with_warmup(optimizer, warmup, max(total_steps, 1))
