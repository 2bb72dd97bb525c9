"""BERT masked-language-model corruption (Devlin et al. 2019, §3.1; source chapter Blocks 2-4, Table 1).

Of the candidate tokens (not special, not padding) 15% are selected per sequence; of those 80% become
``[MASK]``, 10% a random vocabulary token and 10% stay unchanged. Labels hold the original id at selected
positions and -100 elsewhere. Randomness is keyed by (seed, epoch, sample index) via :mod:`keyed_random`.

Whole-word masking (google-research/bert, 2019-05 update; Cui et al. 2021 for Chinese) selects words instead
of tokens: every WordPiece of a chosen word together, the 15% budget still counted in tokens, and the
80/10/10 replacement still drawn per token (HF's ``DataCollatorForWholeWordMask`` replaces 100% with
``[MASK]``). A word is a piece that does not start with ``##`` and the ``##`` pieces that follow it.
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


def _budget(
    candidates: np.ndarray, probability: float, seed: int, epochs: np.ndarray, indices: np.ndarray
) -> np.ndarray:
    """Tokens to select per row: ``probability`` × candidates, stochastically rounded (unbiased). (B,)"""
    expected = candidates.sum(axis=1) * probability  # (B,)
    jitter = keyed_random.uniform(seed, epochs, indices, 1, _ROUND)[:, 0]
    return np.floor(expected + jitter).astype(np.int64)  # E[count] == expected


def select_positions(
    candidates: np.ndarray, probability: float, seed: int, epochs: np.ndarray, indices: np.ndarray
) -> np.ndarray:
    """Choose ``probability`` of each row's candidates, exactly up to stochastic rounding. (B, T) bool."""
    scores = keyed_random.uniform(seed, epochs, indices, candidates.shape[1], _SELECT)
    scores[~candidates] = 2.0  # never chosen
    ranks = scores.argsort(axis=1).argsort(axis=1)  # (B, T) rank of each position
    counts = _budget(candidates, probability, seed, epochs, indices)
    return ranks < counts[:, None]


def word_starts(ids: np.ndarray, candidates: np.ndarray, continuation: np.ndarray) -> np.ndarray:
    """(B, T) bool: candidates that open a word, i.e. are no ``##`` piece or follow a non-candidate.

    ``continuation`` is a (V,) bool lookup: True for vocabulary ids of ``##`` pieces.
    """
    after_candidate = np.zeros_like(candidates)
    after_candidate[:, 1:] = candidates[:, :-1]
    return candidates & ~(continuation[ids] & after_candidate)


def select_words(
    candidates: np.ndarray,
    starts: np.ndarray,
    probability: float,
    seed: int,
    epochs: np.ndarray,
    indices: np.ndarray,
) -> np.ndarray:
    """Choose whole words, in keyed random order, until the row's token budget is spent. (B, T) bool.

    As google-research/bert's ``create_masked_lm_predictions``: a word that would overshoot the budget is
    skipped and the next one tried, so a row selects at most its budget.
    """
    scores = keyed_random.uniform(seed, epochs, indices, candidates.shape[1], _SELECT)
    counts = _budget(candidates, probability, seed, epochs, indices)
    word = np.cumsum(starts, axis=1) - 1  # (B, T) word number; "##" pieces inherit their word's
    selected = np.zeros_like(candidates)
    for row in range(candidates.shape[0]):
        first = np.flatnonzero(starts[row])  # (W,) first position of each word
        sizes = np.bincount(word[row][candidates[row]], minlength=len(first))  # (W,) tokens per word
        taken, total = np.zeros(len(first), dtype=bool), 0
        for w in np.argsort(scores[row, first], kind="stable"):
            if total + sizes[w] <= counts[row]:
                taken[w], total = True, total + sizes[w]
            if total == counts[row]:
                break
        selected[row] = candidates[row] & taken[word[row]]
    return selected


def mask_tokens(
    input_ids: torch.Tensor,
    rule: MaskingRule,
    seed: int,
    epochs: np.ndarray,
    indices: np.ndarray,
    continuation: np.ndarray | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (corrupted input_ids, labels), both (B, T) int64; ``input_ids`` is not modified.

    With ``continuation`` ((V,) bool, True for ``##`` pieces) whole words are selected; without, tokens.
    """
    ids = input_ids.numpy()
    candidates = ~np.isin(ids, np.asarray(rule.special_ids, dtype=ids.dtype))
    if continuation is None:
        selected = select_positions(candidates, rule.probability, seed, epochs, indices)
    else:
        starts = word_starts(ids, candidates, continuation)
        selected = select_words(candidates, starts, rule.probability, seed, epochs, indices)
    action = keyed_random.uniform(seed, epochs, indices, ids.shape[1], _ACTION)
    to_mask = selected & (action < rule.mask_fraction)
    to_random = selected & ~to_mask & (action < rule.mask_fraction + rule.random_fraction)
    random_ids = keyed_random.uniform(seed, epochs, indices, ids.shape[1], _TOKEN) * rule.vocab_size
    corrupted = np.where(to_mask, rule.mask_token_id, ids)
    corrupted = np.where(to_random, random_ids.astype(ids.dtype), corrupted)
    labels = np.where(selected, ids, IGNORE_INDEX)
    return torch.from_numpy(corrupted.astype(np.int64)), torch.from_numpy(labels.astype(np.int64))
