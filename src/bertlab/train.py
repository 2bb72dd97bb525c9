"""The composition root: build every part in data-flow order, fit, test, and return the monitored metric.

bertlab-train experiment=mlm_shakespeare trainer.precision=bf16-mixed
python -m bertlab.train -m experiment=cola seed=1,2,3
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import hydra
import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.fabric.plugins.environments import SLURMEnvironment
from lightning.pytorch.callbacks import Callback, LearningRateMonitor, RichProgressBar
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

from bertlab import atomic, console, hub
from bertlab import loggers as bertlab_loggers
from bertlab.build import build, build_reports
from bertlab.callbacks.checkpoints import AtomicCheckpointIO
from bertlab.callbacks.hf_export import HFExportCallback
from bertlab.callbacks.interrupt import FiniteLossCallback, InterruptCallback, Interrupted, resume_command
from bertlab.config import config_dir, register_schemas
from bertlab.errors import ConfigError, user_errors_exit
from bertlab.mixed_precision import precision_arguments
from bertlab.precision import run_precision
from bertlab.resume import check_compatible, checkpoint_step, resolve_checkpoint
from bertlab.runtime import configure_allocator

log = logging.getLogger(__name__)
register_schemas()


def check_launch(cfg: DictConfig) -> None:
    """Lightning's ddp strategy re-runs the command line in child processes; under ``-m`` that re-sweeps."""
    strategy = str(cfg.trainer.get("strategy", "auto"))
    multirun = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    if multirun and strategy == "ddp" and not SLURMEnvironment.detect():  # under SLURM, srun starts the ranks
        raise ConfigError(
            "trainer.strategy=ddp cannot run inside a Hydra multirun (-m): it relaunches the whole command in "
            "child processes, which would start the sweep again. Use trainer=ddp_spawn for sweeps on one "
            "machine, or the SLURM launcher (hydra/launcher=submitit_slurm) on a cluster."
        )


def build_callbacks(cfg: DictConfig, loggers: list[Logger]) -> list[Callback]:
    callbacks = [instantiate(c) for c in (cfg.callbacks or {}).values() if c is not None]
    callbacks += build_reports(cfg)
    callbacks += [InterruptCallback(), FiniteLossCallback()]  # policy, not options: always on
    if not loggers:
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    if cfg.trainer.get("enable_progress_bar", True) and sys.stdout.isatty():
        callbacks.append(RichProgressBar())
    return callbacks


def build_loggers(cfg: DictConfig, resume_from: Path | None = None) -> list[Logger]:
    """Instantiate ``cfg.logger``; a resumed run continues its CSV history and its W&B run."""
    loggers = []
    for node in (cfg.logger or {}).values():
        if node is None:
            continue
        extra = {}
        if node.get("_target_") == "bertlab.loggers.AppendingCSVLogger":
            extra["keep_before_step"] = 0 if resume_from is None else checkpoint_step(resume_from)
        if node.get("_target_") == "bertlab.loggers.wandb_logger":
            if resume_from is not None:
                extra["resume_dir"] = str(resume_from.parents[1])
            if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
                extra["group"] = (
                    f"{cfg.task_name}-{Path(HydraConfig.get().sweep.dir).name}"  # one group per sweep
                )
        loggers.append(instantiate(node, **extra))
    return loggers


def monitored_value(trainer: L.Trainer, monitor: str):
    """The best checkpoint's score when one was kept (what a sweep should optimise), else the last value."""
    callback = trainer.checkpoint_callback
    if callback is not None and callback.monitor == monitor and callback.best_model_score is not None:
        return callback.best_model_score
    return trainer.callback_metrics.get(monitor)


def train(cfg: DictConfig) -> float | None:
    """Fit (and test) one run; return ``objective.monitor`` for sweepers."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    check_launch(cfg)
    if cfg.model.get("path") is not None:  # before any work: a missing directory is named as model.path
        hub.resolve(str(cfg.model.path), key="model.path")
    configure_allocator(cfg.cpu_allocator)
    console.announce(console.started(cfg.paths.output_dir))
    L.seed_everything(cfg.seed, workers=True)
    datamodule, module = build(cfg)
    checkpoint = resolve_checkpoint(cfg.resume, cfg.ckpt_path, cfg.paths.output_dir)
    if checkpoint is not None:
        check_compatible(checkpoint, module)
    loggers = build_loggers(cfg, checkpoint)
    callbacks = build_callbacks(cfg, loggers)
    if cfg.export:
        callbacks.append(HFExportCallback(str(Path(cfg.paths.output_dir) / "hf"), datamodule.tokenizer))
    precision = run_precision(cfg.trainer, module.encoder.config, cfg.paths.cache_dir)
    arguments = precision_arguments(precision.precision, str(cfg.trainer.accelerator))
    arguments["plugins"].append(AtomicCheckpointIO())
    trainer: L.Trainer = instantiate(cfg.trainer, **arguments, callbacks=callbacks, logger=loggers or False)
    hyperparameters = OmegaConf.to_container(cfg, resolve=True)
    hyperparameters["trainer"]["precision"] = precision.precision
    hyperparameters["precision_choice"] = precision.as_dict()
    for logger in loggers:
        logger.log_hyperparams(hyperparameters)
    try:
        if trainer.is_global_zero:
            console.save_resolved_config(cfg, cfg.paths.output_dir)
            with atomic.atomic_directory(Path(cfg.paths.output_dir) / "tokenizer", replace=True) as tmp:
                datamodule.tokenizer.save_pretrained(str(tmp))
            atomic.write_json(Path(cfg.paths.output_dir) / "precision.json", precision.as_dict())
        if cfg.train:
            try:
                trainer.fit(module, datamodule=datamodule, ckpt_path=checkpoint, weights_only=True)
            except Interrupted as stop:
                report_interrupted(stop, cfg.paths.output_dir, trainer.is_global_zero)
                raise SystemExit(stop.exit_code) from None
        metric = monitored_value(trainer, cfg.objective.monitor)
        if cfg.test:
            best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
            trainer.test(module, datamodule=datamodule, ckpt_path=best or None, weights_only=True)
    finally:
        bertlab_loggers.finish(loggers)
    console.announce(console.next_commands(cfg.paths.output_dir, exported=cfg.export and cfg.train))
    return None if metric is None else float(metric)


def report_interrupted(stop: Interrupted, output_dir: str, global_zero: bool) -> None:
    """Say what was saved and the exact command that continues the run (on rank 0 only)."""
    if not global_zero:
        return
    if HydraConfig.initialized():
        overrides = list(HydraConfig.get().overrides.task)
        program = "bertlab-train" if Path(sys.argv[0]).name == "bertlab-train" else "python -m bertlab.train"
    else:  # called as a library function
        overrides, program = [], "bertlab-train"
    print(
        f"bertlab-train: interrupted by {signal.Signals(stop.signum).name}; saved {stop.checkpoint}\n"
        f"resume with:\n  {resume_command(program, overrides, output_dir)}",
        file=sys.stderr,
        flush=True,
    )


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def main(cfg: DictConfig) -> float | None:
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        return train(cfg)  # a failing job is Hydra's to record; the sweep goes on
    return user_errors_exit("bertlab-train")(train)(cfg)


if __name__ == "__main__":
    main()
