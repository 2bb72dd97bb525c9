"""Stopping a run without losing it: SIGTERM/SIGINT save ``last.ckpt`` at the next step boundary; a non-finite
loss stops the run before anything is saved over the last good checkpoint.

Lightning alone stops after the batch on SIGTERM and exits 0 with no checkpoint (a scheduler or sweeper sees
success), and Ctrl-C saves nothing. Here the signal only sets a flag; the next ``on_train_batch_end`` (where
``ModelCheckpoint`` saves too, so resume is exact) writes ``last.ckpt``, and the next hook raises
:class:`Interrupted` (before validation or another batch runs), whose exit code is the shell's for the
signal (143 for SIGTERM, 130 for SIGINT): "interrupted, resumable". A second Ctrl-C stops at once. A running
validation finishes before the save.
"""

from __future__ import annotations

import math
import shlex
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch

from bertlab.callbacks.checkpoints import LAST, find_last_checkpoint
from bertlab.errors import UserError

HANDLED = (signal.SIGTERM, signal.SIGINT)
# Requeue signals, taken over only when a launcher already handles them (submitit: SIGUSR2; Lightning's
# SLURMEnvironment(auto_requeue=True): SIGUSR1): we save at the step boundary, then call that handler,
# which requeues the job. The requeued job re-runs the same command in the same run directory and
# resume=auto continues from last.ckpt.
REQUEUE = (signal.SIGUSR1, signal.SIGUSR2)
_REPLACED_BY_RESUME = ("hydra.run.dir=", "resume=", "ckpt_path=", "+ckpt_path=")


class Interrupted(Exception):
    """Training stopped on a signal after saving ``checkpoint``; ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int, checkpoint: Path) -> None:
        super().__init__(f"{signal.Signals(signum).name}: saved {checkpoint}")
        self.signum, self.checkpoint = signum, checkpoint
        self.exit_code = 128 + signum


class NonFiniteLossError(UserError, FloatingPointError):
    """The training loss became NaN or infinite."""


def resume_command(program: str, overrides: Sequence[str], output_dir: str | Path) -> str:
    """The command line that continues the run in ``output_dir`` from its ``last.ckpt``."""
    kept = [o for o in overrides if not o.startswith(_REPLACED_BY_RESUME)]
    words = [*program.split(), *kept, f"hydra.run.dir={output_dir}", "resume=must"]
    return " ".join(shlex.quote(w) for w in words)


def _accumulating(trainer: L.Trainer, batch_idx: int) -> bool:
    """True while gradients of a step are still being accumulated (not a step boundary)."""
    last = trainer.fit_loop.epoch_loop.batch_progress.is_last_batch
    return not last and (batch_idx + 1) % trainer.accumulate_grad_batches != 0


class InterruptCallback(L.Callback):
    """Installs SIGTERM/SIGINT handlers while training runs (in the main thread)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.saved: Path | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame) -> None:
        if self.received is not None and signum == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt  # the second Ctrl-C: stop now
        self.received = signum

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # replaces Lightning's own SIGTERM handler, registered after on_fit_start and before this hook
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous = {s: signal.signal(s, self._handle) for s in HANDLED}
        for signum in REQUEUE:
            if callable(signal.getsignal(signum)):
                self._previous[signum] = signal.signal(signum, self._handle)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        for signum, handler in self._previous.items():
            if signal.getsignal(signum) == self._handle:  # Lightning's teardown may have restored it already
                signal.signal(signum, handler)
        self._previous = {}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch: Any, batch_idx: int) -> None:
        stop = self.received is not None
        if trainer.world_size > 1:  # a signal that reached one rank stops them all at the same step
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if not stop or self.saved is not None or _accumulating(trainer, batch_idx):
            return
        saver = find_last_checkpoint(trainer)
        if saver is not None:
            self.saved = saver.save_now(trainer)
        else:
            self.saved = Path(trainer.default_root_dir) / "checkpoints" / LAST
            trainer.save_checkpoint(self.saved)

    # Stop at the next hook after the save, once Lightning has logged the saved step's metrics (it does so
    # after on_train_batch_end): before the next batch, validation, epoch, or the end of training.
    def _stop_if_saved(self, *args: Any) -> None:
        if self.saved is None:
            return
        signum = self.received or signal.SIGTERM
        if signum in REQUEUE:
            self._previous[signum](signum, None)  # the launcher's requeue (submitit exits inside it)
        raise Interrupted(signum, self.saved)

    on_train_batch_start = on_validation_start = on_train_epoch_start = on_train_end = _stop_if_saved


class FiniteLossCallback(L.Callback):
    """Stops at the first NaN/inf training loss, naming the step; checkpoint callbacks run after this one."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch: Any, batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        bad = not math.isfinite(float(loss.detach()) if torch.is_tensor(loss) else float(loss))
        if trainer.world_size > 1:
            bad = trainer.strategy.reduce_boolean_decision(bad, all=False)
        if bad:
            lr = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else float("nan")
            raise NonFiniteLossError(
                f"the training loss is not finite at step {trainer.global_step} (learning rate {lr:.3g}); "
                "usually the learning rate is too high (optimizer.lr) or half precision overflowed "
                "(trainer.precision=32-true). Nothing was saved over the last good checkpoint."
            )
