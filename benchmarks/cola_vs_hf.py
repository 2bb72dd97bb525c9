"""CoLA fine-tuning: bertlab (``experiment=cola``) vs the Hugging Face Trainer with ``run_glue`` defaults.

    python -m benchmarks.cola_vs_hf                   # 3 epochs each (run_glue's default), one run per side
    python -m benchmarks.cola_vs_hf --epochs 4 --repeats 3

Both start from the same MiniLM-L6 weights (``minilm_l6``), train on ``in_domain_train.tsv`` for the same
number of epochs (HF in fp32, its default; bertlab at ``trainer.precision=auto``) and are scored on ``in_domain_dev.tsv`` with torchmetrics' MCC after the last epoch.

Baseline: ``run_glue.py``'s defaults — ``max_seq_length`` 128 with padding to max length, batch size 8,
learning rate 5e-5, linear decay, no warmup, ``AutoModelForSequenceClassification``, ``Trainer``.
bertlab: ``experiment=cola`` as shipped (length-bucketed batches of 32 padded per batch, its own learning rate
and warmup), with only ``trainer.max_epochs`` set. Epoch time = training wall time / epochs (evaluation
excluded on both sides). Each run is its own process; sides interleave per repeat; medians. Needs
BERTLAB_DATA_DIR.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time


def _cola(split: str):
    from benchmarks.common import compose_run
    from bertlab.train import build

    datamodule, _ = build(compose_run(["experiment=cola", "logger=none", "callbacks=none"]))
    return datamodule.examples[split]


def _mcc(predictions, labels) -> float:
    import torch
    from torchmetrics.functional.classification import binary_matthews_corrcoef

    return float(binary_matthews_corrcoef(torch.as_tensor(predictions), torch.as_tensor(labels)))


def run_hf(epochs: int, seed: int) -> dict:
    import tempfile

    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    from bertlab import hub

    source = hub.resolve("minilm_l6")
    tokenizer = AutoTokenizer.from_pretrained(source)

    def encode(examples):  # bertlab's LabeledTexts of CoLA: one sentence per example, int64 labels
        encoded = tokenizer(
            [texts[0] for texts in examples.texts], padding="max_length", max_length=128, truncation=True
        )
        return [
            {**{k: torch.tensor(v[i]) for k, v in encoded.items()}, "labels": int(examples.labels[i])}
            for i in range(len(examples.texts))
        ]

    train, dev = encode(_cola("train")), encode(_cola("val"))
    model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=2)
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(),
        num_train_epochs=epochs,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=8,
        learning_rate=5e-5,
        seed=seed,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        eval_strategy="no",
        logging_steps=1000,
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=train)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    output = trainer.predict(dev)
    mcc = _mcc(np.argmax(output.predictions, -1), output.label_ids)
    return {"epoch_seconds": seconds / epochs, "mcc": mcc}


def run_bertlab(epochs: int, seed: int) -> dict:
    import lightning as L
    from hydra.utils import instantiate

    from benchmarks.common import compose_run
    from bertlab.mixed_precision import precision_arguments
    from bertlab.precision import run_precision
    from bertlab.runtime import configure_allocator
    from bertlab.train import build

    class EpochTimer(L.Callback):
        """Training time per epoch: the epoch's wall time minus its validation (which runs inside it)."""

        seconds, start, paused = 0.0, None, 0.0

        def on_train_epoch_start(self, trainer, pl_module) -> None:
            self.start = time.perf_counter()

        def on_validation_start(self, trainer, pl_module) -> None:
            self.paused_at = time.perf_counter()

        def on_validation_end(self, trainer, pl_module) -> None:
            if self.start is not None:  # not the sanity check before the first epoch
                self.start += time.perf_counter() - self.paused_at

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            self.seconds += time.perf_counter() - self.start

    cfg = compose_run(
        [
            "experiment=cola",
            f"trainer.max_epochs={epochs}",
            f"seed={seed}",
            "logger=none",
            "callbacks=none",
            "trainer.enable_progress_bar=false",
            "export=false",
        ]
    )
    L.seed_everything(seed, workers=True)
    configure_allocator(cfg.cpu_allocator)  # as bertlab-train does
    datamodule, module = build(cfg)
    timer = EpochTimer()
    trainer = instantiate(
        cfg.trainer,
        **precision_arguments(
            run_precision(cfg.trainer, module.encoder.config, cfg.paths.cache_dir).precision,
            cfg.trainer.accelerator,
        ),  # as bertlab-train does
        callbacks=[timer],
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    trainer.fit(module, datamodule=datamodule)
    return {"epoch_seconds": timer.seconds / epochs, "mcc": float(trainer.callback_metrics["val/mcc"])}


def _measure(side: str, epochs: int, seed: int) -> dict:
    from benchmarks.common import run_for_result

    command = [
        sys.executable,
        "-m",
        "benchmarks.cola_vs_hf",
        "--one",
        side,
        "--epochs",
        str(epochs),
        "--seed",
        str(seed),
    ]
    return run_for_result(command, side)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1, help="seeds 1..N")
    parser.add_argument("--one", choices=["hf", "bertlab"], help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        result = (run_hf if args.one == "hf" else run_bertlab)(args.epochs, args.seed)
        print("RESULT " + json.dumps(result))
        return
    from benchmarks.common import print_machine

    print_machine()
    runs: dict[str, list[dict]] = {"hf run_glue": [], "bertlab": []}
    for seed in range(1, args.repeats + 1):
        runs["hf run_glue"].append(_measure("hf", args.epochs, seed))
        runs["bertlab"].append(_measure("bertlab", args.epochs, seed))
    epoch = {side: statistics.median(r["epoch_seconds"] for r in rs) for side, rs in runs.items()}
    print(f"CoLA, MiniLM-L6, {args.epochs} epochs, median of {args.repeats} (seeds 1..{args.repeats})")
    print(f"{'run':<14}{'epoch s':>9}{'speed-up':>10}{'dev MCC':>9}   MCC per seed")
    for side, rs in runs.items():
        mccs = [r["mcc"] for r in rs]
        print(
            f"{side:<14}{epoch[side]:>9.1f}{epoch['hf run_glue'] / epoch[side]:>10.2f}"
            f"{statistics.median(mccs):>9.3f}   {', '.join(f'{m:.3f}' for m in mccs)}"
        )


if __name__ == "__main__":
    main()
