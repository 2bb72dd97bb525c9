"""Confusion matrices as text, PNG (matplotlib Agg, no display) and W&B plots.

A matrix is ``(C, C)`` counts with rows = true class and columns = predicted class, as torchmetrics'
``ConfusionMatrix`` and sklearn's ``confusion_matrix`` return it (the source chapter's Code 6 and 9).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from bertlab import atomic


def expand_confusion(matrix: torch.Tensor) -> tuple[list[int], list[int]]:
    """Counts → (y_true, y_pred) lists with one entry per example; exact, for plots that want raw labels."""
    y_true, y_pred = [], []
    for true, row in enumerate(matrix.tolist()):
        for pred, count in enumerate(row):
            y_true += [true] * int(count)
            y_pred += [pred] * int(count)
    return y_true, y_pred


def format_confusion(matrix: torch.Tensor, class_names: Sequence[str]) -> str:
    """A text table: one row per true class, one column per predicted class."""
    width = max(len(n) for n in class_names) + 2
    counts = matrix.tolist()
    lines = ["true \\ pred".ljust(width) + "".join(n.rjust(width) for n in class_names)]
    for name, row in zip(class_names, counts, strict=True):
        lines.append(name.ljust(width) + "".join(str(int(c)).rjust(width) for c in row))
    return "\n".join(lines)


def save_confusion_png(
    matrix: torch.Tensor, class_names: Sequence[str], path: str | Path, title: str
) -> Path:
    """Write a heat map with counts to ``path`` (via a temporary file and rename)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = matrix.cpu().numpy()
    fig = Figure(figsize=(1.6 + 1.2 * len(class_names), 1.2 + 1.2 * len(class_names)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(counts, cmap="Blues")
    ticks = range(len(class_names))
    ax.set_xticks(ticks, labels=list(class_names))
    ax.set_yticks(ticks, labels=list(class_names))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = counts.max() / 2 if counts.size else 0
    for i in ticks:
        for j in ticks:
            color = "white" if counts[i, j] > threshold else "black"
            ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", color=color)
    fig.tight_layout()
    path = Path(path)
    with atomic.atomic_file(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=100)
    return path


def wandb_confusion_plot(matrix: torch.Tensor, class_names: Sequence[str], title: str):
    """A ``wandb.plot.confusion_matrix`` built from the counts."""
    import wandb

    y_true, y_pred = expand_confusion(matrix)
    return wandb.plot.confusion_matrix(
        y_true=y_true, preds=y_pred, class_names=list(class_names), title=title
    )
