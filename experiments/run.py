"""Re-run lab-notebook entries: every bertlab-train command of an entry, then its tables and figures.

    python experiments/run.py --list
    python experiments/run.py masking_static_vs_dynamic                 # full size (wall times in each README)
    python experiments/run.py all --size smoke --out /tmp/exp           # every entry, a few steps each (CI)
    python experiments/run.py objectives_at_equal_compute --report      # tables and figures of runs already done

Each step runs ``bertlab-train`` (or another bertlab command) with its outputs under
``<out>/<entry>/<step>`` (default ``outputs/experiments``). When an entry's steps are done, ``results.md``
holds a table per step (``bertlab-plot --table``: last and best value of the entry's metrics per job) and
``plots/<step>/`` its curves. ``--size smoke`` runs the same commands and models for a few batches each
(validation included), for CI. The README of each entry quotes the numbers of a
full-size run; this script is how they were produced.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ["mlm_shakespeare", "mlm_nsp_shakespeare", "albert_sop_shakespeare", "electra_shakespeare"]
# Smoke size: the same commands and models, a few batches each (validation included, so tables fill).
_SMOKE = ["trainer.limit_val_batches=2", "trainer.limit_test_batches=2", "trainer.log_every_n_steps=1"]
SMOKE_STEPS = ["trainer.max_steps=4", "trainer.val_check_interval=2", "data.batch_size=8", *_SMOKE]
SMOKE_EPOCHS = ["trainer.max_epochs=1", "trainer.limit_train_batches=3", *_SMOKE]


@dataclass(frozen=True)
class Step:
    """One command. ``args`` may name ``{out}`` (the entry's output directory); ``multirun`` adds ``-m``."""

    name: str
    args: list[str]
    multirun: bool = False
    command: str = "bertlab-train"
    trains: bool = True  # a training command (gets debug=smoke and a hydra output directory)
    full: list[str] = field(default_factory=list)  # arguments of the full size only (budgets)
    smoke: list[str] = field(default_factory=list)  # arguments of the smoke size only
    metrics: list[str] | None = None  # this step's table and figures (default: the entry's)


@dataclass(frozen=True)
class Entry:
    question: str
    steps: list[Step]
    metrics: list[str] = field(default_factory=list)
    together: bool = False  # one table and one set of figures over all steps' runs (else one per step)


ENTRIES: dict[str, Entry] = {
    "cola_pretrained_vs_scratch": Entry(
        "Does pretraining beat the same architecture from scratch on CoLA?",
        [
            Step("pretrained", ["experiment=cola", "seed=1,2,3", "export=false"], True, smoke=SMOKE_EPOCHS),
            Step(
                "scratch", ["experiment=cola_scratch", "seed=1,2,3", "export=false"], True, smoke=SMOKE_EPOCHS
            ),
        ],
        ["val/mcc", "test/mcc"],
    ),
    "albert_parameters": Entry(
        "How many parameters do ALBERT's factorisation and sharing save; do shared layers reach an equilibrium?",
        [
            Step("bert_base", ["model=bert_base"], command="bertlab-params", trains=False),
            Step("albert_base", ["model=albert_base"], command="bertlab-params", trains=False),
            Step(
                "equilibrium", ["output_dir={out}/equilibrium"], command="bertlab-equilibrium", trains=False
            ),
        ],
    ),
    "masking_static_vs_dynamic": Entry(
        "RoBERTa §4.1: does dynamic masking match or beat static masking (one mask, or ten) at equal steps?",
        [
            Step(
                "static",
                ["experiment=roberta_static_masking", "data.dupe_factor=1,10", "export=false"],
                multirun=True,
                smoke=SMOKE_STEPS,
            ),
            Step("dynamic", ["experiment=roberta_dynamic_masking", "export=false"], smoke=SMOKE_STEPS),
        ],
        ["val/loss", "val/mlm_accuracy", "train/loss"],
        together=True,
    ),
    "roberta_input_formats": Entry(
        "RoBERTa §4.2: SEGMENT-PAIR+NSP, SENTENCE-PAIR+NSP, FULL-SENTENCES, DOC-SENTENCES at equal tokens",
        [
            Step(
                "formats",
                [
                    "experiment=roberta_segment_pair,roberta_sentence_pair,roberta_full_sentences,"
                    "roberta_doc_sentences",
                    "export=false",
                ],
                multirun=True,
                smoke=SMOKE_STEPS,
            )
        ],
        ["val/perplexity", "val/mlm_accuracy"],  # MLM only: the NSP formats' val/loss adds the pair loss
    ),
    "objectives_at_equal_compute": Entry(
        "MLM, MLM+NSP, ALBERT MLM+SOP, ELECTRA RTD and GPT at the same wall-clock budget, then CoLA",
        [
            Step(
                "pretrain",
                [f"experiment={','.join([*PRETRAINED, 'gpt_shakespeare'])}", "export=true"],
                multirun=True,
                full=[
                    "+trainer.max_time=00:00:06:00",
                    "trainer.max_steps=-1",
                    "trainer.val_check_interval=100",
                ],
                smoke=SMOKE_STEPS,
                metrics=[
                    "val/loss",
                    "val/mlm_accuracy",
                    "val/pair_accuracy",
                    "val/rtd_accuracy",
                    "val/rtd_recall",
                    "val/perplexity",
                ],
            ),
            *[
                Step(
                    f"cola_{name}",
                    ["experiment=cola", f"model.path={{out}}/pretrain/{i}/hf", "seed=1,2,3", "export=false"],
                    multirun=True,
                    smoke=SMOKE_EPOCHS,
                )
                for i, name in enumerate(PRETRAINED)
            ],
            Step(
                "cola_scratch",
                ["experiment=cola_scratch", "model.path={out}/pretrain/0/hf", "seed=1,2,3", "export=false"],
                multirun=True,
                smoke=SMOKE_EPOCHS,
            ),
        ],
        ["val/loss", "val/mcc", "test/mcc"],
    ),
    "squad_v2_local": Entry(
        "SQuAD v2 on the local split: EM/F1/HasAns/NoAns against the all-no-answer baseline",
        [Step("squad", ["experiment=squad_v2_local", "seed=1"], smoke=SMOKE_EPOCHS)],
        ["val/f1", "val/exact", "val/best_f1", "val/HasAns_f1", "val/NoAns_f1"],
    ),
}


def executable(command: str) -> str:
    """``command`` from this Python's environment (its scripts directory), else from ``PATH``."""
    beside = Path(sys.executable).parent / command
    return str(beside) if beside.exists() else command


def command_line(step: Step, out: Path, size: str) -> list[str]:
    args = [a.format(out=out) for a in step.args]
    if not step.trains:
        return [executable(step.command), *args]
    where = f"hydra.sweep.dir={out / step.name}" if step.multirun else f"hydra.run.dir={out / step.name}"
    sized = step.smoke if size == "smoke" else step.full
    return [executable(step.command), *(["-m"] if step.multirun else []), *args, *sized, where]


def run_entry(name: str, out_root: Path, size: str, report_only: bool = False) -> float:
    """Run an entry's steps (unless ``report_only``), then write ``results.md`` and the figures."""
    from bertlab.plot import plot, summary_table

    entry, out = ENTRIES[name], out_root / name
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    report = [f"# {name} ({size} size)\n", f"{entry.question}\n"]
    for step in entry.steps:
        line = command_line(step, out, size)
        report.append(f"## {step.name}\n\n`{shlex.join(line)}`\n")
        if not report_only or not step.trains:
            print("+", shlex.join(line), flush=True)
            done = subprocess.run(line, cwd=ROOT, capture_output=not step.trains, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{name}/{step.name} failed (exit {done.returncode}): {shlex.join(line)}")
            if not step.trains:
                report.append(f"```\n{done.stdout.strip()}\n```\n")
        metrics = step.metrics or entry.metrics
        if step.trains and metrics and not entry.together:
            seeds = any(a.startswith("seed=") and "," in a for a in step.args)
            report.append(summary_table(out / step.name, metrics, median=seeds))
            plot(out / step.name, metrics, out / "plots" / step.name)
    if entry.together:
        report.append(summary_table(out, entry.metrics))
        plot(out, entry.metrics, out / "plots")
    seconds = time.perf_counter() - start
    timing = "not measured (tables of earlier runs)" if report_only else f"{seconds / 60:.1f} min"
    report.append(f"Wall time: {timing}\n")
    (out / "results.md").write_text("\n".join(report))
    print(f"{name}: {out / 'results.md'} ({timing})")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("entries", nargs="*", help=f"entry names or 'all' ({', '.join(ENTRIES)})")
    parser.add_argument("--size", choices=["full", "smoke"], default="full")
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "experiments")
    parser.add_argument("--list", action="store_true")
    parser.add_argument(
        "--report",
        action="store_true",
        help="only rewrite results.md and the figures from the runs under --out",
    )
    args = parser.parse_args()
    if args.list or not args.entries:
        for name, entry in ENTRIES.items():
            print(f"{name:<30} {entry.question}")
        return
    names = list(ENTRIES) if args.entries == ["all"] else args.entries
    unknown = [n for n in names if n not in ENTRIES]
    if unknown:
        parser.error(f"unknown entries {unknown}; known: {', '.join(ENTRIES)}")
    for name in names:
        run_entry(name, args.out.resolve(), args.size, report_only=args.report)


if __name__ == "__main__":
    sys.exit(main())
