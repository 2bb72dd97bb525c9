"""Collator for sentence-pair pretraining (NSP/SOP) with MLM on top, and a printable pair example.

Items come from :class:`bertlab.data.formats.PairDataset`: ``[CLS] A [SEP] B [SEP]`` with ``token_type_ids``
(0 for ``[CLS] A [SEP]``, 1 for ``B [SEP]``) and ``next_sentence_label``. The source chapter's Blocks 5-6.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bertlab.data.collators import MLMCollator, pad_stack
from bertlab.data.masking import IGNORE_INDEX

_LABEL_NAMES = {"nsp": "is_next", "sop": "in_order"}


@dataclass
class PairMLMCollator(MLMCollator):
    """MLM batch (see :class:`MLMCollator`) plus ``token_type_ids`` (B, T) and ``next_sentence_label`` (B,).

    NSP and SOP batches are collated alike (``objective.pairing`` tells the datamodule how to build the
    pairs). Masks are keyed by (seed, mask_epoch, index) like MLM; special tokens are never masked.
    """

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        batch = super().__call__(items)
        batch["token_type_ids"] = pad_stack(
            [it["token_type_ids"] for it in items], 0, self.pad_to_multiple_of
        )
        batch["next_sentence_label"] = torch.tensor(
            [it["next_sentence_label"] for it in items], dtype=torch.long
        )
        return batch


def format_pair_example(batch_row: dict[str, torch.Tensor], tokenizer, pairing: str = "nsp") -> str:
    """One row of a pair batch as the source chapter's Block 6 prints it.

    ``batch_row`` holds 1-D ``input_ids`` and ``token_type_ids`` and a scalar ``next_sentence_label``; if
    ``labels`` is present, the sentences are shown with masked tokens restored and the masked input below.
    """
    input_ids = batch_row["input_ids"]
    types = batch_row["token_type_ids"]
    keep = input_ids != tokenizer.pad_token_id
    if "attention_mask" in batch_row:
        keep = keep & batch_row["attention_mask"].bool()
    original = input_ids.clone()
    if "labels" in batch_row:
        masked = batch_row["labels"] != IGNORE_INDEX
        original[masked] = batch_row["labels"][masked]
    special = torch.tensor([t in tokenizer.all_special_ids for t in original.tolist()], dtype=torch.bool)
    text_a = tokenizer.decode(original[keep & ~special & (types == 0)].tolist())
    text_b = tokenizer.decode(original[keep & ~special & (types == 1)].tolist())
    label = int(batch_row["next_sentence_label"])
    lines = [
        f"# {_LABEL_NAMES.get(pairing, 'label')}={label}",
        f"sentence_a: {text_a}",
        f"sentence_b: {text_b}",
        f"input: {tokenizer.convert_ids_to_tokens(input_ids[keep].tolist())}",
        f"token_type_ids: {types[keep].tolist()}",
        f"label: {label}",
    ]
    return "\n".join(lines)
