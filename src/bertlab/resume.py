"""Which checkpoint a run resumes from: ``resume=auto|must|never`` and an explicit ``ckpt_path``.

``auto`` resumes from ``<output_dir>/checkpoints/last.ckpt`` when it exists (Hydra run directories are
timestamped: fix one with ``hydra.run.dir=...`` to resume a run by re-running its command); ``must`` makes a
missing checkpoint an error; ``never`` starts fresh. An explicit ``ckpt_path`` always wins and must exist.
:func:`find_checkpoint` picks the checkpoint that export and evaluation use when none is named.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import torch

from bertlab.errors import CheckpointError

log = logging.getLogger(__name__)
LAST = "last.ckpt"
MODES = ("auto", "must", "never")


def resolve_checkpoint(resume: str, ckpt_path: str | None, output_dir: str | Path) -> Path | None:
    if resume not in MODES:
        raise CheckpointError(f"resume={resume!r}: expected one of {', '.join(MODES)}")
    if ckpt_path:
        path = Path(ckpt_path)
        if not path.is_file():
            raise CheckpointError(f"ckpt_path={ckpt_path}: no such checkpoint file")
        return check_readable(path)
    last = Path(output_dir) / "checkpoints" / "last.ckpt"
    if resume == "never":
        return None
    if last.is_file():
        return check_readable(last)
    if resume == "must":
        raise CheckpointError(
            f"resume=must but {last} does not exist: pass ckpt_path=<file>, or hydra.run.dir=<the old run dir>"
        )
    return None


def recorded_score(state: dict) -> tuple[float, str] | None:
    """``(score, mode)`` that ``ModelCheckpoint(monitor=...)`` recorded in a checkpoint of its own, else None."""
    for key, value in (state.get("callbacks") or {}).items():
        if key.startswith("ModelCheckpoint{") and isinstance(value, dict) and value.get("monitor"):
            score = value.get("current_score")
            if score is not None:
                return float(score), "min" if "'mode': 'min'" in key else "max"
    return None


def find_checkpoint(run_dir: Path) -> Path:
    """The checkpoint with the best score recorded in it (``checkpoints/*.ckpt``), else ``last.ckpt``.

    File names do not decide (``epoch009`` sorts after ``epoch010`` once a run has >999 epochs, and a
    partial file sorts like a whole one); unreadable files are skipped with a warning.
    """
    directory = Path(run_dir) / "checkpoints"
    scored = []
    for path in sorted(directory.glob("*.ckpt")):
        if path.name == LAST:
            continue
        try:
            score = recorded_score(torch.load(path, map_location="cpu", weights_only=True, mmap=True))
        except Exception as err:  # torch raises several types for truncated or foreign files
            log.warning("skipping unreadable checkpoint %s: %s", path, err)
            continue
        if score is not None and math.isfinite(score[0]):
            scored.append((score, path))
    if scored:
        best = max if scored[0][0][1] == "max" else min
        return best(scored, key=lambda item: item[0][0])[1]
    last = directory / LAST
    if last.is_file():
        return check_readable(last)
    raise CheckpointError(
        f"no checkpoint in {directory}: the run saved none (it trained no step?); pass --checkpoint <file>"
    )


def check_readable(path: Path) -> Path:
    """Fail early, naming the file, if it is not a complete Lightning checkpoint."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"checkpoint {path} is unreadable or corrupt: {err}") from err
    if not isinstance(state, dict) or "state_dict" not in state:
        raise CheckpointError(f"checkpoint {path} is not a Lightning checkpoint (no 'state_dict')")
    return path


def check_compatible(path: Path, module: torch.nn.Module) -> None:
    """A checkpoint whose tensors do not match the configured model is an error, never a partial load."""
    saved = torch.load(path, map_location="meta", weights_only=True, mmap=True)["state_dict"]
    current = module.state_dict()
    missing = sorted(set(current) - set(saved))
    unexpected = sorted(set(saved) - set(current))
    mismatched = [k for k in set(saved) & set(current) if tuple(saved[k].shape) != tuple(current[k].shape)]
    if missing or unexpected or mismatched:
        detail = "; ".join(
            f"{label}: {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
            for label, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("shape differs", mismatched),
            )
            if keys
        )
        raise CheckpointError(f"checkpoint {path} does not fit the configured model ({detail})")


def checkpoint_step(path: Path) -> int:
    """The global step a Lightning checkpoint was saved at."""
    return int(torch.load(path, map_location="meta", weights_only=True, mmap=True).get("global_step", 0))
