"""Fine-tuning keeps a resumable last.ckpt before its first validation; a diverging run stops, naming the step."""

from __future__ import annotations

import pytest
import torch

from bertlab.callbacks.interrupt import NonFiniteLossError
from bertlab.train import train

COLA_NO_VALIDATION = [
    "experiment=cola",
    "debug=smoke",
    "trainer.limit_val_batches=0",  # the monitored val/mcc is never logged
    "callbacks.last_checkpoint.every_n_train_steps=2",
    "callbacks.last_checkpoint.every_minutes=null",
    "test=false",
]


def test_fine_tuning_has_last_ckpt_before_any_validation(compose, tmp_path):
    import signal

    handlers = [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)]
    train(compose(*COLA_NO_VALIDATION, "trainer.max_steps=3"))
    assert [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)] == handlers  # restored after fit
    checkpoints = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["last.ckpt"]
    assert torch.load(checkpoints / "last.ckpt", weights_only=True, map_location="cpu")["global_step"] == 3


def test_a_non_finite_loss_stops_the_run_naming_the_step_and_keeps_the_last_good_checkpoint(
    compose, tmp_path, monkeypatch
):
    from bertlab.objectives.sequence_classification import SequenceClassification

    real = SequenceClassification.training_step

    def diverges_at_step_3(self, batch, batch_idx):
        loss = real(self, batch, batch_idx)
        return loss * float("nan") if self.global_step == 2 else loss  # the third step's loss

    monkeypatch.setattr(SequenceClassification, "training_step", diverges_at_step_3)
    with pytest.raises(NonFiniteLossError, match=r"not finite at step 3.*optimizer\.lr"):
        train(compose(*COLA_NO_VALIDATION, "trainer.max_steps=5", "export=true"))
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    state = torch.load(last, weights_only=True, map_location="cpu")
    assert state["global_step"] == 2
    assert all(torch.isfinite(t).all() for t in state["state_dict"].values() if t.is_floating_point())
    assert not (tmp_path / "run" / "hf").exists()


def test_a_requeue_signal_saves_first_then_hands_over_to_the_launchers_handler(compose, tmp_path):
    import signal

    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    handed_over = []

    def launcher_requeue(signum, frame):  # what submitit installs for SIGUSR2
        handed_over.append(torch.load(last, weights_only=True, map_location="cpu")["global_step"])

    previous = signal.signal(signal.SIGUSR2, launcher_requeue)
    try:
        cfg = compose(
            *COLA_NO_VALIDATION,
            "trainer.max_steps=6",
            "+callbacks.signal._target_=tests.helpers.SendSignal",
            "+callbacks.signal.at_step=2",
            f"+callbacks.signal.signum={int(signal.SIGUSR2)}",
        )
        with pytest.raises(SystemExit) as exit_:
            train(cfg)
    finally:
        signal.signal(signal.SIGUSR2, previous)
    assert exit_.value.code == 128 + signal.SIGUSR2
    assert handed_over == [3]  # last.ckpt of step 3 was on disk when the launcher requeued
