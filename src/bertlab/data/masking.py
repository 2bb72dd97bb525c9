"""BERT masked-language-model corruption (Devlin et al. 2019, §3.1; source chapter Blocks 2-4, Table 1).

Of the candidate tokens (not special, not padding) 15% are selected per sequence; of those 80% become
``[MASK]``, 10% a random vocabulary token and 10% stay unchanged. Labels hold the original id at selected
positions and -100 elsewhere. Randomness is keyed by (seed, epoch, sample index) via :mod:`keyed_random`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bertlab.data import keyed_random

IGNORE_INDEX = -100
_SELECT, _ACTION, _TOKEN, _ROUND = 0, 1, 2, 3  # independent random streams


@dataclass(frozen=True)
class MaskingRule:
    """The corruption recipe; defaults are BERT's."""

    mask_token_id: int
    vocab_size: int
    special_ids: tuple[int, ...]
    probability: float = 0.15
    mask_fraction: float = 0.8
    random_fraction: float = 0.1


def select_positions(
    candidates: np.ndarray, probability: float, seed: int, epochs: np.ndarray, indices: np.ndarray
) -> np.ndarray:
    """Choose ``probability`` of each row's candidates, exactly up to stochastic rounding. (B, T) bool."""
    batch, length = candidates.shape
    scores = keyed_random.uniform(seed, epochs, indices, length, _SELECT)
    scores[~candidates] = 2.0  # never chosen
    ranks = scores.argsort(axis=1).argsort(axis=1)  # (B, T) rank of each position
    expected = candidates.sum(axis=1) * probability  # (B,)
    jitter = keyed_random.uniform(seed, epochs, indices, 1, _ROUND)[:, 0]
    counts = np.floor(expected + jitter).astype(np.int64)  # unbiased: E[count] == expected
    return ranks < counts[:, None]


def mask_tokens(
    input_ids: torch.Tensor, rule: MaskingRule, seed: int, epochs: np.ndarray, indices: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (corrupted input_ids, labels), both (B, T) int64; ``input_ids`` is not modified."""
    ids = input_ids.numpy()
    candidates = ~np.isin(ids, np.asarray(rule.special_ids, dtype=ids.dtype))
    selected = select_positions(candidates, rule.probability, seed, epochs, indices)
    action = keyed_random.uniform(seed, epochs, indices, ids.shape[1], _ACTION)
    to_mask = selected & (action < rule.mask_fraction)
    to_random = selected & ~to_mask & (action < rule.mask_fraction + rule.random_fraction)
    random_ids = keyed_random.uniform(seed, epochs, indices, ids.shape[1], _TOKEN) * rule.vocab_size
    corrupted = np.where(to_mask, rule.mask_token_id, ids)
    corrupted = np.where(to_random, random_ids.astype(ids.dtype), corrupted)
    labels = np.where(selected, ids, IGNORE_INDEX)
    return torch.from_numpy(corrupted.astype(np.int64)), torch.from_numpy(labels.astype(np.int64))
