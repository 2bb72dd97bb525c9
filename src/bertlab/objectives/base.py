"""What every objective shares and declares: optimizer/scheduler wiring, the step count, and the contract
that training, evaluation, export and ``bertlab-eval --exported`` rely on."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import lightning as L
import torch
from transformers import PreTrainedModel

from bertlab.errors import CheckpointError

# Encoder inputs :meth:`Objective.encode` passes on; attention_mask and token_type_ids only when present.
ENCODER_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Objective(L.LightningModule, ABC):
    """Base LightningModule. ``optimizer`` and ``scheduler`` are partials from ``conf/optimizer|scheduler``.

    Every objective declares
      * ``batch_keys``: the batch keys it reads (HF names; its collator produces them),
      * ``metric_names``: what it logs as ``<stage>/<name>`` after every evaluation besides ``<stage>/loss``
        (which every objective logs); ``objective.monitor`` is ``val/loss`` or one of them. A class
        attribute, or set in ``__init__`` where the data chooses the metrics (sequence classification),
      * :meth:`hf_models`: its Hugging Face task models, for export,
    and may override :meth:`load_exported` (evaluating an exported model) — by default it refuses.

    The step count for the schedule is computed from the config (max_steps, or epochs × batches per epoch),
    not from ``trainer.estimated_stepping_batches``, which would reset a stateful dataloader.
    """

    batch_keys: ClassVar[tuple[str, ...]]
    metric_names: tuple[str, ...]

    def __init__(self, optimizer: Callable, scheduler: Callable | None) -> None:
        super().__init__()
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler

    def total_steps(self) -> int:
        trainer = self.trainer
        if trainer.max_steps and trainer.max_steps > 0:
            return trainer.max_steps
        batches = trainer.datamodule.train_batches_per_epoch(trainer.world_size)
        if trainer.limit_train_batches is not None and isinstance(trainer.limit_train_batches, int):
            batches = min(batches, trainer.limit_train_batches)
        return math.ceil(batches / trainer.accumulate_grad_batches) * max(trainer.max_epochs or 1, 1)

    def configure_optimizers(self) -> dict:
        optimizer = self.optimizer_factory(self)
        if self.scheduler_factory is None:
            return {"optimizer": optimizer}
        scheduler = self.scheduler_factory(optimizer, total_steps=self.total_steps())
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    @abstractmethod
    def hf_models(self) -> dict[str, PreTrainedModel]:
        """The Hugging Face task models holding this module's weights, by subdirectory (``""``: the export
        directory itself); built by renaming parameters (:mod:`bertlab.models.hf_names`)."""

    def load_exported(self, directory: str | Path) -> None:
        """Load the task head of an exported model (the encoder was already built from ``directory``)."""
        raise CheckpointError(
            f"{type(self).__name__} cannot load the task head of an exported model ({directory}): "
            "evaluate its checkpoint instead (bertlab-eval run <run_dir> --checkpoint <file>)"
        )

    # Evaluation: each objective implements the two hooks below; the Lightning hooks dispatch by stage.
    @abstractmethod
    def evaluate_batch(self, batch: dict[str, torch.Tensor], batch_idx: int, stage: str) -> None:
        """Accumulate one evaluation batch of ``stage`` ("val" or "test") into the objective's metrics."""

    @abstractmethod
    def finish_evaluation(self, stage: str) -> None:
        """Compute, log (``stage/loss`` and ``stage/<name>`` for each of ``metric_names``) and reset the
        metrics of ``stage``."""

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
