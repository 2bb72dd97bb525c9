"""Sequence-classification examples after tokenization, and the collator that pads them per batch.

Pure pieces shared by the classification datamodule and ``bertlab-predict``: no I/O, no Lightning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from bertlab.data.collators import PaddingCollator, pad_batch, pad_stack


@dataclass(frozen=True)
class Encoded:
    """Token ids per example (``[CLS] a [SEP]`` or ``[CLS] a [SEP] b [SEP]``), token types for pairs (0 up to
    the first ``[SEP]``, 1 after it, as BERT's segment embeddings) and how many examples were truncated."""

    input_ids: list[np.ndarray]
    token_type_ids: list[np.ndarray] | None
    truncated: int


def encode_texts(tokenizer, texts: Sequence[tuple[str, ...]], max_length: int) -> Encoded:
    """Tokenize single texts or pairs; sequences longer than ``max_length`` are cut, a pair longest-first
    (HF ``truncation="longest_first"``: a token at a time from the longer side)."""
    pair = len(texts[0]) == 2 if texts else False
    columns = [[t[0] for t in texts], [t[1] for t in texts]] if pair else [[t[0] for t in texts]]
    encoded = tokenizer(*columns, return_token_type_ids=pair)
    ids, types = encoded["input_ids"], encoded["token_type_ids"] if pair else None
    too_long = [i for i, row in enumerate(ids) if len(row) > max_length]
    if too_long:  # only the long ones are tokenized again, with truncation
        again = tokenizer(
            *[[column[i] for i in too_long] for column in columns],
            truncation="longest_first",
            max_length=max_length,
            return_token_type_ids=pair,
        )
        for j, i in enumerate(too_long):
            ids[i] = again["input_ids"][j]
            if pair:
                types[i] = again["token_type_ids"][j]
    as_arrays = [np.asarray(row, dtype=np.int32) for row in ids]
    type_arrays = [np.asarray(row, dtype=np.int8) for row in types] if pair else None
    return Encoded(as_arrays, type_arrays, len(too_long))


class ClassificationDataset(Dataset):
    """Token ids (and token types for pairs) with labels, addressed by ``(epoch, index)`` keys (epoch unused).

    ``labels`` is int64 (N,) class ids, float32 (N,) regression targets or float32 (N, C) multi-hot rows;
    ``lengths`` feeds the bucketing sampler.
    """

    def __init__(
        self,
        input_ids: list[np.ndarray],
        labels: np.ndarray,
        token_type_ids: list[np.ndarray] | None = None,
    ) -> None:
        if len(input_ids) != len(labels):
            raise ValueError(f"{len(input_ids)} token sequences but {len(labels)} labels")
        self.input_ids, self.token_type_ids = input_ids, token_type_ids
        self.labels = np.asarray(labels)
        self.lengths = np.array([len(ids) for ids in input_ids], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        _, index = key
        item = {
            "input_ids": torch.from_numpy(self.input_ids[index].astype(np.int64)),
            "labels": torch.from_numpy(np.asarray(self.labels[index])),
        }
        if self.token_type_ids is not None:
            item["token_type_ids"] = torch.from_numpy(self.token_type_ids[index].astype(np.int64))
        return item


@dataclass
class ClassificationCollator(PaddingCollator):
    """Batch: ``input_ids`` (B, T) padded to the longest in the batch, ``attention_mask`` (B, T), ``labels``
    ((B,) long or float, or (B, C) float; absent when predicting) and, for pairs, ``token_type_ids`` (B, T)
    padded with 0."""

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        input_ids, attention = pad_batch(items, self.pad_id, self.pad_to_multiple_of)  # (B, T) each
        batch = {"input_ids": input_ids, "attention_mask": attention.long()}
        if "token_type_ids" in items[0]:
            batch["token_type_ids"] = pad_stack(
                [it["token_type_ids"] for it in items], 0, self.pad_to_multiple_of
            )
        if "labels" in items[0]:  # absent when predicting
            batch["labels"] = torch.stack([it["labels"] for it in items])
        return batch
