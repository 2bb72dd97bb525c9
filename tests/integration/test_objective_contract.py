"""Every objective keeps the contract its base class declares: it reads only its ``batch_keys``, logs each of
``loss`` and its ``metric_names`` after an evaluation (``objective.monitor`` among them), exports, and refuses or accepts
``load_exported`` explicitly; the sentence pairs the data layer builds follow ``objective.pairing``."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from bertlab.build import build
from bertlab.errors import CheckpointError, ConfigError
from bertlab.objectives.base import Objective
from tests.conftest import SMALL_SPLITS
from tests.integration.test_train_smoke import SMOKE_OVERRIDES

EXPERIMENTS = {
    "mlm_shakespeare": "MaskedLanguageModeling",
    "mlm_nsp_shakespeare": "SentencePairPretraining",
    "albert_sop_shakespeare": "SentencePairPretraining",
    "electra_shakespeare": "ReplacedTokenDetection",
    "gpt_shakespeare": "CausalLanguageModeling",
    "cola": "SequenceClassification",
    "squad_v2_local": "ExtractiveQuestionAnswering",
}


class RecordingBatch(dict):
    """A batch that remembers which keys were read."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key) -> bool:
        self.read.add(key)
        return super().__contains__(key)


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_objective_reads_its_batch_keys_and_logs_its_metric_names(compose, experiment, tmp_path):
    overrides = SMOKE_OVERRIDES.get(experiment, [*SMALL_SPLITS, "data.max_length=32"])
    cfg = compose(f"experiment={experiment}", "debug=smoke", *overrides)
    datamodule, module = build(cfg)
    assert isinstance(module, Objective) and type(module).__name__ == EXPERIMENTS[experiment]
    assert isinstance(module.metric_names, tuple) and isinstance(module.batch_keys, tuple)
    assert cfg.objective.monitor.removeprefix("val/") in {"loss", *module.metric_names}
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, default_root_dir=tmp_path)
    trainer.validate(module, datamodule=datamodule)
    assert {f"val/{name}" for name in ("loss", *module.metric_names)} <= set(trainer.callback_metrics)
    batch = RecordingBatch(next(iter(datamodule.val_dataloader())))
    with torch.inference_mode():  # as validate ran: the metric states are inference tensors
        module.evaluate_batch(batch, 0, "val")
    assert batch.read <= set(module.batch_keys), batch.read - set(module.batch_keys)
    assert set(module.hf_models())  # export is declared and works on the fresh module


def test_pretraining_objectives_refuse_an_exported_head(compose):
    cfg = compose("debug=smoke", *SMALL_SPLITS, "data.max_length=32")
    _, module = build(cfg)
    with pytest.raises(CheckpointError, match="MaskedLanguageModeling cannot load the task head"):
        module.load_exported("somewhere")


def test_pairs_are_chosen_by_the_objective_config(compose):
    cfg = compose("experiment=mlm_nsp_shakespeare", "debug=smoke", *SMALL_SPLITS, "data.max_length=32")
    datamodule, _ = build(cfg)
    assert datamodule.pairing == "nsp"
    with pytest.raises(ConfigError, match="objective=nsp needs sentence pairs.*ClassificationDataModule"):
        build(compose("experiment=cola", "debug=smoke", "objective=nsp"))
