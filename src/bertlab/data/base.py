"""Shared DataLoader wiring for bertlab's datamodules: keyed samplers, collators, worker settings."""

from __future__ import annotations

from collections.abc import Callable

import lightning as L
from torch.utils.data import DataLoader, Dataset

from bertlab.data.sampling import KeyedSampler


class KeyedDataModule(L.LightningDataModule):
    """Base for datamodules whose datasets are addressed by ``(epoch, index)`` keys.

    Subclasses fill ``self.datasets[split]`` in ``setup`` and set ``self.collate``. Training batches are
    shuffled per (seed, epoch) and have equal size on every rank; evaluation batches cover each sample once.
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
        return DataLoader(
            dataset,
            batch_size=self.batch_size if train else self.eval_batch_size,
            sampler=sampler,
            collate_fn=self.collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            drop_last=train,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
