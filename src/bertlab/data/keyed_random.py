"""Counter-based random numbers keyed by (seed, epoch, sample index, position).

Masks and pairs must not depend on worker count, rank, batch composition or how often a generator was
called before (that is what makes resume replay exactly and keeps DDP ranks independent). A splitmix64 hash
of the key gives a uniform number per position, vectorised with numpy: no generator state at all.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective avalanche on uint64."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def row_keys(seed: int, epochs: np.ndarray, indices: np.ndarray, stream: int) -> np.ndarray:
    """One uint64 key per sample, from (seed, stream, epoch, index). Shapes: (B,) -> (B,)."""
    with np.errstate(over="ignore"):
        base = _mix(np.asarray([seed * 1_000_003 + stream], dtype=np.uint64))
        key = _mix(base + np.asarray(epochs, dtype=np.uint64) * _GOLDEN)
        return _mix(key ^ _mix(np.asarray(indices, dtype=np.uint64) + _GOLDEN))


def uniform(seed: int, epochs: np.ndarray, indices: np.ndarray, length: int, stream: int) -> np.ndarray:
    """Uniform floats in [0, 1), shape (B, length), a pure function of the key and the position."""
    keys = row_keys(seed, epochs, indices, stream)[:, None]  # (B, 1)
    with np.errstate(over="ignore"):
        positions = (np.arange(1, length + 1, dtype=np.uint64) * _GOLDEN)[None, :]  # (1, T)
        bits = _mix(keys + positions)
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
