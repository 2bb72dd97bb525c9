"""bf16-mixed with a fused AdamW: clipping still clips, the fused step is taken, Lightning's plugin refuses."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.plugins.precision import MixedPrecision
from torch import nn

from bertlab.mixed_precision import BF16MixedPrecision, precision_arguments
from bertlab.optim import adamw

CLIP = 0.01


def _model_with_large_gradients() -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8))
    (model(torch.randn(4, 8)) * 100).sum().backward()
    return model, torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)


def _grad_norm(model: nn.Module) -> float:
    return float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()])))


def test_lightning_bf16_refuses_to_clip_for_a_fused_optimizer():
    model, optimizer = _model_with_large_gradients()
    with pytest.raises(RuntimeError, match="fused"):
        MixedPrecision("bf16-mixed", "cpu").clip_gradients(optimizer, CLIP)


def test_bertlab_bf16_clips_the_norm_for_a_fused_optimizer():
    model, optimizer = _model_with_large_gradients()
    assert _grad_norm(model) > 100 * CLIP
    BF16MixedPrecision("cpu").clip_gradients(optimizer, CLIP)
    assert _grad_norm(model) == pytest.approx(CLIP, rel=1e-3)


class _Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.dense = nn.Linear(8, 8)
        self.norms: list[float] = []

    def training_step(self, batch, batch_idx):
        return (self.dense(batch[0]) * 100).float().pow(2).mean()

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:  # after clipping and the step
        self.norms.append(_grad_norm(self))

    def configure_optimizers(self):
        return adamw(self, lr=1e-3)


def test_trainer_with_the_plugin_takes_the_fused_step_and_clips():
    data = torch.utils.data.TensorDataset(torch.randn(8, 8))
    module = _Tiny()
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=3,
        gradient_clip_val=CLIP,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **precision_arguments("bf16-mixed", "cpu"),
    )
    trainer.fit(module, torch.utils.data.DataLoader(data, batch_size=4))
    assert trainer.precision == "bf16-mixed"
    assert trainer.optimizers[0].defaults["fused"] is True
    assert len(module.norms) == 3 and max(module.norms) == pytest.approx(CLIP, rel=1e-3)


@pytest.mark.parametrize("precision", ["32-true", "16-mixed", "bf16-true"])
def test_other_precisions_are_left_to_lightning(precision):
    assert precision_arguments(precision, "cpu") == {"precision": precision, "plugins": []}
