"""Checkpoints that are always whole and always recent.

``AtomicCheckpointIO`` replaces Lightning's save: Lightning stages the file in ``$TMPDIR`` and moves it, which
across filesystems (cluster scratch, tmpfs, a bind mount) is a copy over the old file — a kill mid-copy leaves
a truncated ``last.ckpt``. Ours writes a temporary sibling in the checkpoint's own directory and renames it
(``bertlab.atomic``), and refuses to write non-finite weights over a good checkpoint.

``LastCheckpoint`` keeps ``last.ckpt`` on a step or wall-time interval whatever the monitored metric does:
Lightning 2.6's ``ModelCheckpoint(monitor=...)`` writes nothing, not even ``last.ckpt``, until the monitored key
has been logged, so a fine-tuning run preempted before its first validation had nothing to resume from.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from bertlab import atomic
from bertlab.errors import UserError

LAST = "last.ckpt"


class NonFiniteWeightsError(UserError, RuntimeError):
    """Training produced NaN or infinite weights; nothing is written over the last good checkpoint."""


def non_finite_tensors(state_dict: dict[str, torch.Tensor]) -> list[str]:
    """Names of floating-point tensors in ``state_dict`` that hold a NaN or an infinity."""
    return [
        name
        for name, tensor in state_dict.items()
        if torch.is_tensor(tensor) and tensor.is_floating_point() and not torch.isfinite(tensor).all()
    ]


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` that writes local files through :func:`bertlab.atomic.atomic_file`."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        bad = non_finite_tensors(checkpoint.get("state_dict", {}))
        if bad:
            raise NonFiniteWeightsError(
                f"not saving {path}: {len(bad)} weight tensors hold NaN/inf (first: {bad[0]}) at step "
                f"{checkpoint.get('global_step')}; the last good checkpoint is kept. Lower optimizer.lr, keep "
                "trainer.gradient_clip_val, or use trainer.precision=32-true"
            )
        if storage_options is not None or not _is_local(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        with atomic.atomic_file(path, "wb") as handle:
            torch.save(checkpoint, handle)

    def remove_checkpoint(self, path) -> None:
        if _is_local(path):
            Path(path).unlink(missing_ok=True)
        else:
            super().remove_checkpoint(path)


def _is_local(path) -> bool:
    return "://" not in str(path) or str(path).startswith("file://")


class LastCheckpoint(ModelCheckpoint):
    """Writes ``<dirpath>/last.ckpt`` every ``every_n_train_steps`` steps or ``every_minutes`` of training
    (exactly one of them), and once more when training ends; monitors nothing and keeps no other file."""

    def __init__(
        self, dirpath: str, every_n_train_steps: int | None = None, every_minutes: float | None = None
    ) -> None:
        if (every_n_train_steps is None) == (every_minutes is None):
            raise ValueError(
                "callbacks.last_checkpoint: set exactly one of every_n_train_steps and every_minutes "
                f"(got {every_n_train_steps=}, {every_minutes=})"
            )
        super().__init__(
            dirpath=dirpath,
            filename="last",
            monitor=None,
            save_top_k=0,
            save_last=True,
            every_n_train_steps=every_n_train_steps,
            train_time_interval=None if every_minutes is None else timedelta(minutes=every_minutes),
            enable_version_counter=False,  # always last.ckpt, never last-v1.ckpt beside an old one
        )

    @property
    def state_key(self) -> str:
        return "LastCheckpoint"

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step > 0 and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def save_now(self, trainer: L.Trainer) -> Path:
        """Write ``last.ckpt`` at the current step (all ranks call this: saving is collective)."""
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        self._last_global_step_saved = trainer.global_step
        return Path(self.last_model_path)


def find_last_checkpoint(trainer: L.Trainer) -> LastCheckpoint | None:
    return next((c for c in trainer.callbacks if isinstance(c, LastCheckpoint)), None)
