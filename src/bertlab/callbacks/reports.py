"""Reports of what an evaluation computed: one callback per kind, so objectives write no files and know no W&B.

An objective keeps the results of its last evaluation per stage in a documented attribute
(``SequenceClassification.confusion``, ``ExtractiveQuestionAnswering.predictions``); the callbacks below
read it when the stage ends (``on_validation_end`` / ``on_test_end``, after the objective's
``on_*_epoch_end`` has computed it) and write on global rank 0. They are declared with the objective, in
``objective.reports`` of ``conf/objective/<name>.yaml``, and built by :func:`bertlab.build.build_reports`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
from lightning.pytorch.loggers import WandbLogger

from bertlab.atomic import write_json
from bertlab.evaluation.confusion import format_confusion, save_confusion_png, wandb_confusion_plot

log = logging.getLogger(__name__)
PREDICTION_FILES = ("predictions.json", "nbest_predictions.json", "null_odds.json")


def _wandb_loggers(trainer: L.Trainer) -> list[WandbLogger]:
    return [logger for logger in trainer.loggers if isinstance(logger, WandbLogger)]


class StageReport(L.Callback):
    """Calls :meth:`report` with the stage ("val" or "test") when it ends, on global rank 0."""

    skip_sanity_check = True

    def report(self, trainer: L.Trainer, module: L.LightningModule, stage: str) -> None:
        raise NotImplementedError

    def _maybe_report(self, trainer: L.Trainer, module: L.LightningModule, stage: str) -> None:
        if trainer.is_global_zero and not (self.skip_sanity_check and trainer.sanity_checking):
            self.report(trainer, module, stage)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._maybe_report(trainer, pl_module, "val")

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._maybe_report(trainer, pl_module, "test")


class ConfusionMatrixReport(StageReport):
    """The module's ``confusion[stage]`` (rows true, columns predicted) as a log table, a PNG under
    ``<default_root_dir>/confusion/`` (``val_epoch<NNN>.png``, ``test.png``) and a W&B plot when a W&B logger
    is attached. The module names the classes with ``id2label``."""

    def report(self, trainer: L.Trainer, module: L.LightningModule, stage: str) -> None:
        matrix = module.confusion.get(stage)
        if matrix is None:
            return
        names = [module.id2label[i] for i in range(len(module.id2label))]
        name = f"{stage}_epoch{trainer.current_epoch:03d}" if stage == "val" else stage
        title = f"{stage} (epoch {trainer.current_epoch}, step {trainer.global_step})"
        log.info(
            "%s confusion matrix (rows true, columns predicted):\n%s", title, format_confusion(matrix, names)
        )
        save_confusion_png(matrix, names, Path(trainer.default_root_dir) / "confusion" / f"{name}.png", title)
        for logger in _wandb_loggers(trainer):
            logger.experiment.log({f"{stage}/confusion_matrix": wandb_confusion_plot(matrix, names, title)})


class PredictionFilesReport(StageReport):
    """The module's ``predictions[stage]`` (a ``QAEvaluation``) as the official SQuAD files
    ``predictions.json``, ``nbest_predictions.json`` and ``null_odds.json`` in
    ``<default_root_dir>/predictions/<stage>/``. Written after the sanity check too, as before the split."""

    skip_sanity_check = False

    def report(self, trainer: L.Trainer, module: L.LightningModule, stage: str) -> None:
        evaluation = module.predictions.get(stage)
        if evaluation is None:
            return
        directory = Path(trainer.default_root_dir) / "predictions" / stage
        decoded = evaluation.predictions
        contents = (decoded.answers, decoded.nbest, decoded.null_odds)
        for name, payload in zip(PREDICTION_FILES, contents, strict=True):
            write_json(directory / name, payload)


class PredictionTableReport(StageReport):
    """A W&B table of the first ``rows`` questions of ``predictions[stage]``: prediction, gold answers, null
    odds. Does nothing without a W&B logger."""

    skip_sanity_check = False

    def __init__(self, rows: int = 200) -> None:
        self.rows = rows

    def report(self, trainer: L.Trainer, module: L.LightningModule, stage: str) -> None:
        loggers = _wandb_loggers(trainer)
        evaluation = module.predictions.get(stage)
        if not loggers or evaluation is None:
            return
        import wandb

        table = wandb.Table(columns=["id", "question", "prediction", "gold", "null_odds"])
        golds, decoded = evaluation.golds, evaluation.predictions
        for example in [e for e in evaluation.examples if e.id in golds][: self.rows]:
            table.add_data(
                example.id,
                example.question,
                decoded.answers[example.id],
                " | ".join(golds[example.id]) or "(no answer)",
                decoded.null_odds[example.id],
            )
        for logger in loggers:
            logger.experiment.log({f"{stage}/predictions": table})
