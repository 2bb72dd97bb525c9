"""Shared DataLoader wiring for bertlab's datamodules: keyed samplers, collators, worker settings."""

from __future__ import annotations

from collections.abc import Callable

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset
from torchdata.stateful_dataloader import StatefulDataLoader

from bertlab.data.sampling import KeyedSampler


class KeyedDataModule(L.LightningDataModule):
    """Base for datamodules whose datasets are addressed by ``(epoch, index)`` keys.

    Subclasses fill ``self.datasets[split]`` in ``setup`` and set ``self.collate``. Training batches are
    shuffled per (seed, epoch) and have equal size on every rank; evaluation batches cover each sample once.
    The training loader is a ``StatefulDataLoader``: Lightning stores its position in checkpoints, so a run
    interrupted mid-epoch resumes at the next batch (the sampler is fast-forwarded; no data is re-read).
    """

    max_length: int  # longest sequence the datamodule produces; checked against the model's position limit

    def __init__(self, batch_size: int, eval_batch_size: int | None, num_workers: int, seed: int) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.datasets: dict[str, Dataset] = {}
        self.collate: Callable | None = None

    def module_kwargs(self) -> dict:
        """Constructor arguments the objective needs from the data (e.g. ``num_labels``); none by default."""
        return {}

    def _loader(self, split: str, train: bool) -> DataLoader:
        dataset = self.datasets[split]
        sampler = KeyedSampler(
            len(dataset), shuffle=train, seed=self.seed, drop_uneven=train, fixed_epoch=None if train else 0
        )
        loader_class = StatefulDataLoader if train else DataLoader
        return loader_class(
            dataset,
            batch_size=self.batch_size if train else self.eval_batch_size,
            sampler=sampler,
            collate_fn=self.collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            drop_last=train,
            # its own generator: creating an iterator must not draw from the global RNG (exact resume)
            generator=torch.Generator().manual_seed(self.seed),
        )

    def train_dataloader(self) -> DataLoader:
        available = len(self.datasets["train"]) // (self.trainer.world_size if self.trainer else 1)
        if available < self.batch_size:
            raise ValueError(
                f"data.batch_size={self.batch_size} exceeds the {available} training examples per device: "
                "no training step could run"
            )
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
