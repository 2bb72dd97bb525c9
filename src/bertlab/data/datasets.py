"""Map-style datasets addressed by ``(epoch, index)`` keys from :class:`~bertlab.data.sampling.KeyedSampler`."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


class BlockDataset(Dataset):
    """Fixed-length token blocks for masked/causal LM.

    ``dupe_factor=None`` is dynamic masking: the mask key is the current epoch. With ``dupe_factor=N``
    (RoBERTa's static masking, the original BERT data pipeline) the dataset is N copies of the blocks and copy
    ``c`` always uses mask key ``c``: N different masks, each fixed for the whole run.
    """

    def __init__(self, blocks: np.ndarray, dupe_factor: int | None = None) -> None:
        if dupe_factor is not None and dupe_factor < 1:
            raise ValueError(f"data.dupe_factor={dupe_factor}: expected a positive number of copies")
        self.blocks = blocks
        self.copies = dupe_factor or 1
        self.static = dupe_factor is not None

    def __len__(self) -> int:
        return len(self.blocks) * self.copies

    def __getitem__(self, key: tuple[int, int]) -> dict:
        epoch, index = key
        copy, base = divmod(index, len(self.blocks))
        return {
            "input_ids": torch.from_numpy(np.asarray(self.blocks[base], dtype=np.int64)),
            "mask_epoch": copy if self.static else epoch,
            "index": base,
        }
