"""bertlab-predict's batching and precision: length-sorted batches that cover every input once, per-batch
padding with the right masks, and --precision resolved through the probe."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from bertlab.data.bucketing import length_sorted_batches
from bertlab.errors import ConfigError
from bertlab.inference import (
    batched_outputs,
    cache_dir,
    inference_dtype,
    padded_inputs,
)
from bertlab.precision import cpu_choice, encoder_widths

CONFIG = BertConfig(
    vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
)


def test_batches_are_length_sorted_and_cover_every_input_once():
    lengths = [5, 2, 9, 2, 7]
    batches = [b.tolist() for b in length_sorted_batches(np.array(lengths), 2, False)]
    assert batches == [[1, 3], [0, 4], [2]]


def test_padded_inputs_mask_the_padding_and_pad_token_types_with_zero():
    ids = [np.array([1, 2, 3], dtype=np.int32), np.array([4], dtype=np.int32)]
    types = [np.array([0, 1, 1], dtype=np.int8), np.array([0], dtype=np.int8)]
    inputs = padded_inputs(ids, types, np.array([1, 0]), pad_id=9)
    assert inputs["input_ids"].tolist() == [[4, 9, 9], [1, 2, 3]]
    assert inputs["attention_mask"].tolist() == [[1, 0, 0], [1, 1, 1]]
    assert inputs["token_type_ids"].tolist() == [[0, 0, 0], [0, 1, 1]]


def test_batched_outputs_equal_one_at_a_time():
    torch.manual_seed(0)
    model = BertForSequenceClassification(CONFIG).eval()
    ids = [np.array([2, 7, 8, 9, 3][:n], dtype=np.int32) for n in (5, 2, 4)]
    out = np.zeros((3, 2), dtype=np.float32)
    for batch, output in batched_outputs(model, ids, None, batch_size=2, pad_id=0):
        out[batch] = output.logits.numpy()
    with torch.no_grad():
        alone = [model(input_ids=torch.from_numpy(i.astype(np.int64))[None]).logits[0].numpy() for i in ids]
    np.testing.assert_allclose(out, np.stack(alone), atol=1e-5)


def test_precision_is_explicit_or_the_probe_choice():
    assert inference_dtype("32", CONFIG, "cpu") == torch.float32
    assert inference_dtype("bf16", CONFIG, "cpu") == torch.bfloat16
    chosen = inference_dtype("auto", CONFIG, "cpu")  # probes once, caches under BERTLAB_CACHE_DIR
    cached = cpu_choice(*encoder_widths(CONFIG), cache_dir())
    assert cached.source == "cached"
    assert chosen == (torch.bfloat16 if cached.precision == "bf16-mixed" else torch.float32)
    with pytest.raises(ConfigError, match="--precision='fp8'"):
        inference_dtype("fp8", CONFIG, "cpu")
