"""Collators: pure functions from a list of dataset items to a batch dict with HF key names."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field

import numpy as np
import torch

from bertlab.data.masking import IGNORE_INDEX, MaskingRule, mask_tokens
from bertlab.errors import ConfigError


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


def make_collator(factory: Callable, tokenizer, masking_unit: str = "token") -> Callable:
    """Call the objective's collator factory with the built tokenizer and the data's ``masking_unit``.

    The masking unit is a property of the data (what a word is depends on the corpus and its pre-tokenizer),
    the collator applies it; only masked-LM collators (mlm, nsp, sop, rtd) take one.
    """
    if masking_unit == "token":
        return factory(tokenizer=tokenizer)
    if "masking_unit" not in inspect.signature(factory).parameters:
        raise ConfigError(
            f"data.masking_unit={masking_unit!r} needs a masked-LM objective (mlm, nsp, sop, rtd); "
            "this objective's collator masks nothing"
        )
    return factory(tokenizer=tokenizer, masking_unit=masking_unit)


def continuation_pieces(tokenizer) -> np.ndarray:
    """(V,) bool: True for the ids of WordPiece ``##`` continuation pieces, the word boundaries of
    whole-word masking. A vocabulary without any (byte-level BPE, SentencePiece) cannot mark words this way."""
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    continuation = np.array([t is not None and t.startswith("##") for t in tokens], dtype=bool)
    if not continuation.any():
        raise ConfigError(
            "data.masking_unit=word needs a WordPiece vocabulary (words are marked by ## pieces); "
            f"{type(tokenizer).__name__} has none: use masking_unit=token"
        )
    return continuation


@dataclass
class MLMCollator:
    """Batch for masked language modelling: ``input_ids`` (corrupted), ``labels``, ``attention_mask``.

    Masks are keyed by (seed, item["mask_epoch"], item["index"]). ``attention_mask`` is only added when the
    batch actually contains padding, so packed blocks run attention without a mask. ``masking_unit=word``
    selects whole words (all ``##`` pieces of a word together; see :mod:`bertlab.data.masking`).
    """

    tokenizer: InitVar[object]
    seed: int = 0
    probability: float = 0.15
    mask_fraction: float = 0.8
    random_fraction: float = 0.1
    pad_to_multiple_of: int | None = None
    masking_unit: str = "token"
    rule: MaskingRule = field(init=False)
    pad_id: int = field(init=False)
    continuation: np.ndarray | None = field(init=False, default=None)

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
        if self.masking_unit not in ("token", "word"):
            raise ConfigError(f"data.masking_unit={self.masking_unit!r}: expected token or word")
        if self.masking_unit == "word":
            self.continuation = continuation_pieces(tokenizer)

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        input_ids, attention = pad_batch(items, self.pad_id, self.pad_to_multiple_of)
        epochs = np.array([it["mask_epoch"] for it in items], dtype=np.int64)
        indices = np.array([it["index"] for it in items], dtype=np.int64)
        corrupted, labels = mask_tokens(input_ids, self.rule, self.seed, epochs, indices, self.continuation)
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
