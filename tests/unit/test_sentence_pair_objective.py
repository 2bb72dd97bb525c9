"""NSP/SOP objective: parity with HF BertForPreTraining, overfit one batch (BERT and ALBERT), logged metrics."""

from __future__ import annotations

import csv
import functools

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForPreTraining

from bertlab import optim
from bertlab.data.masking import MaskingRule, mask_tokens
from bertlab.models.encoder import EncoderSpec
from bertlab.objectives.sentence_pair import SentencePairPretraining
from bertlab.train import train
from tests.conftest import SMALL_SPLITS

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
NO_DROPOUT = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def _module(model_type: str = "bert", vocab: int = 120, **extra) -> SentencePairPretraining:
    encoder = EncoderSpec(model_type, **TINY, **extra).build(vocab_size=vocab, pad_token_id=0)
    return SentencePairPretraining(encoder, optimizer=functools.partial(optim.adamw, lr=3e-3))


def _batch(vocab: int = 120, batch: int = 8, length: int = 24) -> dict[str, torch.Tensor]:
    """``[CLS] A [SEP] B [SEP]`` rows with random tokens, masked MLM labels and alternating pair labels."""
    ids = torch.randint(5, vocab, (batch, length), generator=torch.Generator().manual_seed(1))
    ids[:, 0], ids[:, 10], ids[:, -1] = 2, 3, 3
    types = torch.zeros_like(ids)
    types[:, 11:] = 1
    rule = MaskingRule(mask_token_id=4, vocab_size=vocab, special_ids=(0, 2, 3, 4), probability=0.3)
    corrupted, labels = mask_tokens(ids, rule, 0, np.zeros(batch), np.arange(batch))
    pair = torch.arange(batch) % 2
    return {"input_ids": corrupted, "labels": labels, "token_type_ids": types, "next_sentence_label": pair}


def test_loss_equals_hf_bert_for_pretraining_after_the_export_rename():
    torch.manual_seed(0)
    hf = BertForPreTraining(BertConfig(vocab_size=120, pad_token_id=0, **TINY)).eval()
    module = _module().eval()
    hf_state = hf.state_dict()
    module.encoder.load_state_dict(
        {k[5:]: v for k, v in hf_state.items() if k.startswith("bert.") and "pooler" not in k}
    )
    head = {
        k.removeprefix("cls.predictions."): v for k, v in hf_state.items() if k.startswith("cls.predictions.")
    }
    head.pop("decoder.weight"), head.pop("decoder.bias", None)
    module.head.load_state_dict(head)
    module.pair_head.pooler.dense.load_state_dict(hf.bert.pooler.dense.state_dict())
    # HF labels 0 = is next; ours 1 = is next: the two output rows swap
    module.pair_head.seq_relationship.weight.data = hf_state["cls.seq_relationship.weight"].flip(0)
    module.pair_head.seq_relationship.bias.data = hf_state["cls.seq_relationship.bias"].flip(0)
    batch = _batch()
    with torch.no_grad():
        ours = module(batch)["loss"]
        hf_batch = {k: v for k, v in batch.items() if k != "next_sentence_label"}
        theirs = hf(**hf_batch, next_sentence_label=1 - batch["next_sentence_label"]).loss
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "model_type, extra", [("bert", {}), ("albert", {"embedding_size": 16})], ids=["bert", "albert"]
)
def test_mlm_and_pair_losses_fall_when_overfitting_one_batch(model_type, extra):
    torch.manual_seed(0)
    module = _module(model_type, **NO_DROPOUT, **extra)
    optimizer = module.optimizer_factory(module)
    batch = _batch()
    first = module(batch)
    for _ in range(60):
        out = module(batch)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
    assert out["mlm_loss"].item() < 0.5 * first["mlm_loss"].item()  # ALBERT shares its one layer: slower
    assert out["pair_loss"].item() < 0.2 * first["pair_loss"].item()
    assert (out["pair_logits"].argmax(-1) == batch["next_sentence_label"]).all()


@pytest.mark.parametrize("objective, model", [("nsp", "bert_tiny"), ("sop", "albert_tiny")])
def test_training_logs_both_losses_and_pair_accuracy(compose, tmp_path, objective, model):
    cfg = compose(
        f"objective={objective}", f"model={model}", "debug=smoke", *SMALL_SPLITS, "data.max_length=32"
    )
    assert train(cfg) is not None
    with open(tmp_path / "run" / "csv" / "metrics.csv") as f:
        columns = set(next(csv.reader(f)))
    expected = {
        "train/loss",
        "train/mlm_loss",
        "train/pair_loss",
        "val/loss",
        "val/mlm_accuracy",
        "val/pair_accuracy",
    }
    assert expected | {"test/pair_accuracy"} <= columns


@pytest.mark.parametrize(
    "model_type, extra", [("bert", {}), ("albert", {"embedding_size": 16})], ids=["bert", "albert"]
)
def test_export_gives_the_hf_pretraining_model_with_equal_logits(model_type, extra):
    torch.manual_seed(0)
    module = _module(model_type, **extra).eval()
    (task,) = module.hf_models().values()
    assert type(task).__name__ == {"bert": "BertForPreTraining", "albert": "AlbertForPreTraining"}[model_type]
    batch = _batch()
    with torch.no_grad():
        ours = module(batch)
        theirs = task.eval()(**{k: v for k, v in batch.items() if k in ("input_ids", "token_type_ids")})
    selected = batch["labels"] != -100
    torch.testing.assert_close(theirs.prediction_logits[selected], ours["mlm_logits"], rtol=1e-4, atol=1e-5)
    pair_logits = theirs.seq_relationship_logits if model_type == "bert" else theirs.sop_logits
    torch.testing.assert_close(pair_logits.flip(-1), ours["pair_logits"], rtol=1e-4, atol=1e-5)
