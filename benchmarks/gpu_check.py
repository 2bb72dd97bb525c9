"""GPU check: everything a first session on a GPU machine should confirm, in one script (≤ 8 minutes on one GPU).

    python -m benchmarks.gpu_check                          # CUDA: real data from BERTLAB_DATA_DIR
    python -m benchmarks.gpu_check --dry-run                # the same steps on CPU at tiny sizes (a test runs it)

Steps, each a row of the printed table and of the JSON written to ``--out``:
  smoke/<experiment>  every experiment trains a few batches at ``bf16-mixed`` (validation and test included);
                      an experiment whose data files are absent is reported as skipped
  mlm_throughput      MLM tokens/s of bertlab and of the HF Trainer (``BertForMaskedLM`` + its MLM collator) in
                      bf16 at ``bert_base``, block 128, batch 64; useful-FLOP MFU against the measured bf16
                      matmul peak (``benchmarks/flops.py``)
  sdpa_kernel         which SDPA kernel one bf16 training step of the MLM encoder runs (torch profiler); on
                      CUDA it must be flash or memory-efficient attention. CPU has no fused kernel for training
                      with attention dropout, so the dry run only requires that SDPA ran
  cola_epoch          wall time of one ``experiment=cola`` epoch
  ddp                 a few DDP steps on every visible GPU (NCCL; gloo with 2 CPU processes in the dry run),
                      the backend and world size read inside the run
On GPU the runs use ``fast_dropout=false``: the cheaper dropout mask is a CPU lever, and its attention
path (explicit matmuls) would keep the fused SDPA kernels out of training.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import torch

ROOT = Path(__file__).resolve().parents[1]
SDPA_FUSED = ("flash_attention", "efficient_attention")


@dataclass(frozen=True)
class Profile:
    """Sizes and overrides of one mode (GPU or the CPU dry run)."""

    common: list[str]  # every run
    smoke: Callable[[str], list[str]]  # per-experiment overrides of the smoke step
    mlm: tuple[str, int, int, int, int]  # size, block, batch, timed steps, warm-up steps
    mlm_data: list[str]  # data overrides of the MLM throughput run
    cola: list[str]
    ddp: list[str]
    devices: int
    require_fused_sdpa: bool
    experiments: list[str] = field(default_factory=list)


def gpu_profile() -> Profile:
    common = ["trainer=gpu", "trainer.precision=bf16-mixed", "fast_dropout=false"]
    limits = ["trainer.max_steps=-1", "trainer.max_epochs=1", "trainer.limit_train_batches=10"]
    limits += ["trainer.val_check_interval=1.0", "trainer.check_val_every_n_epoch=1", "export=false"]

    def smoke(experiment: str) -> list[str]:
        evaluation = ["trainer.limit_val_batches=null", "trainer.limit_test_batches=null"]  # every window
        if not experiment.startswith("squad"):
            evaluation = ["trainer.limit_val_batches=5", "trainer.limit_test_batches=5"]
        return [*limits, *evaluation]

    devices = torch.cuda.device_count()
    ddp = ["trainer=ddp", "trainer.accelerator=gpu", f"trainer.devices={devices}", "trainer.max_steps=20"]
    return Profile(
        common=common,
        smoke=smoke,
        mlm=("bert_base", 128, 64, 20, 5),
        mlm_data=[],  # the default run's corpus (tiny Shakespeare, packaged)
        cola=["trainer.max_epochs=1", "export=false", "test=false"],
        ddp=[*ddp, "trainer.precision=bf16-mixed", "fast_dropout=false", "test=false", "export=false"],
        devices=devices,
        require_fused_sdpa=True,
    )


def dry_profile() -> Profile:
    # The test suite's fixture data and per-experiment smoke overrides: one list for the tests and this check.
    from tests.conftest import FIXTURE_DATA, SMALL_SPLITS
    from tests.integration.test_train_smoke import SMOKE_OVERRIDES

    small = [*SMALL_SPLITS, "data.max_length=32"]
    common = [f"paths.data_dir={FIXTURE_DATA}", "trainer.precision=bf16-mixed", "fast_dropout=false"]
    ddp = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "debug=smoke", *small, "test=false"]
    return Profile(
        common=common,
        smoke=lambda experiment: ["debug=smoke", *SMOKE_OVERRIDES.get(experiment, small)],
        mlm=("tiny", 32, 4, 3, 1),
        mlm_data=SMALL_SPLITS,
        cola=["debug=smoke"],
        ddp=[*ddp, "trainer.precision=32-true"],
        devices=2,
        require_fused_sdpa=False,
    )


class BackendProbe(L.Callback):
    """Writes the process group's backend and world size (rank 0) to ``path``: read by the ddp step."""

    def __init__(self, path: str) -> None:
        self.path = path

    def on_fit_start(self, trainer, pl_module) -> None:
        if trainer.is_global_zero:
            backend = torch.distributed.get_backend() if torch.distributed.is_initialized() else "none"
            Path(self.path).write_text(json.dumps({"backend": backend, "world_size": trainer.world_size}))


def smoke_step(experiment: str, profile: Profile) -> str:
    from benchmarks.common import compose_run
    from bertlab.errors import DataError
    from bertlab.train import train

    cfg = compose_run([f"experiment={experiment}", *profile.common, *profile.smoke(experiment), "logger=csv"])
    try:
        metric = train(cfg)
    except DataError as err:
        return f"skipped: {str(err).splitlines()[0][:120]}"
    if metric is None or metric != metric:
        raise AssertionError(f"monitored metric is {metric}")
    return f"{cfg.objective.monitor}={metric:.4g}"


def mlm_step(profile: Profile) -> str:
    from transformers import BertConfig

    from benchmarks.flops import matmul_peak, mlm_flops_per_token
    from benchmarks.mlm_vs_hf import run_bertlab, run_hf

    size, block, batch, steps, warmup = profile.mlm
    device = "cuda" if profile.require_fused_sdpa else "cpu"
    peak = matmul_peak(torch.bfloat16, device=device)
    rates, flops = {}, 0.0
    for name, runner in (("bertlab", run_bertlab), ("hf", run_hf)):
        result = runner(size, "bf16-mixed", block, batch, steps, warmup, [*profile.common, *profile.mlm_data])
        rates[name] = result["steps"] * block * batch / result["seconds"]
        flops = mlm_flops_per_token(BertConfig(**result["config"]), block)
        torch.cuda.empty_cache() if torch.cuda.is_available() else None
    return (
        f"{size} block {block} batch {batch}: bertlab {rates['bertlab']:,.0f} tok/s "
        f"(MFU {rates['bertlab'] * flops / peak:.1%}), HF Trainer {rates['hf']:,.0f} tok/s "
        f"(MFU {rates['hf'] * flops / peak:.1%}), ×{rates['bertlab'] / rates['hf']:.2f}; "
        f"bf16 peak {peak / 1e12:.1f} TFLOP/s"
    )


def sdpa_step(profile: Profile) -> str:
    from benchmarks.mlm_vs_hf import _compose
    from bertlab.train import build

    size, block, batch, _, _ = profile.mlm
    _, module = build(_compose(size, "bf16-mixed", block, batch, 1, profile.common))
    device = "cuda" if profile.require_fused_sdpa else "cpu"
    encoder = module.encoder.to(device).train()
    ids = torch.randint(1000, 2000, (batch, block), device=device)
    mask = torch.ones_like(ids)
    with torch.profiler.profile() as prof:
        with torch.autocast(device, dtype=torch.bfloat16):
            loss = encoder(input_ids=ids, attention_mask=mask).last_hidden_state.float().sum()
        loss.backward()
    kernels = sorted({e.name for e in prof.events() if e.name.startswith("aten::_scaled_dot_product")})
    if profile.require_fused_sdpa and not any(k for k in kernels if any(f in k for f in SDPA_FUSED)):
        raise AssertionError(f"no flash or memory-efficient SDPA kernel in a training step: {kernels}")
    if not kernels:
        raise AssertionError("scaled_dot_product_attention did not run in a training step")
    return ", ".join(kernels)


def cola_step(profile: Profile) -> str:
    from benchmarks.common import compose_run
    from bertlab.train import train

    cfg = compose_run(["experiment=cola", *profile.common, *profile.cola, "logger=none"])
    start = time.perf_counter()
    mcc = train(cfg)
    return f"epoch {time.perf_counter() - start:.1f} s (incl. validation), val/mcc={mcc:.3f}"


def ddp_step(profile: Profile) -> str:
    run_dir = Path(tempfile.mkdtemp(prefix="bertlab-gpu-check-ddp-"))
    probe = run_dir / "backend.json"
    command = [
        sys.executable,
        "-m",
        "bertlab.train",
        *profile.common,
        *profile.ddp,
        f"hydra.run.dir={run_dir}",
    ]
    command += [
        "+callbacks.backend._target_=benchmarks.gpu_check.BackendProbe",
        f"+callbacks.backend.path={probe}",
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"DDP run failed:\n{done.stderr[-2000:]}")
    seen = json.loads(probe.read_text())
    expected = "nccl" if profile.require_fused_sdpa else "gloo"
    if seen["backend"] != expected or seen["world_size"] != profile.devices:
        raise AssertionError(f"expected {expected} with {profile.devices} processes, got {seen}")
    return f"{seen['backend']}, {seen['world_size']} processes"


def run_steps(profile: Profile) -> list[dict]:
    steps: list[tuple[str, Callable[[], str]]] = [
        *((f"smoke/{e}", lambda e=e: smoke_step(e, profile)) for e in profile.experiments),
        ("mlm_throughput", lambda: mlm_step(profile)),
        ("sdpa_kernel", lambda: sdpa_step(profile)),
        ("cola_epoch", lambda: cola_step(profile)),
        ("ddp", lambda: ddp_step(profile)),
    ]
    rows = []
    for name, step in steps:
        start = time.perf_counter()
        try:
            detail, ok = step(), True
        except Exception as err:  # a failed step is a row of the table, not the end of the check
            detail, ok = f"{type(err).__name__}: {err}".splitlines()[0][:300], False
            traceback.print_exc()
        rows.append(
            {"step": name, "ok": ok, "seconds": round(time.perf_counter() - start, 1), "detail": detail}
        )
        print(f"[gpu_check] {name}: {'ok' if ok else 'FAILED'} {detail}", flush=True)
    return rows


def main() -> None:
    from benchmarks.common import machine_line
    from bertlab import atomic
    from bertlab.config import config_dir

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="the same steps on CPU, tiny sizes, fixture data"
    )
    parser.add_argument("--experiments", nargs="+", help="smoke-train only these (default: every experiment)")
    parser.add_argument("--out", default="gpu_check.json", help="where the JSON table is written")
    args = parser.parse_args()
    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --dry-run to check the script on CPU")
    profile = dry_profile() if args.dry_run else gpu_profile()
    every = sorted(p.stem for p in (Path(config_dir()) / "experiment").glob("*.yaml"))
    profile.experiments.extend(args.experiments or every)
    device = "CPU (dry run)" if args.dry_run else torch.cuda.get_device_name(0)
    print(f"machine: {machine_line()}; device: {device}")
    rows = run_steps(profile)
    print(f"\n{'step':<34}{'ok':<8}{'s':>8}  detail")
    for row in rows:
        print(f"{row['step']:<34}{'ok' if row['ok'] else 'FAILED':<8}{row['seconds']:>8.1f}  {row['detail']}")
    atomic.write_json(
        args.out, {"machine": machine_line(), "device": device, "dry_run": args.dry_run, "steps": rows}
    )
    print(f"\nwritten: {Path(args.out).resolve()}")
    if not all(row["ok"] for row in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
