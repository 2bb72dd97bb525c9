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

from bertlab import atomic

RUN_ID_FILE = "wandb_run_id"


class _AppendingWriter(ExperimentWriter):
    """Keeps the rows and columns already in ``metrics.csv``. Lightning's writer deletes the file when its
    directory is not empty (every resume), and only knows the keys it logged itself, so it rewrote the file
    with that header when another writer of the same run wrote first (each phase of ``ddp_spawn`` works on a
    pickled copy), which failed on the old rows."""

    def _check_log_dir_exists(self) -> None:
        pass  # Lightning's version deletes metrics.csv; AppendingCSVLogger decides which rows stay

    def keep_rows_before(self, step: int) -> None:
        """Drop the rows logged at ``step`` or later (a resumed run logs them again), atomically."""
        if not self._fs.isfile(self.metrics_file_path):
            return
        with self._fs.open(self.metrics_file_path, "r", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [row for row in reader if row.get("step", "").isdigit() and int(row["step"]) < step]
            keys = list(reader.fieldnames or [])
        with atomic.atomic_file(self.metrics_file_path, "w", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)

    def _rewrite_with_new_header(self, fieldnames: list[str]) -> None:
        with self._fs.open(self.metrics_file_path, "r", newline="") as handle:
            rows = list(csv.DictReader(handle))
        with atomic.atomic_file(self.metrics_file_path, "w", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fieldnames)
            writer.writeheader()
            writer.writerows(rows)

    def save(self) -> None:
        if self.metrics and self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as handle:
                on_disk = next(csv.reader(handle), [])
            self.metrics_keys = sorted(set(self.metrics_keys) | set(on_disk))
        super().save()


class AppendingCSVLogger(CSVLogger):
    """``CSVLogger`` whose ``metrics.csv`` keeps a run's history across resumes and new writers.

    ``keep_before_step``: rows logged at this step or later are dropped when the writer is created: a run
    resumed from a checkpoint of global step N logs steps N… again (``train.py`` passes N; a run started
    without a checkpoint passes 0, replacing an older history in the same directory). Later writers of the
    same logger (``ddp_spawn``'s phases) keep every row.
    """

    def __init__(self, *args: Any, keep_before_step: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep_before_step = keep_before_step

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
            if self.keep_before_step is not None:
                self._experiment.keep_rows_before(self.keep_before_step)
                self.keep_before_step = None  # once per run, not once per pickled copy
        return self._experiment


def wandb_api_key_configured() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc(Path.home() / ".netrc").authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


class ContinuingWandbLogger(WandbLogger):
    """A resumed run's W&B logger: steps the earlier process already logged are not logged again.

    A run resumed from a checkpoint replays the steps between that checkpoint and the moment it was killed
    (none after a SIGTERM/Ctrl-C, which save at the step they stop at; some after a SIGKILL). W&B keeps the
    run's summary across processes (online), so its ``trainer/global_step`` is the last step already logged.
    """

    _logged_through: int | None = None

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if self._logged_through is None:
            self._logged_through = int(self.experiment.summary.get("trainer/global_step", -1))
        if step is not None and step <= self._logged_through:
            return
        super().log_metrics(metrics, step)


def wandb_logger(
    mode: str = "auto", save_dir: str = ".", resume_dir: str | None = None, **kwargs: Any
) -> WandbLogger:
    """``mode``: online | offline | auto (online only when an API key is configured).

    The run id is written to ``<save_dir>/wandb_run_id``; a run resumed from a checkpoint of ``resume_dir``
    reuses that directory's id, so W&B continues the same run (:class:`ContinuingWandbLogger`).
    """
    if mode not in ("auto", "online", "offline"):
        raise ValueError(f"logger.wandb.mode={mode!r}: expected auto, online or offline")
    offline = mode == "offline" or (mode == "auto" and not wandb_api_key_configured())
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    previous = Path(resume_dir or save_dir) / RUN_ID_FILE
    run_id = previous.read_text().strip() if previous.is_file() else secrets.token_hex(4)
    if rank_zero_only.rank == 0:  # other DDP ranks never log to W&B
        atomic.write_text(Path(save_dir) / RUN_ID_FILE, run_id)
    kind = WandbLogger if resume_dir is None else ContinuingWandbLogger
    return kind(offline=offline, save_dir=save_dir, id=run_id, resume="allow", **kwargs)


def finish(loggers: list[Logger]) -> None:
    """Close W&B runs so the next Hydra job (in a sweep) starts a new one."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.finish()
