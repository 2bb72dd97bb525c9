"""bertlab's cheaper dropout mask and the attention that uses it: statistics, exactness, swapping."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from transformers import AutoModel, BertConfig, GPT2Config
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from bertlab.models.dropout import (
    ATTENTION,
    FastDropout,
    fast_dropout,
    keep_mask,
    sdpa_attention,
    use_fast_dropout,
)


def test_keep_probability_and_unbiased_scale():
    torch.manual_seed(0)
    x = torch.ones(1_000_003)  # not a multiple of the four lanes per draw
    kept = keep_mask(x.shape, 0.1)
    assert kept.shape == x.shape and kept.dtype == torch.bool
    assert abs(kept.float().mean().item() - 58982 / 65536) < 0.002
    y = fast_dropout(x, 0.1)
    assert torch.unique(y).tolist() == pytest.approx([0.0, 65536 / 58982])
    assert abs(y.mean().item() - 1.0) < 0.003
    # the kept fraction follows p
    assert abs(keep_mask((200_000,), 0.5).float().mean().item() - 0.5) < 0.005


def test_reproducible_under_the_seed_and_identity_when_off():
    x = torch.randn(4, 33)
    torch.manual_seed(7)
    a = fast_dropout(x, 0.3)
    torch.manual_seed(7)
    assert torch.equal(a, fast_dropout(x, 0.3))
    assert fast_dropout(x, 0.3, training=False) is x
    assert fast_dropout(x, 0.0) is x
    assert torch.equal(fast_dropout(x, 1.0), torch.zeros_like(x))


def test_gradient_is_the_scaled_mask():
    x = torch.randn(64, 16, requires_grad=True)
    torch.manual_seed(3)
    y = fast_dropout(x, 0.25)
    y.sum().backward()
    kept = y != 0
    assert torch.allclose(x.grad[kept], torch.full_like(x.grad[kept], 65536 / 49152), rtol=1e-6)
    assert torch.count_nonzero(x.grad[~kept]) == 0


@pytest.mark.parametrize("mask_kind", ["none", "bool", "causal"])
def test_attention_math_path_equals_sdpa_when_nothing_is_dropped(mask_kind):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8) for _ in range(3))
    module = nn.Module()
    mask, causal = None, False
    if mask_kind == "bool":
        mask = torch.ones(2, 1, 5, 5, dtype=torch.bool)
        mask[1, ..., 3:] = False  # the second sequence has two padding keys
    if mask_kind == "causal":
        causal = True
    expected, _ = sdpa_attention_forward(module, q, k, v, mask, dropout=0.0, is_causal=causal)
    # p = 1e-9 keeps every element (round((1 - p) * 2**16) = 2**16) but takes the math path
    got, _ = sdpa_attention(module, q, k, v, mask, dropout=1e-9, is_causal=causal)
    assert torch.equal(keep_mask((1000,), 1e-9), torch.ones(1000, dtype=torch.bool))
    assert got.shape == (2, 5, 3, 8)
    assert torch.allclose(got, expected, atol=1e-5)


def test_attention_dropout_drops_probabilities():
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 1, 64, 4) for _ in range(3))
    v = torch.ones_like(v)  # each output row is the sum of its kept, rescaled probabilities
    out, _ = sdpa_attention(nn.Module(), q, k, v, None, dropout=0.5)
    rows = out[0, :, 0, 0]
    assert not torch.allclose(rows, torch.ones_like(rows))  # some probability mass dropped
    assert abs(rows.mean().item() - 1.0) < 0.15  # unbiased on average


def _bert():
    config = BertConfig(
        vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    return AutoModel.from_config(config, attn_implementation="sdpa", add_pooling_layer=False)


def test_swapping_keeps_weights_and_evaluation_outputs():
    torch.manual_seed(0)
    plain = _bert().eval()
    fast = use_fast_dropout(_bert()).eval()
    fast.load_state_dict(plain.state_dict())
    assert not any(type(m) is nn.Dropout for m in fast.modules())
    assert any(isinstance(m, FastDropout) for m in fast.modules())
    assert fast.config._attn_implementation == ATTENTION
    ids = torch.tensor([[1, 5, 7, 2, 0, 0], [1, 8, 9, 10, 11, 2]])
    mask = (ids != 0).long()
    expected = plain(input_ids=ids, attention_mask=mask).last_hidden_state
    assert torch.allclose(fast(input_ids=ids, attention_mask=mask).last_hidden_state, expected, atol=1e-5)
    fast.train()
    torch.manual_seed(1)
    a = fast(input_ids=ids, attention_mask=mask).last_hidden_state
    torch.manual_seed(1)
    assert torch.equal(a, fast(input_ids=ids, attention_mask=mask).last_hidden_state)
    assert not torch.allclose(a, expected, atol=1e-3)  # dropout is on in training


def test_causal_model_with_fast_dropout_stays_causal():
    config = GPT2Config(vocab_size=40, n_embd=32, n_layer=2, n_head=2, n_positions=16)
    model = use_fast_dropout(AutoModel.from_config(config, attn_implementation="sdpa")).train()
    ids = torch.tensor([[1, 2, 3, 4, 5, 6]])
    changed = ids.clone()
    changed[0, 4:] = 9
    torch.manual_seed(0)
    a = model(input_ids=ids).last_hidden_state
    torch.manual_seed(0)
    b = model(input_ids=changed).last_hidden_state
    assert torch.equal(a[0, :4], b[0, :4])  # later tokens never reach earlier positions (same masks drawn)


def test_the_run_level_switch_chooses_the_dropout(compose):
    """``fast_dropout`` is a speed switch of the run (beside ``compile``), not a model setting."""
    from bertlab.build import build
    from tests.conftest import SMALL_SPLITS

    fast = build(compose("debug=smoke", *SMALL_SPLITS, "data.max_length=32"))[1].encoder
    assert any(isinstance(m, FastDropout) for m in fast.modules())
    plain = build(compose("debug=smoke", *SMALL_SPLITS, "data.max_length=32", "fast_dropout=false"))[
        1
    ].encoder
    assert not any(isinstance(m, FastDropout) for m in plain.modules())
    assert plain.config._attn_implementation == "sdpa"


def test_a_model_with_fast_dropout_unpickles_in_a_fresh_process(tmp_path):
    """DDP spawn pickles the module: the child must find ``bertlab_sdpa`` registered."""
    import pickle
    import subprocess
    import sys

    model = use_fast_dropout(_bert()).train()
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    script = (
        "import pickle, sys, torch; m = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "print(m(input_ids=torch.tensor([[1, 2, 3]])).last_hidden_state.shape)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "model.pkl")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "torch.Size([1, 3, 32])" in done.stdout
