"""Collators: pure functions from a list of dataset items to a batch dict with HF key names."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field

import numpy as np
import torch

from bertlab.data.masking import IGNORE_INDEX, MaskingRule, mask_tokens


def pad_stack(rows: list[torch.Tensor], pad_id: int, multiple_of: int | None = None) -> torch.Tensor:
    """Stack 1-D tensors into (B, T), right-padding with ``pad_id`` up to the longest (rounded up)."""
    length = max(len(r) for r in rows)
    if multiple_of:
        length = -(-length // multiple_of) * multiple_of
    out = torch.full((len(rows), length), pad_id, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def pad_batch(
    items: list[dict], pad_id: int, multiple_of: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``items[i]["input_ids"]`` stacked and right-padded → (input_ids (B, T), attention (B, T) bool).

    The attention mask comes from the lengths, not from comparing with ``pad_id`` (a GPT-2 vocabulary may
    use a real token as padding).
    """
    rows = [it["input_ids"] for it in items]
    input_ids = pad_stack(rows, pad_id, multiple_of)  # (B, T)
    lengths = torch.tensor([len(r) for r in rows])  # (B,)
    return input_ids, torch.arange(input_ids.shape[1])[None, :] < lengths[:, None]


@dataclass
class PaddingCollator:
    """Base for collators that only need the tokenizer's pad id (the tokenizer itself is not kept, so the
    collator pickles cheaply into DataLoader workers)."""

    tokenizer: InitVar[object]
    pad_to_multiple_of: int | None = None
    pad_id: int = field(init=False)

    def __post_init__(self, tokenizer) -> None:
        self.pad_id = tokenizer.pad_token_id


@dataclass
class MLMCollator:
    """Batch for masked language modelling: ``input_ids`` (corrupted), ``labels``, ``attention_mask``.

    Masks are keyed by (seed, item["mask_epoch"], item["index"]). ``attention_mask`` is only added when the
    batch actually contains padding, so packed blocks run attention without a mask.
    """

    tokenizer: InitVar[object]
    seed: int = 0
    probability: float = 0.15
    mask_fraction: float = 0.8
    random_fraction: float = 0.1
    pad_to_multiple_of: int | None = None
    rule: MaskingRule = field(init=False)
    pad_id: int = field(init=False)

    def __post_init__(self, tokenizer) -> None:
        if not 0.0 < self.probability < 1.0:
            raise ValueError(f"objective.collator.probability={self.probability}: expected a value in (0, 1)")
        self.pad_id = tokenizer.pad_token_id
        self.rule = MaskingRule(
            mask_token_id=tokenizer.mask_token_id,
            vocab_size=len(tokenizer),
            special_ids=tuple(sorted(set(tokenizer.all_special_ids))),
            probability=self.probability,
            mask_fraction=self.mask_fraction,
            random_fraction=self.random_fraction,
        )

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        input_ids, attention = pad_batch(items, self.pad_id, self.pad_to_multiple_of)
        epochs = np.array([it["mask_epoch"] for it in items], dtype=np.int64)
        indices = np.array([it["index"] for it in items], dtype=np.int64)
        corrupted, labels = mask_tokens(input_ids, self.rule, self.seed, epochs, indices)
        batch = {"input_ids": corrupted, "labels": labels}
        if not bool(attention.all()):
            batch["attention_mask"] = attention.long()
        return batch


@dataclass
class CLMCollator(PaddingCollator):
    """Batch for causal language modelling: ``input_ids``, ``labels`` (= input ids, -100 at padding).

    Labels are *not* shifted here; the loss compares position t's logits with token t+1 (as HF's
    ``GPT2LMHeadModel`` does). ``attention_mask`` is only added when the batch contains padding.
    """

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        input_ids, attention = pad_batch(items, self.pad_id, self.pad_to_multiple_of)  # (B, T) each
        batch = {"input_ids": input_ids, "labels": input_ids.masked_fill(~attention, IGNORE_INDEX)}
        if not bool(attention.all()):
            batch["attention_mask"] = attention.long()
        return batch
