"""GPT causal LM: causality, collator, loss parity with GPT2LMHeadModel, tying, sampling, overfitting one batch."""

from __future__ import annotations

import functools

import pytest
import torch
from transformers import GPT2LMHeadModel

from bertlab.data.collators import CLMCollator
from bertlab.errors import ConfigError
from bertlab.models.encoder import EncoderSpec
from bertlab.objectives.causal_lm import CausalLanguageModeling, causal_lm_loss, sample_continuation
from bertlab.optim import adamw

VOCAB = 50


@pytest.fixture
def single_thread():
    """Tiny models run fastest on one thread; the shared CPU is oversubscribed otherwise."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_module(vocab_size: int = VOCAB, dropout: float = 0.0) -> CausalLanguageModeling:
    torch.manual_seed(0)
    spec = EncoderSpec(
        "gpt2", n_embd=32, n_layer=2, n_head=2, n_positions=64, resid_pdrop=dropout, embd_pdrop=dropout,
        attn_pdrop=dropout, bos_token_id=None, eos_token_id=None,
    )  # fmt: skip
    return CausalLanguageModeling(spec.build(vocab_size, pad_token_id=0), functools.partial(adamw, lr=1e-2))


def test_logits_at_t_do_not_change_when_later_tokens_change():
    module = tiny_module().eval()
    ids = torch.randint(1, VOCAB, (2, 12))
    changed = ids.clone()
    changed[:, 7:] = torch.randint(1, VOCAB, (2, 5))
    with torch.no_grad():
        before, after = module({"input_ids": ids}), module({"input_ids": changed})
    torch.testing.assert_close(before[:, :7], after[:, :7])
    assert not torch.allclose(before[:, 7:], after[:, 7:])


def test_collator_labels_are_input_ids_with_padding_ignored(tiny_tokenizer):
    collate = CLMCollator(tokenizer=tiny_tokenizer)
    items = [{"input_ids": torch.tensor([2, 7, 8, 3])}, {"input_ids": torch.tensor([2, 9, 3])}]
    batch = collate(items)
    assert batch["input_ids"].tolist() == [[2, 7, 8, 3], [2, 9, 3, tiny_tokenizer.pad_token_id]]
    assert batch["labels"].tolist() == [[2, 7, 8, 3], [2, 9, 3, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert "attention_mask" not in collate(items[:1])  # full blocks run without a mask


def test_loss_and_tied_head_match_gpt2_lm_head_model():
    module = tiny_module().eval()
    assert module.lm_head.weight is module.encoder.get_input_embeddings().weight
    reference = GPT2LMHeadModel(module.encoder.config).eval()
    reference.transformer.load_state_dict(module.encoder.state_dict())
    ids = torch.randint(1, VOCAB, (3, 10))
    labels = ids.clone()
    labels[2, 6:] = -100
    with torch.no_grad():
        ours, _ = causal_lm_loss(module({"input_ids": ids}), labels)
        theirs = reference(input_ids=ids, labels=labels).loss
    torch.testing.assert_close(ours, theirs)


def test_bidirectional_encoder_is_a_config_error():
    encoder = EncoderSpec("bert", hidden_size=32, num_hidden_layers=1, num_attention_heads=2).build(VOCAB, 0)
    with pytest.raises(ConfigError, match="model.model_type=bert"):
        CausalLanguageModeling(encoder, functools.partial(adamw))


def test_sample_continuation_is_deterministic_per_seed(tiny_tokenizer):
    module = tiny_module(vocab_size=len(tiny_tokenizer))
    first = sample_continuation(module, tiny_tokenizer, "To be, or not", max_new_tokens=8, seed=3)
    again = sample_continuation(module, tiny_tokenizer, "To be, or not", max_new_tokens=8, seed=3)
    assert isinstance(first, str) and first == again


def test_overfits_one_batch(single_thread):
    module = tiny_module()
    torch.manual_seed(1)
    ids = torch.randint(1, VOCAB, (4, 16))
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    losses = []
    for _ in range(100):
        loss, _ = causal_lm_loss(module({"input_ids": ids}), ids)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0], losses[::20]
