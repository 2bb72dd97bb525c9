"""Export the best checkpoint in Hugging Face format when training ends (rank 0 only)."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import torch

from bertlab.export import ExportError, check_export_target, check_exportable, export_pretrained

log = logging.getLogger(__name__)


class HFExportCallback(L.Callback):
    """At the end of ``fit``: load the best checkpoint's weights (if any) and write ``dirpath``.

    The target is checked when fitting starts (a non-empty directory that is not a previous export stops
    the run before training, not after); a run that trained no step or whose weights are not finite
    exports nothing and logs why.
    """

    def __init__(self, dirpath: str, tokenizer) -> None:
        self.dirpath = Path(dirpath)
        self.tokenizer = tokenizer

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        check_export_target(self.dirpath)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if best:
            state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
            pl_module.load_state_dict(state)
        if trainer.is_global_zero:
            try:
                check_exportable(pl_module, trainer.global_step)
            except ExportError as err:
                log.warning("not exporting %s: %s", self.dirpath, err)
            else:
                source = {"checkpoint": best or None, "trained_steps": trainer.global_step}
                export_pretrained(pl_module, self.tokenizer, self.dirpath, self.dirpath.parent, source)
        trainer.strategy.barrier("hf_export")
