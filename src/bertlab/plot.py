"""``bertlab-plot``: PNG curves from the CSV logs of one run or a whole sweep, without W&B.

    bertlab-plot outputs/mlm_shakespeare/runs/<run>
    bertlab-plot outputs/train/multiruns/<sweep> --metrics val/loss train/loss --out figures/
    bertlab-plot outputs/train/multiruns/<sweep> --metrics val/loss --table     # also a Markdown table

One figure per metric; in a sweep, one line per job, labelled by the values that job overrode. ``--table``
prints, per job, the last logged value of each metric, its best (lowest for losses and perplexities,
highest otherwise) and the step it was reached at.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from bertlab import atomic  # noqa: E402


def find_runs(root: Path) -> list[Path]:
    """Run directories (holding ``csv/metrics.csv``) at or below ``root``, in a stable order."""
    runs = sorted({p.parent.parent for p in root.rglob("csv/metrics.csv")})
    if not runs:
        raise FileNotFoundError(f"{root}: no csv/metrics.csv below it (was the run logged with logger=csv?)")
    return runs


def read_curves(metrics_csv: Path) -> dict[str, list[tuple[int, float]]]:
    """``{metric: [(step, value), ...]}`` from a Lightning CSV log; empty cells are skipped."""
    curves: dict[str, list[tuple[int, float]]] = {}
    with metrics_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            step = int(float(row.get("step") or 0))
            for key, value in row.items():
                if key not in ("step", "epoch") and value not in ("", None) and math.isfinite(float(value)):
                    curves.setdefault(key, []).append((step, float(value)))
    return curves


def _canonical(override: str) -> str:
    """``key=False`` (how a Hydra multirun records a swept-alongside boolean) reads as ``key=false``."""
    key, equals, value = override.partition("=")
    return f"{key}={value.lower()}" if equals and value in ("True", "False") else override


def run_overrides(run: Path) -> list[str]:
    """The command-line overrides of a run (``.hydra/overrides.yaml``), without ``hydra.*`` ones."""
    overrides = run / ".hydra" / "overrides.yaml"
    if not overrides.is_file():
        return []
    return [_canonical(o) for o in yaml.safe_load(overrides.read_text()) or [] if not o.startswith("hydra.")]


def run_label(run: Path, root: Path, common: frozenset[str] = frozenset()) -> str:
    """The run's overrides that are not in ``common`` (or its directory name)."""
    values = [o for o in run_overrides(run) if o not in common]
    if values:
        return " ".join(values)
    return str(run.relative_to(root)) if run != root else run.name


def run_labels(runs: list[Path], root: Path) -> dict[Path, str]:
    """Labels of sibling runs: the overrides that differ between them (all of them for a single run)."""
    sets = [frozenset(run_overrides(run)) for run in runs]
    common = frozenset.intersection(*sets) if len(sets) > 1 else frozenset()
    return {run: run_label(run, root, common) for run in runs}


def plot(root: str | Path, metrics: list[str] | None, out: str | Path | None) -> list[Path]:
    root = Path(root)
    out_dir = Path(out) if out else root / "plots"
    out_dir.mkdir(parents=True, exist_ok=True)
    curves = {run: read_curves(run / "csv" / "metrics.csv") for run in find_runs(root)}
    labels = run_labels(list(curves), root)
    names = metrics or sorted({k for c in curves.values() for k in c if not k.startswith("lr-")})
    written = []
    for name in names:
        figure, axes = plt.subplots(figsize=(7, 4.5))
        for run, series in curves.items():
            if name in series:
                steps, values = zip(*series[name], strict=True)
                axes.plot(steps, values, marker="o" if len(steps) < 30 else None, label=labels[run])
        axes.set(xlabel="step", ylabel=name, title=name)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
        path = out_dir / f"{name.replace('/', '_')}.png"
        figure.tight_layout()
        with atomic.atomic_file(path, "wb") as handle:
            figure.savefig(handle, format="png", dpi=120)
        plt.close(figure)
        written.append(path)
    return written


def lower_is_better(metric: str) -> bool:
    return any(word in metric for word in ("loss", "perplexity"))


def summary_table(root: str | Path, metrics: list[str], median: bool = False) -> str:
    """A Markdown table: one row per run (labelled as in the plots), last and best value of each metric.

    ``median``: a last row with the median over runs of each column (of seeds, say).
    """
    root = Path(root)
    header = ["run"] + [f"{m} {kind}" for m in metrics for kind in ("last", "best (step)")]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    runs = find_runs(root)
    labels = run_labels(runs, root)
    columns: list[list[float]] = [[] for _ in range(2 * len(metrics))]
    for run in runs:
        curves = read_curves(run / "csv" / "metrics.csv")
        cells = [labels[run]]
        for i, metric in enumerate(metrics):
            series = curves.get(metric)
            if not series:
                cells += ["–", "–"]
                continue
            pick = min if lower_is_better(metric) else max
            step, value = pick(series, key=lambda point: point[1])
            cells += [f"{series[-1][1]:.4g}", f"{value:.4g} ({step})"]
            columns[2 * i].append(series[-1][1])
            columns[2 * i + 1].append(value)
        rows.append("| " + " | ".join(cells) + " |")
    logged = max(len(c) for c in columns)  # runs that logged the metrics (a running job may not have yet)
    if median and logged > 1:
        cells = [f"median of {logged}"] + [f"{statistics.median(c):.4g}" if c else "–" for c in columns]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Plot the CSV logs of a bertlab run or sweep.")
    parser.add_argument("root", help="a run directory or a sweep directory")
    parser.add_argument("--metrics", nargs="+", help="metric keys (default: all but learning rates)")
    parser.add_argument("--out", help="output directory (default: <root>/plots)")
    parser.add_argument("--table", action="store_true", help="also print a Markdown table of the metrics")
    parser.add_argument("--median", action="store_true", help="the table ends with the median over runs")
    args = parser.parse_args()
    for path in plot(args.root, args.metrics, args.out):
        print(path)
    if args.table:
        if not args.metrics:
            parser.error("--table needs --metrics")
        print(summary_table(args.root, args.metrics, median=args.median))


if __name__ == "__main__":
    main()
