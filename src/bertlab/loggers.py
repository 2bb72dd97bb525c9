"""Logger factories: W&B online when an API key is configured, offline otherwise."""

from __future__ import annotations

import netrc
import os
import secrets
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger, WandbLogger
from lightning.pytorch.utilities import rank_zero_only

RUN_ID_FILE = "wandb_run_id"


def wandb_api_key_configured() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc(Path.home() / ".netrc").authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def wandb_logger(
    mode: str = "auto", save_dir: str = ".", resume_dir: str | None = None, **kwargs: Any
) -> WandbLogger:
    """``mode``: online | offline | auto (online only when an API key is configured).

    The run id is written to ``<save_dir>/wandb_run_id``; a run resumed from a checkpoint of ``resume_dir``
    reuses that directory's id, so W&B continues the same run.
    """
    if mode not in ("auto", "online", "offline"):
        raise ValueError(f"logger.wandb.mode={mode!r}: expected auto, online or offline")
    offline = mode == "offline" or (mode == "auto" and not wandb_api_key_configured())
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    previous = Path(resume_dir or save_dir) / RUN_ID_FILE
    run_id = previous.read_text().strip() if previous.is_file() else secrets.token_hex(4)
    if rank_zero_only.rank == 0:  # other DDP ranks never log to W&B
        (Path(save_dir) / RUN_ID_FILE).write_text(run_id)
    return WandbLogger(offline=offline, save_dir=save_dir, id=run_id, resume="allow", **kwargs)


def finish(loggers: list[Logger]) -> None:
    """Close W&B runs so the next Hydra job (in a sweep) starts a new one."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.finish()
