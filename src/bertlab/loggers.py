"""Logger factories: W&B online when an API key is configured, offline otherwise."""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger, WandbLogger


def wandb_api_key_configured() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc(Path.home() / ".netrc").authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def wandb_logger(mode: str = "auto", **kwargs: Any) -> WandbLogger:
    """``mode``: online | offline | auto (online only when an API key is configured)."""
    if mode not in ("auto", "online", "offline"):
        raise ValueError(f"logger.wandb.mode={mode!r}: expected auto, online or offline")
    offline = mode == "offline" or (mode == "auto" and not wandb_api_key_configured())
    Path(kwargs.get("save_dir", ".")).mkdir(parents=True, exist_ok=True)
    return WandbLogger(offline=offline, **kwargs)


def finish(loggers: list[Logger]) -> None:
    """Close W&B runs so the next Hydra job (in a sweep) starts a new one."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.finish()
