"""Save and restore the random number generators with the checkpoint, for exact resume.

Lightning checkpoints hold no RNG state, so dropout after a resume would differ from an uninterrupted run.
States are stored as tensors and plain lists (``torch.load(weights_only=True)`` still works) and restored at
the first training batch after loading — after the dataloader iterator has been created, which itself draws
from the global generator in the resumed run but not at that point of the uninterrupted one.
"""

from __future__ import annotations

import random
from typing import Any

import lightning as L
import numpy as np
import torch

KEY = "bertlab_rng_state"


def capture() -> dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": pos,
            "has_gauss": has_gauss,
            "cached": cached,
        },
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    np.random.set_state(
        (
            np_state["kind"],
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["cached"],
        )
    )
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class RNGStateCallback(L.Callback):
    """Adds the RNG states to every checkpoint and puts them back when training resumes from one."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        checkpoint[KEY] = capture()

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        self._pending = checkpoint.get(KEY)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if self._pending is not None:
            restore(self._pending)
            self._pending = None
