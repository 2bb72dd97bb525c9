"""MLM training throughput of bertlab in fp32 and bf16 autocast, side by side, repeated; medians printed.

    python benchmarks/mlm_throughput.py                       # bert_mini, block 128, batch 32, t8
    python benchmarks/mlm_throughput.py --model bert_small --repeats 5 --steps 40

Needs the Shakespeare data (BERTLAB_DATA_DIR). tokens/s counts every position of every block (packed, no
padding) per optimizer step; the first ``--warmup`` steps are not timed.
"""

from __future__ import annotations

import argparse
import logging
import os

from hydra.utils import instantiate

from benchmarks.common import StepTimer, compose_run, median, print_machine
from bertlab.runtime import configure_allocator
from bertlab.train import build


def measure(model: str, precision: str, block: int, batch: int, steps: int, warmup: int) -> float:
    cfg = compose_run(
        [
            f"model={model}",
            f"data.max_length={block}",
            f"data.batch_size={batch}",
            f"trainer.precision={precision}",
            f"trainer.max_steps={steps + warmup}",
            "trainer.val_check_interval=100000",
            "trainer.enable_progress_bar=false",
            "logger=none",
            "callbacks=none",
            "test=false",
        ]
    )
    configure_allocator(cfg.cpu_allocator)  # as bertlab-train does
    datamodule, module = build(cfg)
    timer = StepTimer(warmup)
    trainer = instantiate(
        cfg.trainer, callbacks=[timer], logger=False, enable_checkpointing=False, enable_model_summary=False
    )
    trainer.fit(module, datamodule=datamodule)
    return timer.timed_steps * block * batch / timer.elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="bert_mini")
    parser.add_argument("--block", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precisions", nargs="+", default=["32-true", "bf16-mixed"])
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("lightning").setLevel(logging.WARNING)
    print_machine()
    results: dict[str, list[float]] = {p: [] for p in args.precisions}
    for _ in range(args.repeats):  # interleaved, so machine noise hits both settings alike
        for precision in args.precisions:
            results[precision].append(
                measure(args.model, precision, args.block, args.batch, args.steps, args.warmup)
            )
    base = median(results[args.precisions[0]])
    print(
        f"\nMLM training, {args.model}, block {args.block}, batch {args.batch}, "
        f"{args.steps} timed steps × {args.repeats} repeats"
    )
    print(f"{'precision':<12} {'tokens/s (median)':>18} {'min':>9} {'max':>9} {'ratio':>7}")
    for precision, values in results.items():
        print(
            f"{precision:<12} {median(values):>18,.0f} {min(values):>9,.0f} {max(values):>9,.0f} "
            f"{median(values) / base:>7.2f}"
        )


if __name__ == "__main__":
    main()
