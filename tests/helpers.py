"""Test-only Lightning callbacks, loaded into subprocess runs with ``+callbacks.probe._target_=...``."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import torch


class BatchProbe(L.Callback):
    """Records, per rank, what each training step saw: sample identities, mask positions, loss, token count."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.records: list[dict] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        labels = batch["labels"]
        original = torch.where(labels != -100, labels, batch["input_ids"])  # undo the corruption
        self.records.append(
            {
                "step": trainer.global_step,
                "loss": float(outputs["loss"]),
                "tokens": int((labels != -100).sum()),
                "samples": [hash(tuple(row.tolist())) for row in original],
                "masked": [torch.nonzero(row != -100).flatten().tolist() for row in labels],
            }
        )

    def on_train_end(self, trainer, pl_module) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / f"probe-rank{trainer.global_rank}.json").write_text(json.dumps(self.records))


class FailOnRank(L.Callback):
    """Raises on one rank at one step, to prove a dying DDP worker stops the whole run."""

    def __init__(self, rank: int, step: int) -> None:
        self.rank, self.step = rank, step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_rank == self.rank and trainer.global_step == self.step:
            raise RuntimeError(f"injected failure on rank {self.rank} at step {self.step}")


class SendSignal(L.Callback):
    """Sends ``signum`` to its own process at the start of step ``at_step`` (a scheduler's SIGTERM, on cue)."""

    def __init__(self, at_step: int, signum: int = 15) -> None:
        self.at_step, self.signum = at_step, signum

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.at_step:
            import os

            os.kill(os.getpid(), self.signum)
