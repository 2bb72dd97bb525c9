"""What every objective shares: optimizer/scheduler wiring and the total step count."""

from __future__ import annotations

import math
from collections.abc import Callable

import lightning as L
import torch


class Objective(L.LightningModule):
    """Base LightningModule. ``optimizer`` and ``scheduler`` are partials from ``conf/optimizer|scheduler``.

    The step count for the schedule is computed from the config (max_steps, or epochs × batches per epoch),
    not from ``trainer.estimated_stepping_batches``, which would reset a stateful dataloader.
    """

    def __init__(self, optimizer: Callable, scheduler: Callable | None) -> None:
        super().__init__()
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler

    def total_steps(self) -> int:
        trainer = self.trainer
        if trainer.max_steps and trainer.max_steps > 0:
            return trainer.max_steps
        datamodule = trainer.datamodule
        per_rank = len(datamodule.datasets["train"]) // trainer.world_size
        batches = per_rank // datamodule.batch_size
        if trainer.limit_train_batches is not None and isinstance(trainer.limit_train_batches, int):
            batches = min(batches, trainer.limit_train_batches)
        return math.ceil(batches / trainer.accumulate_grad_batches) * max(trainer.max_epochs or 1, 1)

    def configure_optimizers(self) -> dict:
        optimizer = self.optimizer_factory(self)
        if self.scheduler_factory is None:
            return {"optimizer": optimizer}
        scheduler = self.scheduler_factory(optimizer, total_steps=self.total_steps())
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # Evaluation: each objective implements the two hooks below; the Lightning hooks dispatch by stage.
    def evaluate_batch(self, batch: dict[str, torch.Tensor], batch_idx: int, stage: str) -> None:
        """Accumulate one evaluation batch of ``stage`` ("val" or "test") into the objective's metrics."""
        raise NotImplementedError

    def finish_evaluation(self, stage: str) -> None:
        """Compute, log (``stage/name`` keys) and reset the metrics accumulated for ``stage``."""
        raise NotImplementedError

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.evaluate_batch(batch, batch_idx, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.evaluate_batch(batch, batch_idx, "test")

    def on_validation_epoch_end(self) -> None:
        self.finish_evaluation("val")

    def on_test_epoch_end(self) -> None:
        self.finish_evaluation("test")

    def encode(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Run the encoder on the HF keys present in the batch → last hidden state (B, T, H)."""
        return self.encoder(
            input_ids=batch["input_ids"],
            attention_mask=batch.get("attention_mask"),
            token_type_ids=batch.get("token_type_ids"),
        ).last_hidden_state
