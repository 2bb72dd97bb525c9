"""Logger factories: W&B online when an API key is configured, offline otherwise; a CSV logger that appends."""

from __future__ import annotations

import csv
import netrc
import os
import secrets
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import CSVLogger, Logger, WandbLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.utilities import rank_zero_only

RUN_ID_FILE = "wandb_run_id"


class _AppendingWriter(ExperimentWriter):
    """Keeps the columns already in ``metrics.csv``. Lightning's writer only knows the keys it logged itself
    and rewrites the file with that header when another writer of the same run wrote first (each phase of
    ``ddp_spawn`` works on a pickled copy; a resumed run starts a new writer), which fails on the old rows."""

    def save(self) -> None:
        if self.metrics and self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as handle:
                on_disk = next(csv.reader(handle), [])
            self.metrics_keys = sorted(set(self.metrics_keys) | set(on_disk))
        super().save()


class AppendingCSVLogger(CSVLogger):
    """``CSVLogger`` whose ``metrics.csv`` survives new writers for the same run (see ``_AppendingWriter``)."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment


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
