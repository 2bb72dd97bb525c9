"""The one base of bertlab's datamodules: tokenizer and collator attached once, keyed and resumable loaders.

The composition root (``train.build``) instantiates a datamodule from ``conf/data``, builds the tokenizer (a
trained vocabulary asks :meth:`KeyedDataModule.training_texts` for its text) and calls :meth:`attach` with the
tokenizer and the objective's collator factory. Subclasses fill ``self.datasets[split]`` in ``setup``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from torchdata.stateful_dataloader import StatefulDataLoader

from bertlab.data.collators import make_collator
from bertlab.data.sampling import KeyedSampler
from bertlab.errors import ConfigError


class KeyedDataModule(L.LightningDataModule):
    """Base for datamodules whose datasets are addressed by ``(epoch, index)`` keys.

    Training batches are shuffled per (seed, epoch) and have equal size on every rank; evaluation batches cover
    each sample once. Every training loader is a ``StatefulDataLoader``: Lightning stores its position in
    checkpoints, so a run interrupted mid-epoch resumes at the next batch (the sampler is fast-forwarded; no
    data is re-read). ``max_length`` (``data.max_length`` in every data config) is the longest sequence the
    datamodule produces; the composition root checks it against the model's position limit.
    """

    max_length: int
    masking_unit: str = "token"  # a subclass with masked-LM data sets it from ``data.masking_unit``

    def __init__(self, batch_size: int, eval_batch_size: int | None, num_workers: int, seed: int) -> None:
        super().__init__()
        if batch_size < 1:
            raise ConfigError(
                f"data.batch_size={batch_size}: expected a positive number of examples per batch"
            )
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.datasets: dict[str, Dataset] = {}
        self.tokenizer = None
        self.collate: Callable | None = None

    def training_texts(self) -> Iterator[str]:
        """The training split's text, streamed (what ``tokenizer=wordpiece`` trains on)."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot provide training text for a trained vocabulary"
        )

    def attach(self, tokenizer, collator: Callable) -> None:
        """Give the datamodule the built tokenizer and build the objective's collator from it (the one place)."""
        self.tokenizer = tokenizer
        self.collate = make_collator(collator, tokenizer, self.masking_unit)

    def train_batches_per_epoch(self, world_size: int) -> int:
        """Training batches one rank draws per epoch (what the objective's learning-rate schedule counts)."""
        return len(self.datasets["train"]) // world_size // self.batch_size

    def module_kwargs(self) -> dict:
        """Constructor arguments the objective needs from the data (e.g. ``num_labels``); none by default."""
        return {}

    def batch_sampler(self, split: str, train: bool) -> Sampler | None:
        """Batches of keys for ``split`` (e.g. length-bucketed); ``None`` = fixed-size batches of shuffled keys."""
        return None

    def _loader(self, split: str, train: bool) -> DataLoader:
        if self.collate is None:
            raise RuntimeError("attach(tokenizer, collator) must be called before the loaders are built")
        dataset = self.datasets[split]
        batches = self.batch_sampler(split, train)
        if batches is None:
            sampler = KeyedSampler(
                len(dataset),
                shuffle=train,
                seed=self.seed,
                drop_uneven=train,
                fixed_epoch=None if train else 0,
            )
            size = self.batch_size if train else self.eval_batch_size
            batching = {"sampler": sampler, "batch_size": size, "drop_last": train}
        else:
            batching = {"batch_sampler": batches}
        loader_class = StatefulDataLoader if train else DataLoader
        return loader_class(
            dataset,
            collate_fn=self.collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            # its own generator: creating an iterator must not draw from the global RNG (exact resume)
            generator=torch.Generator().manual_seed(self.seed),
            **batching,
        )

    def train_dataloader(self) -> DataLoader:
        available = len(self.datasets["train"]) // (self.trainer.world_size if self.trainer else 1)
        if available < self.batch_size:
            raise ConfigError(
                f"data.batch_size={self.batch_size} exceeds the {available} training examples per device: "
                "no training step could run"
            )
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
