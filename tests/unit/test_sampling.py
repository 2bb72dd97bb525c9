"""KeyedSampler: seeded per-epoch order, rank shards, and keys made lazily (no per-epoch list of tuples)."""

from __future__ import annotations

import tracemalloc

from bertlab.data.sampling import KeyedSampler


def test_keys_follow_the_seeded_epoch_order_and_are_made_lazily():
    sampler = KeyedSampler(1_000_000, shuffle=True, seed=3, drop_uneven=True)
    sampler.set_epoch(2)
    tracemalloc.start()
    keys = iter(sampler)
    first = [next(keys) for _ in range(3)]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 12 * 1_000_000  # the index array (8 bytes a sample), not ~100 bytes a sample of tuples
    sampler.set_epoch(2)
    assert list(iter(sampler))[:3] == first and all(epoch == 2 for epoch, _ in first)
    sampler.set_epoch(3)
    assert [next(iter(sampler)) for _ in range(1)][0] != first[0]
    assert sorted(i for _, i in KeyedSampler(10, shuffle=True, seed=3, drop_uneven=True)) == list(range(10))
