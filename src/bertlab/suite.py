"""The GLUE suite: fine-tune on tasks × seeds in one Hydra multirun, then one table as papers report it.

    bertlab-suite                                           # all nine tasks, seeds 1,2,3, experiment=glue
    bertlab-suite --tasks rte,mrpc,stsb --seeds 1,2 -- model.path=outputs/my_run/hf trainer.max_epochs=2
    bertlab-suite --report outputs/glue_suite/<date>        # the table again, from runs on disk

Per task the official metric(s) at the best checkpoint (``test/<metric>``: the GLUE presets test on the dev set;
MNLI matched is ``val/accuracy`` at its best, mismatched ``test/accuracy``), the median over seeds of each, the
task score (the mean of its metrics, as GLUE averages F1/accuracy and Pearson/Spearman) and the GLUE average:
the mean of the task scores of the tasks that ran. Written to ``<out>/glue_report.{md,json}``.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

from bertlab.atomic import write_json, write_text
from bertlab.errors import ConfigError, user_errors_exit

GLUE_TASKS = ("cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte", "wnli")


def columns(task: str, metrics: list[str]) -> list[tuple[str, str]]:
    """(column, logged key) of a task's official metrics; a ``val/`` key is read at its best value."""
    if task == "mnli":
        return [("m", "val/accuracy"), ("mm", "test/accuracy")]
    return [(metric, f"test/{metric}") for metric in metrics]


def read_metrics(path: Path) -> dict[str, list[float]]:
    """Every value logged under each key of a Lightning ``metrics.csv``, in order."""
    values: dict[str, list[float]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            for key, value in row.items():
                if value not in ("", None):
                    values.setdefault(key, []).append(float(value))
    return values


def job_result(job: Path) -> tuple[str, int, dict[str, float]] | None:
    """(task, seed, {column: value}) of one finished job directory; None if it logged no test metrics."""
    choices = OmegaConf.load(job / ".hydra" / "hydra.yaml").hydra.runtime.choices
    config = OmegaConf.load(job / ".hydra" / "config.yaml")
    task = str(choices.data).removeprefix("glue_")
    logged = job / "csv" / "metrics.csv"
    if not logged.is_file():
        return None
    values = read_metrics(logged)
    result = {}
    for column, key in columns(task, list(config.data.metrics)):
        if key not in values:
            return None
        result[column] = max(values[key]) if key.startswith("val/") else values[key][-1]
    return task, int(config.seed), result


def summarize(results: list[tuple[str, int, dict[str, float]]]) -> dict:
    """Median over seeds per task and column, the task score and the GLUE average (all ×100)."""
    tasks: dict[str, dict] = {}
    for task in sorted({t for t, _, _ in results}, key=lambda t: (GLUE_TASKS + (t,)).index(t)):
        runs = [r for t, _, r in results if t == task]
        medians = {c: 100 * statistics.median(r[c] for r in runs) for c in runs[0]}
        seeds = sorted(s for t, s, _ in results if t == task)
        tasks[task] = {"seeds": seeds, "metrics": medians, "score": statistics.fmean(medians.values())}
    average = statistics.fmean(t["score"] for t in tasks.values()) if tasks else float("nan")
    return {"tasks": tasks, "average": average}


def format_table(summary: dict) -> str:
    lines = ["| task | seeds | official metric (median over seeds) | score |", "|---|---|---|---|"]
    for task, row in summary["tasks"].items():
        metrics = ", ".join(f"{name} {value:.1f}" for name, value in row["metrics"].items())
        lines.append(f"| {task} | {len(row['seeds'])} | {metrics} | {row['score']:.1f} |")
    lines.append(f"| **average** ({len(summary['tasks'])} tasks) | | | **{summary['average']:.1f}** |")
    return "\n".join(lines) + "\n"


def report(sweep_dir: Path) -> dict:
    """Read every job of a sweep, print the table and write ``glue_report.{md,json}`` beside the jobs."""
    jobs = sorted(p.parent.parent for p in sweep_dir.glob("*/.hydra/hydra.yaml"))
    results = [r for r in map(job_result, jobs) if r is not None]
    if not results:
        raise ConfigError(f"--report {sweep_dir}: no finished job with test metrics under it")
    summary = summarize(results)
    table = format_table(summary)
    print(table, end="")
    write_text(sweep_dir / "glue_report.md", table)
    write_json(sweep_dir / "glue_report.json", summary)
    return summary


def parse_tasks(text: str) -> list[str]:
    tasks = [t.strip().lower().replace("-", "") for t in text.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in GLUE_TASKS]
    if unknown or not tasks:
        raise ConfigError(f"--tasks {text!r}: unknown {unknown}; choose from {', '.join(GLUE_TASKS)}")
    return tasks


def sweep_command(tasks: list[str], seeds: str, out: Path, overrides: list[str]) -> list[str]:
    """The Hydra multirun over tasks × seeds (the suite's one training command)."""
    data = ",".join(f"glue_{task}" for task in tasks)
    return [sys.executable, "-m", "bertlab.train", "-m", "experiment=glue", f"data={data}", f"seed={seeds}",
            f"hydra.sweep.dir={out}", *overrides]  # fmt: skip


@user_errors_exit("bertlab-suite")
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", default=",".join(GLUE_TASKS), help="comma-separated GLUE tasks")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--out", help="sweep directory (default outputs/glue_suite/<date>_<time>)")
    parser.add_argument("--report", metavar="SWEEP_DIR", help="only rebuild the table from a finished sweep")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every run (after --)")
    args = parser.parse_args(argv)
    if args.report:
        report(Path(args.report))
        return
    out = Path(args.out or f"outputs/glue_suite/{datetime.now():%Y-%m-%d_%H-%M-%S}")
    command = sweep_command(parse_tasks(args.tasks), args.seeds, out, args.overrides)
    print(" ".join(command), flush=True)
    finished = subprocess.run(command, check=False)
    report(out)
    if finished.returncode:
        raise SystemExit(finished.returncode)


if __name__ == "__main__":
    main()
