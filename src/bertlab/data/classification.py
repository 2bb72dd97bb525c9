"""Sequence-classification examples after tokenization, and the collator that pads them per batch.

Pure pieces shared by classification datamodules (CoLA now, other GLUE tasks later): no I/O, no Lightning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from bertlab.data.collators import PaddingCollator, pad_batch


class ClassificationDataset(Dataset):
    """Token ids and integer labels, addressed by ``(epoch, index)`` keys (the epoch is unused).

    ``input_ids`` holds one int array per example, already with ``[CLS] … [SEP]``; ``lengths`` feeds the
    bucketing sampler.
    """

    def __init__(self, input_ids: list[np.ndarray], labels: np.ndarray) -> None:
        if len(input_ids) != len(labels):
            raise ValueError(f"{len(input_ids)} token sequences but {len(labels)} labels")
        self.input_ids = input_ids
        self.labels = np.asarray(labels, dtype=np.int64)
        self.lengths = np.array([len(ids) for ids in input_ids], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        _, index = key
        return {
            "input_ids": torch.from_numpy(self.input_ids[index].astype(np.int64)),
            "labels": int(self.labels[index]),
        }


@dataclass
class ClassificationCollator(PaddingCollator):
    """Batch: ``input_ids`` (B, T) padded to the longest in the batch, ``attention_mask`` (B, T), ``labels`` (B,)."""

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        input_ids, attention = pad_batch(items, self.pad_id, self.pad_to_multiple_of)  # (B, T) each
        attention_mask = attention.long()
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "labels": torch.tensor([it["labels"] for it in items], dtype=torch.long),
        }
