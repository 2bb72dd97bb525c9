"""Export the best checkpoint in Hugging Face format when training ends (rank 0 only)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from bertlab.export import export_pretrained


class HFExportCallback(L.Callback):
    """At the end of ``fit``: load the best checkpoint's weights (if any) and write ``dirpath``."""

    def __init__(self, dirpath: str, tokenizer) -> None:
        self.dirpath = Path(dirpath)
        self.tokenizer = tokenizer

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if best:
            state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
            pl_module.load_state_dict(state)
        if trainer.is_global_zero:
            export_pretrained(pl_module, self.tokenizer, self.dirpath, run_dir=self.dirpath.parent)
        trainer.strategy.barrier("hf_export")
