"""MLM objective: parity with HF BertForMaskedLM, and it learns."""

from __future__ import annotations

import functools

import numpy as np
import torch
from transformers import BertConfig, BertForMaskedLM

from bertlab import optim
from bertlab.data.masking import MaskingRule, mask_tokens
from bertlab.models.encoder import EncoderSpec
from bertlab.objectives.masked_lm import MaskedLanguageModeling

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def _module(vocab: int = 120, **extra) -> MaskedLanguageModeling:
    encoder = EncoderSpec("bert", **TINY, **extra).build(vocab_size=vocab, pad_token_id=0)
    return MaskedLanguageModeling(encoder, optimizer=functools.partial(optim.adamw, lr=3e-3))


def _batch(vocab: int = 120, batch: int = 4, length: int = 24) -> dict[str, torch.Tensor]:
    ids = torch.randint(5, vocab, (batch, length), generator=torch.Generator().manual_seed(1))
    ids[:, 0], ids[:, -1] = 2, 3
    rule = MaskingRule(mask_token_id=4, vocab_size=vocab, special_ids=(0, 2, 3, 4), probability=0.3)
    corrupted, labels = mask_tokens(ids, rule, 0, np.zeros(batch), np.arange(batch))
    return {"input_ids": corrupted, "labels": labels}


def test_loss_equals_hf_bert_for_masked_lm_with_the_same_weights():
    torch.manual_seed(0)
    hf = BertForMaskedLM(BertConfig(vocab_size=120, pad_token_id=0, **TINY)).eval()
    module = _module().eval()
    module.encoder.load_state_dict(hf.bert.state_dict())
    head = {k.removeprefix("cls.predictions."): v for k, v in hf.state_dict().items() if k.startswith("cls.")}
    head.pop("decoder.weight"), head.pop("decoder.bias", None)
    module.head.load_state_dict(head)
    batch = _batch()
    with torch.no_grad():
        ours, _, _ = module(batch)
        theirs = hf(**batch).loss
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_lm_head_is_tied_to_input_embeddings():
    module = _module()
    names = {n for n, _ in module.named_parameters()}
    assert "head.bias" in names and not any("decoder" in n for n in names)


def test_loss_falls_when_overfitting_one_batch():
    torch.manual_seed(0)
    module = _module(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    optimizer = module.optimizer_factory(module)
    batch = _batch()
    first = None
    for _ in range(60):
        loss, _, _ = module(batch)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.2 * first
