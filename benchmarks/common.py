"""Helpers for the benchmark scripts: compose a run, time training steps, summarise repeats."""

from __future__ import annotations

import atexit
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import lightning as L
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from bertlab.config import config_dir, register_schemas


def compose_run(overrides: list[str]) -> DictConfig:
    """Compose ``conf/train.yaml`` like ``bertlab-train`` would, with outputs in a temporary directory that is
    removed when the process exits."""
    register_schemas()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = output_dir = tempfile.mkdtemp(prefix="bertlab-bench-")
        cfg.hydra.job.num = 0
    atexit.register(shutil.rmtree, output_dir, ignore_errors=True)
    HydraConfig.instance().set_config(cfg)
    return cfg


class StepTimer(L.Callback):
    """Wall time of training steps after ``warmup`` steps (optimizer step included, data loading excluded
    only for the first batch)."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start: float | None = None
        self.timed_steps = 0
        self.elapsed = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.start is not None:
            self.timed_steps += 1
            self.elapsed = time.perf_counter() - self.start


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine_line() -> str:
    import os

    import torch

    from bertlab.precision import cpu_model

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    bf16 = "avx512_bf16" in flags
    amx = "amx_bf16" in flags
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}, avx512_bf16={'yes' if bf16 else 'no'}, amx={'yes' if amx else 'no'}; "
        f"{load_average()}"
    )


def measured_peaks(peaks: dict[str, float] | None = None) -> dict[str, float]:
    """Each precision's matmul peak, the best of this and the earlier measurements (noise only lowers it)."""
    import torch

    from benchmarks.flops import matmul_peak

    now = {"32-true": matmul_peak(torch.float32), "bf16-mixed": matmul_peak(torch.bfloat16)}
    return {k: max(v, (peaks or {}).get(k, 0.0)) for k, v in now.items()}


def print_machine() -> dict[str, float]:
    """Print what every benchmark prints first: the machine (CPU model, cores, torch, threads, bf16/AMX flags,
    load) and both matmul peaks measured now; return the peaks (FLOP/s, keyed by precision)."""
    peaks = measured_peaks()
    print(f"machine: {machine_line()}")
    print(
        f"matmul peak (2048², all threads): fp32 {peaks['32-true'] / 1e9:,.0f} GFLOP/s, "
        f"bf16 {peaks['bf16-mixed'] / 1e9:,.0f} GFLOP/s",
        flush=True,
    )
    return peaks


def load_average() -> str:
    """The 1/5/15-minute load averages (``uptime``): measurements on a shared machine are read beside them."""
    import os

    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def run_for_result(command: list[str], what: str, cwd: str | Path | None = None) -> dict:
    """Run one measurement in its own process; return the JSON it printed after ``RESULT `` on stdout.

    A measurement process prints ``"RESULT " + json.dumps(...)`` (plain ``print``: the SQuAD pipeline side
    runs in another Python without bertlab). A failure exits with the end of the process's stderr.
    """
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise SystemExit(f"{what} run failed:\n{done.stderr[-3000:]}")
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
