"""Which checkpoint a run resumes from: ``resume=auto|must|never`` and an explicit ``ckpt_path``.

``auto`` resumes from ``<output_dir>/checkpoints/last.ckpt`` when it exists (Hydra run directories are
timestamped: fix one with ``hydra.run.dir=...`` to resume a run by re-running its command); ``must`` makes a
missing checkpoint an error; ``never`` starts fresh. An explicit ``ckpt_path`` always wins and must exist.
:func:`find_checkpoint` picks the checkpoint that export and evaluation use when none is named.
"""

from __future__ import annotations

from pathlib import Path

import torch

from bertlab.errors import CheckpointError

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


def find_checkpoint(run_dir: Path) -> Path:
    """The run's best checkpoint (``checkpoints/*.ckpt`` other than ``last.ckpt``), else ``last.ckpt``."""
    candidates = sorted(p for p in (run_dir / "checkpoints").glob("*.ckpt") if p.name != "last.ckpt")
    if not candidates:
        last = run_dir / "checkpoints" / "last.ckpt"
        if last.is_file():
            return last
        raise FileNotFoundError(f"no checkpoint in {run_dir / 'checkpoints'}")
    return candidates[-1]


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
