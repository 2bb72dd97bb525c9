"""Where an MLM training step's time goes: the torch profiler's operator table for bertlab's run.

    python -m benchmarks.profile_step --size bert_mini --precision bf16-mixed
    python -m benchmarks.profile_step --size minilm --precision 32-true --steps 5 --rows 20

Profiles ``--steps`` training steps (after ``--warmup``) of the same run ``benchmarks/mlm_vs_hf.py`` times
(Lightning loop, collator, optimizer included) and prints the operators by self CPU time, with the share of
the profiled wall time that matmuls (``aten::mm``/``addmm``/``bmm``/``linear`` and oneDNN kernels) take, and
the page faults and kernel CPU time per step (memory touched for the first time; ``cpu_allocator``).
"""

from __future__ import annotations

import argparse
import resource
import time

import lightning as L
import torch

MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "aten::linear", "mkldnn", "onednn")


class ProfileSteps(L.Callback):
    """Profiles the training steps in ``[warmup, warmup + steps)``."""

    def __init__(self, warmup: int, steps: int) -> None:
        self.warmup, self.steps = warmup, steps
        self.profiler: torch.profiler.profile | None = None
        self.wall = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.warmup:
            self.profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
            self.profiler.__enter__()
            self.start = time.perf_counter()
            self.usage = resource.getrusage(resource.RUSAGE_SELF)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.profiler is not None and trainer.global_step == self.warmup + self.steps:
            self.wall = time.perf_counter() - self.start
            usage = resource.getrusage(resource.RUSAGE_SELF)
            self.faults = (usage.ru_minflt - self.usage.ru_minflt) / self.steps
            self.system = (usage.ru_stime - self.usage.ru_stime) / self.steps
            self.profiler.__exit__(None, None, None)
            trainer.should_stop = True


def main() -> None:
    from hydra.utils import instantiate

    from benchmarks.common import print_machine
    from benchmarks.mlm_vs_hf import SIZES, _compose
    from bertlab.mixed_precision import precision_arguments
    from bertlab.runtime import configure_allocator
    from bertlab.train import build

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="bert_mini", choices=list(SIZES))
    parser.add_argument("--precision", default="32-true")
    parser.add_argument("--block", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rows", type=int, default=15)
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides (e.g. optimizer.fused=false)")
    args = parser.parse_args()
    print_machine()
    cfg = _compose(
        args.size, args.precision, args.block, args.batch, args.warmup + args.steps + 1, args.overrides
    )
    configure_allocator(cfg.cpu_allocator)
    datamodule, module = build(cfg)
    callback = ProfileSteps(args.warmup, args.steps)
    trainer = instantiate(
        cfg.trainer,
        **precision_arguments(args.precision, cfg.trainer.accelerator),  # as bertlab-train does
        callbacks=[callback],
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    trainer.fit(module, datamodule=datamodule)
    events = callback.profiler.key_averages()
    total = callback.wall * 1e6  # µs
    matmul = sum(e.self_cpu_time_total for e in events if any(m in e.key for m in MATMUL_OPS))
    tokens = args.steps * args.block * args.batch
    print(
        f"\n{args.size} {args.precision} {' '.join(args.overrides)}: {args.steps} steps in {callback.wall:.2f} s "
        f"({tokens / callback.wall:,.0f} tokens/s); matmul self time {matmul / total:.0%} of wall; per step "
        f"{callback.faults:,.0f} page faults, {callback.system * 1e3:,.0f} ms kernel time"
    )
    print(events.table(sort_by="self_cpu_time_total", row_limit=args.rows, max_name_column_width=40))


if __name__ == "__main__":
    main()
