"""``bf16-mixed`` as Lightning runs it, except that a fused optimizer may clip gradients.

Lightning's ``MixedPrecision.clip_gradients`` refuses every optimizer that unscales gradients inside its step
(``_step_supports_amp_scaling``, i.e. fused AdamW): with fp16 a ``GradScaler`` multiplies the loss, and a
fused step would unscale only after clipping had seen the scaled gradients. bf16 has no scaler (Lightning
refuses one), so the gradients clipping sees are the true ones and a fused step is as correct as a foreach
one. :class:`BF16MixedPrecision` keeps Lightning's bf16 autocast and optimizer step and clips as the plain
``Precision`` plugin does. What fused AdamW buys per step is measured by ``benchmarks/mlm_vs_hf.py``
(``--variants``), not assumed here.
"""

from __future__ import annotations

from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.utilities import GradClipAlgorithmType
from torch.optim import Optimizer

from bertlab.precision import uses_cuda

BF16 = "bf16-mixed"


class BF16MixedPrecision(MixedPrecision):
    """Lightning's ``MixedPrecision("bf16-mixed", device)`` whose clipping accepts fused optimizers."""

    def __init__(self, device: str = "cpu") -> None:
        super().__init__(BF16, device)

    def clip_gradients(
        self,
        optimizer: Optimizer,
        clip_val: int | float = 0.0,
        gradient_clip_algorithm: GradClipAlgorithmType = GradClipAlgorithmType.NORM,
    ) -> None:
        # no scaler under bf16 (MixedPrecision.__init__ refuses one): the gradients are unscaled already
        Precision.clip_gradients(self, optimizer, clip_val, gradient_clip_algorithm)


def precision_arguments(precision: str, accelerator: str) -> dict:
    """Trainer keyword arguments for a resolved precision: ``precision=`` as given, or for ``bf16-mixed``
    (the only kind this changes) ``precision=None`` and the plugin in ``plugins=`` (Lightning takes one of
    the two). Add other plugins to the returned list."""
    if str(precision) != BF16:
        return {"precision": precision, "plugins": []}
    device = "cuda" if uses_cuda(accelerator) else "cpu"
    return {"precision": None, "plugins": [BF16MixedPrecision(device)]}


def refuses_fused_clipping(plugin: object) -> bool:
    """Whether Lightning's clipping with this precision plugin raises for a fused optimizer."""
    return isinstance(plugin, MixedPrecision) and not isinstance(plugin, BF16MixedPrecision)
