"""Sequence classification: HF-compatible head, label checks, pretrained vs scratch, metrics, evaluation."""

from __future__ import annotations

import time

import lightning as L
import pytest
import torch
from safetensors.torch import load_file
from transformers import BertForSequenceClassification

from bertlab import hub
from bertlab.build import build, build_reports
from bertlab.errors import ConfigError
from bertlab.evaluation.confusion import expand_confusion, format_confusion, save_confusion_png
from bertlab.models.encoder import EncoderSpec, PretrainedEncoder
from bertlab.objectives.sequence_classification import (
    SequenceClassification,
    classification_loss,
    classification_metrics,
)
from bertlab.optim import adamw
from bertlab.train import train

TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
LABELS = {0: "unacceptable", 1: "acceptable"}


def _module(**kwargs) -> SequenceClassification:
    encoder = EncoderSpec("bert", **TINY).build(vocab_size=100, pad_token_id=0)
    return SequenceClassification(encoder, optimizer=adamw, **({"id2label": LABELS} | kwargs))


def test_export_to_bert_for_sequence_classification_is_a_rename():
    torch.manual_seed(0)
    module = _module().eval()
    hf = module.hf_models()[""].eval()
    assert isinstance(hf, BertForSequenceClassification) and hf.config.id2label == LABELS
    torch.testing.assert_close(hf.bert.pooler.dense.weight, module.head.pooler.dense.weight)
    batch = {"input_ids": torch.randint(1, 100, (3, 7)), "attention_mask": torch.ones(3, 7, dtype=torch.long)}
    batch["attention_mask"][0, 5:] = 0
    with torch.no_grad():
        torch.testing.assert_close(module(batch), hf(**batch).logits)


def test_num_labels_that_disagrees_with_the_data_is_a_clear_error():
    with pytest.raises(ConfigError, match="num_labels=3 disagrees with the data, which has 2 labels"):
        _module(num_labels=3)
    assert _module(num_labels=2).head.classifier.out_features == 2
    assert _module(id2label=None, num_labels=4).id2label == {i: f"LABEL_{i}" for i in range(4)}


def test_pretrained_loads_the_weights_and_scratch_does_not():
    reference = load_file(f"{hub.resolve('minilm_l6')}/model.safetensors")
    builder = PretrainedEncoder("minilm_l6")
    encoder = builder.build(vocab_size=30522, pad_token_id=0)
    module = SequenceClassification(encoder, adamw, id2label=LABELS, pooler_state=builder.pooler_state)
    assert module.encoder.training  # dropout on while fine-tuning, although from_pretrained returns eval mode
    pretrained = encoder.state_dict()
    scratch = (
        PretrainedEncoder("minilm_l6", from_scratch=True).build(vocab_size=30522, pad_token_id=0).state_dict()
    )
    assert pretrained.keys() == scratch.keys()
    for key in ("embeddings.word_embeddings.weight", "encoder.layer.5.output.dense.weight"):
        assert torch.equal(pretrained[key], reference[key])
        assert pretrained[key].shape == scratch[key].shape
        assert not torch.allclose(scratch[key], reference[key])
        assert abs(scratch[key].std().item() - 0.02) < 0.005  # initializer_range
    # the checkpoint's pooler goes to the head, as BertForSequenceClassification.from_pretrained loads it
    assert not any(key.startswith("pooler") for key in pretrained)
    assert torch.equal(module.head.pooler.dense.weight, reference["pooler.dense.weight"])
    assert torch.equal(module.head.pooler.dense.bias, reference["pooler.dense.bias"])
    scratch_head = SequenceClassification(
        PretrainedEncoder("minilm_l6", from_scratch=True).build(vocab_size=30522, pad_token_id=0),
        adamw,
        id2label=LABELS,
    ).head
    assert not torch.allclose(scratch_head.pooler.dense.weight, reference["pooler.dense.weight"])


def test_reinit_draws_the_top_layers_and_pooler_afresh_and_keeps_the_rest():
    reference = load_file(f"{hub.resolve('minilm_l6')}/model.safetensors")
    encoder = PretrainedEncoder("minilm_l6").build(vocab_size=30522, pad_token_id=0)
    module = SequenceClassification(
        encoder, adamw, id2label=LABELS, pretrained_pooler=False, reinit_top_layers=2
    )
    state = module.encoder.state_dict()
    for key in ("embeddings.word_embeddings.weight", "encoder.layer.3.attention.self.query.weight"):
        assert torch.equal(state[key], reference[key])
    for layer in (4, 5):
        weight = state[f"encoder.layer.{layer}.intermediate.dense.weight"]
        assert not torch.allclose(weight, reference[f"encoder.layer.{layer}.intermediate.dense.weight"])
        assert abs(weight.std().item() - 0.02) < 0.002  # initializer_range
        assert not state[f"encoder.layer.{layer}.output.dense.bias"].any()
        assert torch.equal(state[f"encoder.layer.{layer}.output.LayerNorm.weight"], torch.ones(384))
    assert not torch.allclose(module.head.pooler.dense.weight, reference["pooler.dense.weight"])
    for count in (7, -1):
        with pytest.raises(ConfigError, match=f"reinit_top_layers={count}: expected 0..6"):
            SequenceClassification(
                PretrainedEncoder("minilm_l6").build(vocab_size=30522, pad_token_id=0),
                adamw,
                id2label=LABELS,
                reinit_top_layers=count,
            )
    albert = EncoderSpec("albert", **TINY, embedding_size=16).build(vocab_size=100, pad_token_id=0)
    with pytest.raises(ConfigError, match="no list of separate layers"):
        SequenceClassification(albert, adamw, id2label=LABELS, reinit_top_layers=1)


@pytest.mark.parametrize(
    ("matrix", "mcc"),
    [([[97, 65], [26, 328]], 0.5721810924354415), ([[31, 131], [56, 298]], 0.04111147909054526)],
)
def test_metrics_reproduce_the_chapter_confusion_matrices(matrix, mcc):
    y_true, y_pred = expand_confusion(torch.tensor(matrix))
    metrics = classification_metrics(2)
    metrics.update(torch.tensor(y_pred), torch.tensor(y_true))
    results = metrics.compute()
    assert results["mcc"].item() == pytest.approx(mcc, abs=1e-6)  # sklearn's value in Codes 7 and 9
    assert results["accuracy"].item() == pytest.approx((matrix[0][0] + matrix[1][1]) / 516)
    assert results["confusion"].tolist() == matrix


def test_confusion_matrix_is_rendered_as_text_and_png(tmp_path):
    matrix = torch.tensor([[97, 65], [26, 328]])
    assert "328" in format_confusion(matrix, ["unacceptable", "acceptable"]).splitlines()[2]
    path = save_confusion_png(matrix, ["unacceptable", "acceptable"], tmp_path / "c" / "test.png", "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["test.png"]


def test_overfits_one_batch():
    torch.manual_seed(0)
    module = _module(classifier_dropout=0.0)
    batch = {"input_ids": torch.randint(1, 100, (8, 6)), "labels": torch.tensor([0, 1] * 4)}
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-3)
    for _ in range(40):
        optimizer.zero_grad()
        classification_loss(module(batch), batch["labels"]).backward()
        optimizer.step()
    assert (module.eval()(batch).argmax(-1) == batch["labels"]).all()


def test_validation_counts_every_example_once_and_writes_the_png(compose, tmp_path):
    cfg = compose("experiment=cola", "debug=smoke", "data.eval_batch_size=3")
    datamodule, module = build(cfg)
    trainer = L.Trainer(
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        default_root_dir=str(tmp_path / "out"),
        callbacks=build_reports(cfg),
    )
    trainer.validate(module, datamodule=datamodule)
    assert (
        int(module.confusion["val"].sum()) == 8
    )  # the fixture's in-domain dev rows, none dropped or doubled
    assert (tmp_path / "out" / "confusion" / "val_epoch000.png").is_file()
    assert {"val/mcc", "val/accuracy", "val/loss"} <= set(trainer.callback_metrics)


@pytest.mark.slow
def test_confusion_matrix_goes_to_wandb_when_attached(compose, tmp_path):
    cfg = compose("experiment=cola", "debug=smoke", "logger=wandb", "logger.wandb.mode=offline")
    assert train(cfg) is not None
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1
    # wandb's service process writes the run file after finish() returns; on a loaded machine that takes a while
    deadline = time.monotonic() + 60
    while b"confusion_matrix" not in runs[0].read_bytes() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert b"confusion_matrix" in runs[0].read_bytes()


def test_pretrained_encoder_is_built_in_training_mode():
    from bertlab.models.encoder import PretrainedEncoder

    encoder = PretrainedEncoder("minilm_l6").build(vocab_size=30522, pad_token_id=0)
    assert encoder.training and all(m.training for m in encoder.modules())


@pytest.mark.parametrize(
    ("task", "id2label", "labels"),
    [
        ("single_label", LABELS, torch.tensor([0, 1, 1])),
        ("regression", {0: "similarity"}, torch.tensor([0.5, 4.0, 2.25])),
        ("multi_label", {0: "a", 1: "b", 2: "c"}, torch.tensor([[1, 0, 1], [0, 0, 0], [0, 1, 0]])),
    ],
)
def test_loss_per_task_equals_the_exported_hf_model_loss(task, id2label, labels):
    """MSE on one output, BCE per label, CE over classes: the loss HF computes for the exported problem_type."""
    torch.manual_seed(0)
    module = _module(
        id2label=id2label, task=task, metrics={"regression": ["pearson"]}.get(task, ["accuracy"])
    )
    hf = module.hf_models()[""].eval()
    module.eval()
    batch = {"input_ids": torch.randint(1, 100, (3, 5))}
    with torch.no_grad():
        ours = classification_loss(module(batch), labels, task)
        theirs = hf(**batch, labels=labels.float() if task != "single_label" else labels).loss
    assert module.head.classifier.out_features == len(id2label)
    torch.testing.assert_close(ours, theirs)


def test_regression_needs_one_output_and_unknown_metrics_fail():
    with pytest.raises(ConfigError, match="regression predicts one value; num_labels=2"):
        _module(task="regression", metrics=["pearson"])
    with pytest.raises(ConfigError, match="unknown for task single_label: pearson"):
        _module(metrics=["pearson"])


def test_composition_root_hands_the_checkpoints_pooler_to_the_head(compose):
    from bertlab.build import build

    reference = load_file(f"{hub.resolve('minilm_l6')}/model.safetensors")
    _, module = build(compose("experiment=cola"))
    assert torch.equal(module.head.pooler.dense.weight, reference["pooler.dense.weight"])
    _, fresh = build(compose("experiment=cola", "objective.module.pretrained_pooler=false"))
    assert not torch.allclose(fresh.head.pooler.dense.weight, reference["pooler.dense.weight"])
