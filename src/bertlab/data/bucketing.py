"""Length-bucketed batches of ``(epoch, index)`` keys, for dynamic padding without wasting compute on pads.

The keys come from a :class:`~bertlab.data.sampling.KeyedSampler` (seeded shuffle, ``rank::world`` sharding,
no duplicated evaluation samples), so this sampler adds no state of its own: the batches of an epoch are a pure
function of (seed, epoch, rank). Lightning calls ``set_epoch`` on ``batch_sampler.sampler``, i.e. on the keys.

Training: the rank's shuffled keys are cut into windows of ``batch_size × bucket_batches`` samples, each window
is sorted by length and cut into batches, and the batch order is shuffled again (the "sortish" sampler of
fairseq / HF ``group_by_length``). Evaluation: all of the rank's keys sorted by length, in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

from bertlab.data.sampling import KeyedSampler, _rank_and_world


def length_sorted_batches(lengths: np.ndarray, batch_size: int, drop_last: bool) -> list[np.ndarray]:
    """Positions ``0..len(lengths)-1`` sorted by length (stable) and cut into batches of ``batch_size``."""
    order = np.argsort(lengths, kind="stable")
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    return [order[i : i + batch_size] for i in range(0, stop, batch_size)]


class BucketBatchSampler(Sampler[list[tuple[int, int]]]):
    """Batches of keys whose sequences have similar length; every key of the rank at most once.

    ``lengths[i]`` is the token count of sample ``i``. ``train=True`` drops the incomplete last batch (every
    rank then has the same number of batches); evaluation keeps every sample exactly once.
    """

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray,
        batch_size: int,
        train: bool,
        seed: int,
        bucket_batches: int = 50,
    ) -> None:
        if batch_size < 1 or bucket_batches < 1:
            raise ValueError(f"batch_size={batch_size} and bucket_batches={bucket_batches} must be positive")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size, self.train, self.seed, self.bucket_batches = batch_size, train, seed, bucket_batches
        self.sampler = KeyedSampler(
            len(self.lengths), shuffle=train, seed=seed, drop_uneven=train, fixed_epoch=None if train else 0
        )

    def _batches(self) -> list[list[tuple[int, int]]]:
        keys = list(self.sampler)  # this rank's (epoch, index) keys, shuffled when training
        if not keys:
            return []
        lengths = self.lengths[[index for _, index in keys]]
        if not self.train:
            return [
                [keys[p] for p in batch] for batch in length_sorted_batches(lengths, self.batch_size, False)
            ]
        keep = len(keys) - len(keys) % self.batch_size  # the dropped tail is random: the keys are shuffled
        window = self.batch_size * self.bucket_batches
        batches = []
        for start in range(0, keep, window):
            for batch in length_sorted_batches(
                lengths[start : min(start + window, keep)], self.batch_size, True
            ):
                batches.append([keys[start + p] for p in batch])
        rank, _ = _rank_and_world()
        order = np.random.default_rng([self.seed, self.sampler.epoch, rank, 1]).permutation(len(batches))
        return [batches[i] for i in order]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        # A generator, so the epoch's batches are drawn at the first batch, not when iter() is called: a
        # resumed StatefulDataLoader calls iter() (to fast-forward) before Lightning sets the resumed epoch.
        yield from self._batches()

    def __len__(self) -> int:
        if self.train:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
