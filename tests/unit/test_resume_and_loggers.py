"""Checkpoint compatibility checks and W&B run-id persistence for resumed runs."""

from __future__ import annotations

import functools

import pytest
import torch

from bertlab import optim
from bertlab.loggers import RUN_ID_FILE, wandb_logger
from bertlab.models.encoder import EncoderSpec
from bertlab.objectives.masked_lm import MaskedLanguageModeling
from bertlab.resume import CheckpointError, check_compatible


def _module(hidden: int) -> MaskedLanguageModeling:
    encoder = EncoderSpec(
        "bert", hidden_size=hidden, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    ).build(vocab_size=50, pad_token_id=0)
    return MaskedLanguageModeling(encoder, optimizer=functools.partial(optim.adamw))


def test_a_checkpoint_of_another_model_shape_is_refused_naming_it(tmp_path):
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": _module(hidden=16).state_dict()}, path)
    check_compatible(path, _module(hidden=16))  # same shape: accepted
    with pytest.raises(CheckpointError, match=rf"checkpoint {path} does not fit .*shape differs"):
        check_compatible(path, _module(hidden=32))


def test_wandb_run_id_is_persisted_and_reused_on_resume(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    first = wandb_logger(mode="offline", save_dir=str(tmp_path / "first"), project="bertlab-test")
    run_id = (tmp_path / "first" / RUN_ID_FILE).read_text()
    assert first.version == run_id
    resumed = wandb_logger(
        mode="offline",
        save_dir=str(tmp_path / "second"),
        project="bertlab-test",
        resume_dir=str(tmp_path / "first"),
    )
    assert resumed.version == run_id and (tmp_path / "second" / RUN_ID_FILE).read_text() == run_id
    fresh = wandb_logger(mode="offline", save_dir=str(tmp_path / "third"), project="bertlab-test")
    assert fresh.version != run_id


def test_a_resumed_wandb_run_does_not_log_the_steps_it_already_has(tmp_path, monkeypatch):
    from bertlab.loggers import ContinuingWandbLogger

    first = wandb_logger(mode="offline", save_dir=str(tmp_path / "first"), project="bertlab-test")
    resumed = wandb_logger(
        mode="offline",
        save_dir=str(tmp_path / "second"),
        project="bertlab-test",
        resume_dir=str(tmp_path / "first"),
    )
    assert type(first) is not ContinuingWandbLogger and isinstance(resumed, ContinuingWandbLogger)
    logged = []

    class Run:  # the resumed run's summary holds the last step the killed process logged
        summary = {"trainer/global_step": 7}

        def log(self, metrics):
            logged.append(metrics["trainer/global_step"])

    monkeypatch.setattr(ContinuingWandbLogger, "experiment", property(lambda self: Run()))
    for step in (5, 6, 7, 8, 9):
        resumed.log_metrics({"train/loss": 1.0}, step=step)
    assert logged == [8, 9]
