"""The AdamW factory: fused by default, and what Lightning allows under mixed precision."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from torch import nn

from bertlab.data.base import KeyedDataModule
from bertlab.mixed_precision import BF16MixedPrecision
from bertlab.objectives.base import Objective
from bertlab.optim import adamw


class _Module(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dense = nn.Linear(4, 4)
        self.LayerNorm = nn.LayerNorm(4)


@pytest.mark.parametrize(
    ("plugin", "clip", "fused"),
    [
        (Precision(), 1.0, True),
        (MixedPrecision("bf16-mixed", "cpu"), None, True),
        (MixedPrecision("bf16-mixed", "cpu"), 1.0, None),  # Lightning's plugin would refuse to clip
        (BF16MixedPrecision("cpu"), 1.0, True),  # bertlab's bf16 plugin clips for a fused optimizer
        (MixedPrecision("16-mixed", "cpu"), 0.5, None),
    ],
)
def test_fused_unless_the_precision_plugin_refuses_to_clip(plugin, clip, fused):
    module = _Module()
    module._trainer = SimpleNamespace(precision_plugin=plugin, gradient_clip_val=clip)
    optimizer = adamw(module, lr=1e-3)
    assert optimizer.defaults["fused"] is fused


def test_weight_decay_skips_biases_and_layer_norm():
    decay, no_decay = adamw(_Module(), weight_decay=0.1).param_groups
    assert decay["weight_decay"] == 0.1 and len(decay["params"]) == 1  # dense.weight
    assert no_decay["weight_decay"] == 0.0 and len(no_decay["params"]) == 3


@pytest.mark.parametrize(
    ("max_steps", "world", "limit", "accumulate", "epochs", "expected"),
    [
        (7, 1, None, 1, 3, 7),
        (-1, 1, None, 1, 3, 30),
        (-1, 2, None, 1, 3, 15),
        (-1, 1, 4, 1, 2, 8),
        (-1, 1, None, 3, 1, 4),
    ],
)
def test_schedule_counts_the_datamodules_training_batches(
    max_steps, world, limit, accumulate, epochs, expected
):
    datamodule = KeyedDataModule(batch_size=8, eval_batch_size=None, num_workers=0, seed=0)
    datamodule.datasets["train"] = list(range(85))  # 85 // world // 8 batches per epoch
    trainer = SimpleNamespace(
        max_steps=max_steps,
        world_size=world,
        limit_train_batches=limit,
        accumulate_grad_batches=accumulate,
        max_epochs=epochs,
        datamodule=datamodule,
    )
    assert Objective.total_steps(SimpleNamespace(trainer=trainer)) == expected
