"""``trainer.precision: auto``: pick the Lightning precision by measuring this machine, not by assumption.

Whether bf16 autocast pays on a CPU depends on the CPU: with AVX512-BF16 and no AMX, one x86 kind runs bf16
matmuls at ~4× its fp32 rate and another at half of it (README, Performance). So on CPU a probe times the
run's two feed-forward linear layers (``(rows, H) → (rows, I) → (rows, H)``, the bulk of an encoder's
FLOPs) in fp32 and under bf16 autocast, interleaved, on one thread, and picks ``bf16-mixed`` only when it is clearly faster
(``BF16_MARGIN``): the rest of a training step (elementwise ops, fp32 optimizer state, autocast's weight
casts) does not speed up with the matmuls. One thread, because the ratio is a property of the core's
instructions, and on a shared machine other processes stall multi-threaded kernels at their barriers, which
distorts the two dtypes differently. The probe takes about 0.2 s on an idle core; its result is cached per CPU
model, torch version and layer shape under ``<cache_dir>/precision/``.

On CUDA: ``bf16-mixed`` where the GPU supports it, else ``16-mixed``. Several CPU processes (DDP) cannot
agree on a probe before they start, so they get ``32-true``. An explicit precision is used as given.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from bertlab import atomic

log = logging.getLogger(__name__)

AUTO = "auto"
BF16_MARGIN = 1.25  # bf16 must reach this multiple of the fp32 rate to be chosen
PROBE_FLOPS = 1e9  # per probe call; sets the number of rows (64..1024) for the layer shape
PROBE_REPEATS = 5


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision a run uses and why: ``explicit``, ``cuda``, ``distributed``, ``probe`` or ``cached``."""

    precision: str
    source: str
    fp32_gflops: float | None = None
    bf16_gflops: float | None = None
    hidden_size: int | None = None
    intermediate_size: int | None = None

    def describe(self) -> str:
        if self.fp32_gflops is None:
            return f"trainer.precision={self.precision} ({self.source})"
        return (
            f"trainer.precision=auto → {self.precision} ({self.source}): linear layers {self.hidden_size}→"
            f"{self.intermediate_size}→{self.hidden_size} at bf16 {self.bf16_gflops:,.0f} GFLOP/s vs fp32 "
            f"{self.fp32_gflops:,.0f} GFLOP/s (bf16 chosen from {BF16_MARGIN}× up)"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def choose_cpu_precision(fp32_seconds: float, bf16_seconds: float, margin: float = BF16_MARGIN) -> str:
    """``bf16-mixed`` when the same work takes at most 1/margin of the fp32 time under bf16, else ``32-true``."""
    return "bf16-mixed" if bf16_seconds * margin <= fp32_seconds else "32-true"


def probe_rows(hidden_size: int, intermediate_size: int, flops: float = PROBE_FLOPS) -> int:
    """Rows of the probe input so that one call (two matmuls) costs about ``flops``."""
    return int(min(1024, max(64, flops / (4 * hidden_size * intermediate_size))))


def time_interleaved(runs: dict[str, Callable[[], object]], repeats: int = PROBE_REPEATS) -> dict[str, float]:
    """Best (minimum) seconds of each callable after one warm-up call each, alternating so noise hits all
    alike. The minimum, not the median: on a shared machine other processes only ever add time."""
    for run in runs.values():
        run()
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in seconds.items()}


def probe_cpu(hidden_size: int, intermediate_size: int) -> dict[str, float]:
    """Measured FLOP/s of the feed-forward pair on one thread in fp32 and under CPU bf16 autocast (fp32
    weights cast per call, as in training). Uses its own generator: the run's RNG stream is untouched."""
    rows = probe_rows(hidden_size, intermediate_size)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(rows, hidden_size, generator=generator)  # (R, H)
    w_in = torch.randn(intermediate_size, hidden_size, generator=generator)  # (I, H)
    w_out = torch.randn(hidden_size, intermediate_size, generator=generator)  # (H, I)

    def fp32() -> torch.Tensor:
        return F.linear(F.linear(x, w_in), w_out)  # (R, H)

    def bf16() -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return F.linear(F.linear(x, w_in), w_out)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            seconds = time_interleaved({"fp32": fp32, "bf16": bf16})
    finally:
        torch.set_num_threads(threads)
    flops = 4 * rows * hidden_size * intermediate_size
    return {name: flops / value for name, value in seconds.items()}


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what the platform reports."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cache_file(cache_dir: str | Path, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir).expanduser() / "precision" / f"probe-{digest}.json"


def cpu_choice(hidden_size: int, intermediate_size: int, cache_dir: str | Path | None) -> PrecisionChoice:
    """The cached probe result for this machine and layer shape, or a fresh probe (then cached)."""
    key = {
        "cpu": cpu_model(),
        "torch": torch.__version__,
        "hidden_size": hidden_size,
        "intermediate_size": intermediate_size,
    }
    path = _cache_file(cache_dir, key) if cache_dir else None
    if path is not None and path.is_file():
        try:
            record = json.loads(path.read_text())
            if record.get("key") == key:
                return PrecisionChoice(**{**record["choice"], "source": "cached"})
        except (OSError, ValueError, TypeError):
            log.warning("ignoring an unreadable precision probe cache %s", path)
    rates = probe_cpu(hidden_size, intermediate_size)
    choice = PrecisionChoice(
        precision=choose_cpu_precision(1 / rates["fp32"], 1 / rates["bf16"]),
        source="probe",
        fp32_gflops=round(rates["fp32"] / 1e9, 1),
        bf16_gflops=round(rates["bf16"] / 1e9, 1),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
    )
    if path is not None:
        atomic.write_json(path, {"key": key, "choice": choice.as_dict()})
    return choice


def uses_cuda(accelerator: str) -> bool:
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def resolve_precision(
    requested: str | int,
    accelerator: str,
    hidden_size: int,
    intermediate_size: int,
    processes: int = 1,
    cache_dir: str | Path | None = None,
) -> PrecisionChoice:
    """The Lightning precision for a run; ``requested`` other than ``auto`` is returned unchanged."""
    if str(requested) != AUTO:
        return PrecisionChoice(str(requested), "explicit")
    if uses_cuda(accelerator):
        return PrecisionChoice("bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed", "cuda")
    if processes > 1:
        return PrecisionChoice("32-true", "distributed")
    return cpu_choice(hidden_size, intermediate_size, cache_dir)


def encoder_widths(config) -> tuple[int, int]:
    """(hidden, feed-forward inner) width of a transformers config (BERT, ALBERT, ELECTRA, GPT-2)."""
    hidden = config.hidden_size
    inner = getattr(config, "intermediate_size", None) or getattr(config, "n_inner", None) or 4 * hidden
    return hidden, inner


def process_count(devices) -> int:
    """Processes per node Lightning starts for ``trainer.devices`` (an int, ``-1``, a list or ``auto``)."""
    if isinstance(devices, str):
        devices = int(devices) if devices.lstrip("-").isdigit() else 1  # "auto": one process on CPU
    if isinstance(devices, int):
        return 2 if devices == -1 else max(devices, 1)  # -1: every device, so more than one
    return len(list(devices))


def run_precision(trainer_cfg, encoder_config, cache_dir: str | Path | None) -> PrecisionChoice:
    """Resolve ``trainer.precision`` of a composed run for its encoder; the choice is logged."""
    hidden, inner = encoder_widths(encoder_config)
    processes = process_count(trainer_cfg.get("devices", 1)) * int(trainer_cfg.get("num_nodes", 1) or 1)
    choice = resolve_precision(
        trainer_cfg.get("precision", AUTO),
        str(trainer_cfg.get("accelerator", "cpu")),
        hidden,
        inner,
        processes=processes,
        cache_dir=cache_dir,
    )
    log.info(choice.describe())
    return choice
