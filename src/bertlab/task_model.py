"""The fine-tuned model ``bertlab-predict`` runs: from an exported directory, a run directory or a checkpoint.

* an export (``bertlab-export``, or any Hugging Face ``*ForSequenceClassification`` /
  ``*ForQuestionAnswering`` directory with its tokenizer), or a directory holding one in ``hf/``;
* a run directory (``.hydra/config.yaml``, ``tokenizer/``, ``checkpoints/``): its checkpoint as
  ``bertlab-export`` picks it (:func:`bertlab.resume.find_checkpoint`: the best recorded score, else
  ``last.ckpt``);
* a checkpoint file ``<run>/checkpoints/<name>.ckpt``.

A checkpoint is rebuilt as ``bertlab-export`` rebuilds it (the run's config and saved vocabulary through
:func:`bertlab.build.build`, which reads the run's data files for its label set), then turned into the same
Hugging Face task model the export would write, in memory: every source predicts through one code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from transformers import (
    AutoConfig,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
)

from bertlab.errors import CheckpointError

TASKS = {
    "ForSequenceClassification": ("classification", AutoModelForSequenceClassification),
    "ForQuestionAnswering": ("question_answering", AutoModelForQuestionAnswering),
}


@dataclass
class TaskModel:
    """A task model in eval mode, its tokenizer, and the run's data settings when it came from a run."""

    model: PreTrainedModel
    tokenizer: object
    source: str  # the directory or checkpoint file the weights came from
    data: dict = field(default_factory=dict)  # the run's ``data`` config (QA window sizes), {} for an export

    @property
    def task(self) -> str:
        return task_kind(type(self.model).__name__, self.source)[0]


def task_kind(architecture: str, source: str) -> tuple[str, type]:
    """(``classification`` | ``question_answering``, its Auto class) for a Hugging Face task-model class name."""
    for suffix, kind in TASKS.items():
        if architecture.endswith(suffix):
            return kind
    raise CheckpointError(
        f"{source}: bertlab-predict runs sequence-classification and extractive-QA models, not {architecture} "
        "(fine-tune with objective=sequence_classification or objective=extractive_qa)"
    )


def load_exported(directory: Path) -> TaskModel:
    """The task model and tokenizer of an exported directory."""
    architectures = AutoConfig.from_pretrained(str(directory)).architectures or [
        "a model without architectures"
    ]
    _, auto_class = task_kind(architectures[0], str(directory))
    model = auto_class.from_pretrained(str(directory)).eval()
    return TaskModel(model, AutoTokenizer.from_pretrained(str(directory)), str(directory))


def load_checkpoint(run_dir: Path, checkpoint: Path | None = None) -> TaskModel:
    """Rebuild the run's module with ``checkpoint`` (default: the one export picks), convert it as the export
    does."""
    from omegaconf import OmegaConf

    from bertlab.run_config import rebuild_run

    run = rebuild_run(run_dir, checkpoint)  # an older run's keys upgraded, the vocabulary it saved
    model = run.module.hf_models()[""].eval()
    task_kind(type(model).__name__, str(run.checkpoint))
    return TaskModel(
        model,
        run.datamodule.tokenizer,
        str(run.checkpoint),
        OmegaConf.to_container(run.cfg.data, resolve=True),
    )


def run_of_checkpoint(checkpoint: Path) -> Path:
    """The run directory of ``<run>/checkpoints/<file>``."""
    run_dir = checkpoint.resolve().parent.parent
    if not (run_dir / ".hydra" / "config.yaml").is_file():
        raise CheckpointError(
            f"{checkpoint}: a checkpoint is rebuilt from its run's config, expected in {run_dir / '.hydra'} "
            "(pass the checkpoint inside its run directory, <run>/checkpoints/<file>, or an exported directory)"
        )
    return run_dir


def load_task_model(path: str | Path) -> TaskModel:
    """The model at ``path``: an exported directory, a run directory or a checkpoint file (module docstring)."""
    path = Path(path)
    if path.is_file():
        return load_checkpoint(run_of_checkpoint(path), path)
    if (path / ".hydra" / "config.yaml").is_file() and any((path / "checkpoints").glob("*.ckpt")):
        return load_checkpoint(path)
    for candidate in (path, path / "hf"):
        if (candidate / "config.json").is_file():
            return load_exported(candidate)
    raise CheckpointError(
        f"{path}: neither an exported model (config.json here or in {path / 'hf'}), nor a run directory with "
        "checkpoints, nor a checkpoint file"
    )
