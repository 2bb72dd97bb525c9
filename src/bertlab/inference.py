"""Batched inference for ``bertlab-predict``: length-sorted batches padded per batch, in the chosen precision.

Sequences are sorted by length and cut into batches, so a batch pads only to its own longest sequence (the
Hugging Face pipelines batch in input order and pad every batch to its longest member). The precision
``auto`` asks the same probe as ``trainer.precision=auto`` (:mod:`bertlab.precision`): bf16 on a CPU whose
bf16 matmuls clearly beat fp32, on a GPU that supports it; otherwise fp32. bf16 runs under autocast, so layer
norms, softmax and the returned logits stay float32.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from bertlab.config import config_dir
from bertlab.data.bucketing import length_sorted_batches
from bertlab.data.collators import pad_batch, pad_stack
from bertlab.errors import ConfigError
from bertlab.precision import cpu_choice, encoder_widths

PRECISIONS = ("auto", "32", "bf16")


def cache_dir() -> Path:
    """Where the precision probe caches its result: ``paths.cache_dir`` as ``conf/paths/default.yaml`` sets it
    (read from there, so ``BERTLAB_CACHE_DIR`` and the default have one home)."""
    return Path(OmegaConf.load(Path(config_dir()) / "paths" / "default.yaml").cache_dir)


def inference_dtype(precision: str, model_config, device: str) -> torch.dtype:
    """float32 or bfloat16 for ``--precision`` (auto | 32 | bf16) on ``device``."""
    if precision not in PRECISIONS:
        raise ConfigError(f"--precision={precision!r}: expected one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return torch.bfloat16 if precision == "bf16" else torch.float32
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    choice = cpu_choice(*encoder_widths(model_config), cache_dir())
    return torch.bfloat16 if choice.precision == "bf16-mixed" else torch.float32


def autocast(device: str, dtype: torch.dtype) -> AbstractContextManager:
    if dtype == torch.float32:
        return nullcontext()
    return torch.autocast(device.split(":")[0], dtype=dtype)


def padded_inputs(
    input_ids: list[np.ndarray], token_type_ids: list[np.ndarray] | None, batch: np.ndarray, pad_id: int
) -> dict[str, torch.Tensor]:
    """The model inputs of the sequences ``batch``: ``input_ids``, ``attention_mask`` (and ``token_type_ids``)
    (B, T), padded to the longest of them."""
    rows = [{"input_ids": torch.from_numpy(input_ids[i].astype(np.int64))} for i in batch]
    ids, attention = pad_batch(rows, pad_id)  # (B, T) each
    inputs = {"input_ids": ids, "attention_mask": attention.long()}
    if token_type_ids is not None:
        inputs["token_type_ids"] = pad_stack(
            [torch.from_numpy(token_type_ids[i].astype(np.int64)) for i in batch], 0
        )
    return inputs


@torch.inference_mode()
def batched_outputs(
    model: torch.nn.Module,
    input_ids: list[np.ndarray],
    token_type_ids: list[np.ndarray] | None,
    batch_size: int,
    pad_id: int,
    dtype: torch.dtype = torch.float32,
) -> Iterator[tuple[np.ndarray, object]]:
    """``(indices, model output)`` per length-sorted batch; the model sits on its device already."""
    device = str(next(model.parameters()).device)
    for batch in length_sorted_batches(np.array([len(ids) for ids in input_ids]), batch_size, False):
        inputs = padded_inputs(input_ids, token_type_ids, batch, pad_id)
        with autocast(device, dtype):
            output = model(**{k: v.to(device) for k, v in inputs.items()})
        yield batch, output
