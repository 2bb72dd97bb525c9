"""MLM pretraining: bertlab vs the Hugging Face Trainer baseline, same data, model, block, batch and steps.

    python -m benchmarks.mlm_vs_hf                      # bert_mini and MiniLM size (L6/H384), 3 repeats
    python -m benchmarks.mlm_vs_hf --sizes bert_mini --repeats 5 --steps 40

Baseline: ``Trainer`` + ``DataCollatorForLanguageModeling`` + ``BertForMaskedLM`` (the source chapter's
``run_language_modeling.py`` path) on the same packed t8 blocks, in fp32 and bf16; its best setting is the
reference. MFU = useful FLOP/s (``benchmarks/flops.py``) over a matmul peak measured at start-up: "own" the
peak of the run's precision, "best" the faster of the two (the machine's limit), each the best of the
measurements at start-up and after every repeat (other load only lowers a peak). ``--variant`` adds bertlab
rows with extra overrides (one lever each, measured in the same interleaving). Each measurement runs in its own process (clean peak memory); settings are interleaved per repeat so
machine noise hits all alike; medians are printed. Needs BERTLAB_DATA_DIR.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Sequence

SIZES = {
    "bert_mini": ["model=bert_mini"],
    "minilm": [
        "model=bert_mini",
        "model.hidden_size=384",
        "model.num_hidden_layers=6",
        "model.num_attention_heads=12",
        "model.intermediate_size=1536",
    ],
    "bert_base": ["model=bert_base"],  # benchmarks/gpu_check.py
    "tiny": ["model=bert_tiny"],  # benchmarks/gpu_check.py --dry-run
}
# --variant item: torch.backends.mkldnn.matmul.fp32_precision="bf16", which lets oneDNN run fp32 matmuls (in
# bf16 where its kernels would gain; python -m benchmarks.flops shows the rates and errors)
ONEDNN_FP32 = "onednn_fp32"
SETTINGS = [("hf", "32-true"), ("hf", "bf16-mixed"), ("bertlab", "32-true"), ("bertlab", "bf16-mixed")]


def _compose(size: str, precision: str, block: int, batch: int, steps: int, extra: Sequence[str] = ()):
    from benchmarks.common import compose_run

    return compose_run(
        [
            *SIZES[size],
            *extra,
            f"data.max_length={block}",
            f"data.batch_size={batch}",
            f"trainer.precision={precision}",
            f"trainer.max_steps={steps}",
            "trainer.val_check_interval=100000",
            "trainer.enable_progress_bar=false",
            "logger=none",
            "callbacks=none",
            "test=false",
            "export=false",
        ]
    )


def run_bertlab(
    size: str, precision: str, block: int, batch: int, steps: int, warmup: int, extra: Sequence[str] = ()
) -> dict:
    import torch
    from hydra.utils import instantiate

    from benchmarks.common import StepTimer
    from bertlab.mixed_precision import precision_arguments
    from bertlab.runtime import configure_allocator
    from bertlab.train import build

    if ONEDNN_FP32 in extra:  # a lever under test, not a bertlab setting: fp32 matmuls through oneDNN
        torch.backends.mkldnn.matmul.fp32_precision = "bf16"
        extra = [e for e in extra if e != ONEDNN_FP32]
    cfg = _compose(size, precision, block, batch, steps + warmup, extra)
    configure_allocator(cfg.cpu_allocator)  # as bertlab-train does
    datamodule, module = build(cfg)
    timer = StepTimer(warmup)
    trainer = instantiate(
        cfg.trainer,
        **precision_arguments(precision, cfg.trainer.accelerator),  # as bertlab-train does
        callbacks=[timer],
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    trainer.fit(module, datamodule=datamodule)
    return {"seconds": timer.elapsed, "steps": timer.timed_steps, "config": module.encoder.config.to_dict()}


def run_hf(
    size: str, precision: str, block: int, batch: int, steps: int, warmup: int, extra: Sequence[str] = ()
) -> dict:
    """``extra`` overrides select data and model for both sides; the HF side runs on CUDA when it is there."""
    import tempfile

    import torch
    from transformers import (
        BertForMaskedLM,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from bertlab.train import build

    cfg = _compose(size, "32-true", block, batch, steps + warmup, extra)
    cfg.fast_dropout = False  # plain transformers: torch's dropout, transformers' SDPA attention
    datamodule, module = build(cfg)  # the same tokenizer, blocks and encoder configuration
    datamodule.prepare_data()
    datamodule.setup("fit")
    blocks = datamodule.datasets["train"].blocks
    dataset = [{"input_ids": torch.as_tensor(blocks[i], dtype=torch.long)} for i in range(len(blocks))]
    model = BertForMaskedLM._from_config(module.encoder.config, attn_implementation="sdpa")
    assert not any("bertlab" in type(m).__module__ for m in model.modules())

    class Timer(TrainerCallback):
        start, timed = None, 0

        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == warmup:
                Timer.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            if Timer.start is not None:
                Timer.timed += 1
                Timer.elapsed = time.perf_counter() - Timer.start

    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(),
        max_steps=steps + warmup,
        per_device_train_batch_size=batch,
        learning_rate=5e-4,
        use_cpu=not torch.cuda.is_available(),
        bf16=precision == "bf16-mixed",
        report_to=[],
        save_strategy="no",
        logging_steps=1000,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    collator = DataCollatorForLanguageModeling(datamodule.tokenizer, mlm_probability=0.15)
    Trainer(
        model=model, args=args, train_dataset=dataset, data_collator=collator, callbacks=[Timer()]
    ).train()
    return {"seconds": Timer.elapsed, "steps": Timer.timed, "config": model.config.to_dict()}


def one(args) -> None:
    runner = run_bertlab if args.one == "bertlab" else run_hf
    extra = args.override or []
    result = runner(args.size, args.precision, args.block, args.batch, args.steps, args.warmup, extra)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def settings(variants: Sequence[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """The four base settings, then one ``bertlab bf16-mixed`` row per ``--variant`` (comma-separated
    overrides; a ``precision=`` item sets the row's precision instead)."""
    rows = [(framework, precision, ()) for framework, precision in SETTINGS]
    for variant in variants:
        items = tuple(v for v in variant.split(",") if v)
        precision = next((v.split("=", 1)[1] for v in items if v.startswith("precision=")), "bf16-mixed")
        rows.append(("bertlab", precision, tuple(v for v in items if not v.startswith("precision="))))
    return rows


def _measure(framework: str, precision: str, size: str, extra: Sequence[str], args) -> dict:
    from benchmarks.common import run_for_result

    command = [sys.executable, "-m", "benchmarks.mlm_vs_hf", "--one", framework, "--precision", precision]
    command += ["--size", size, "--block", str(args.block), "--batch", str(args.batch)]
    command += ["--steps", str(args.steps), "--warmup", str(args.warmup)]
    command += [f"--override={o}" for o in extra]
    return run_for_result(command, f"{framework} {precision} {size} {' '.join(extra)}")


def report(args) -> None:
    from transformers import BertConfig

    from benchmarks.common import load_average, measured_peaks, print_machine
    from benchmarks.flops import mlm_flops_per_token

    peaks = print_machine()
    rows = settings(args.variant or [])
    for size in args.sizes:
        runs: dict[tuple, list[dict]] = {row: [] for row in rows}
        for _ in range(args.repeats):
            for row in rows:
                runs[row].append(_measure(row[0], row[1], size, row[2], args))
            peaks = measured_peaks(peaks)  # between repeats: the best peak of the session
        tokens = args.steps * args.block * args.batch
        rate = {row: statistics.median(tokens / r["seconds"] for r in rs) for row, rs in runs.items()}
        baseline = max(rate[row] for row in rows if row[0] == "hf")
        flops = mlm_flops_per_token(BertConfig(**runs[rows[0]][0]["config"]), args.block)
        print(
            f"\n{size}: block {args.block}, batch {args.batch}, {args.steps} timed steps, median of "
            f"{args.repeats} interleaved repeats; useful FLOPs/token {flops / 1e6:.1f} M; best matmul peak "
            f"fp32 {peaks['32-true'] / 1e9:,.0f}, bf16 {peaks['bf16-mixed'] / 1e9:,.0f} GFLOP/s"
        )
        print(
            f"{'run':<44}{'tokens/s':>10}{'× HF best':>11}{'peak RSS MB':>13}{'GFLOP/s':>9}{'MFU own':>9}"
            f"{'MFU best':>9}"
        )
        for row in rows:
            framework, precision, extra = row
            value = rate[row]
            rss = statistics.median(r["peak_rss_mb"] for r in runs[row])
            useful = value * flops  # FLOP/s
            name = f"{framework} {precision} {' '.join(extra)}"
            print(
                f"{name:<44}{value:>10,.0f}{value / baseline:>11.2f}{rss:>13,.0f}{useful / 1e9:>9.0f}"
                f"{useful / peaks[precision]:>9.1%}{useful / max(peaks.values()):>9.1%}"
            )
    print(f"at the end: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", default=["bert_mini", "minilm"], choices=list(SIZES))
    parser.add_argument("--block", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", choices=["hf", "bertlab"], help=argparse.SUPPRESS)
    parser.add_argument("--precision", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--override", action="append", help=argparse.SUPPRESS)
    parser.add_argument(
        "--variant",
        action="append",
        help="an extra bertlab row: comma-separated Hydra overrides, e.g. optimizer.fused=false or compile=true"
        " (bf16-mixed unless one item is precision=...)",
    )
    args = parser.parse_args()
    one(args) if args.one else report(args)


if __name__ == "__main__":
    main()
