"""The AdamW factory: fused by default, and what Lightning allows under mixed precision."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from torch import nn

from bertlab.optim import adamw


class _Module(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dense = nn.Linear(4, 4)
        self.LayerNorm = nn.LayerNorm(4)


@pytest.mark.parametrize(
    ("precision", "clip", "fused"),
    [("32-true", 1.0, True), ("bf16-mixed", None, True), ("bf16-mixed", 1.0, None), ("16-mixed", 0.5, None)],
)
def test_fused_unless_lightning_must_unscale_before_clipping(precision, clip, fused):
    module = _Module()
    module._trainer = SimpleNamespace(precision=precision, gradient_clip_val=clip)
    optimizer = adamw(module, lr=1e-3)
    assert optimizer.defaults["fused"] is fused


def test_weight_decay_skips_biases_and_layer_norm():
    decay, no_decay = adamw(_Module(), weight_decay=0.1).param_groups
    assert decay["weight_decay"] == 0.1 and len(decay["params"]) == 1  # dense.weight
    assert no_decay["weight_decay"] == 0.0 and len(no_decay["params"]) == 3
