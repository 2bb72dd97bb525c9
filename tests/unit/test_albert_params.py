"""ALBERT factorized embedding and cross-layer sharing; `bertlab-params` reproduces the source's Blocks 13-14."""

from __future__ import annotations

import pytest

from bertlab import params
from bertlab.models.encoder import EncoderSpec


@pytest.mark.parametrize(
    ("model", "embeddings", "encoder"),
    [("bert_base", 23_837_184, 85_054_464), ("albert_base", 4_005_120, 7_186_944)],
)
def test_published_base_models_have_the_source_chapter_counts(compose, model, embeddings, encoder):
    counts, _ = params.report(compose(f"model={model}"))
    assert counts["embeddings"] == embeddings
    assert counts["encoder"] == encoder


def test_command_prints_the_counts(capsys):
    params.main(["model=albert_base"])
    out = capsys.readouterr().out
    assert "4,005,120" in out and "7,186,944" in out and "vocab_size: 30,000" in out


def test_albert_tiny_shares_one_layer_and_factorizes_the_embedding(compose):
    from hydra.utils import instantiate

    encoder = instantiate(compose("model=albert_tiny").model).build(vocab_size=300, pad_token_id=0)
    config = encoder.config
    assert config.embedding_size < config.hidden_size
    assert encoder.get_input_embeddings().weight.shape == (300, config.embedding_size)
    layers = [m for m in encoder.modules() if type(m).__name__ == "AlbertLayer"]
    assert len(layers) == 1 < config.num_hidden_layers


def test_a_pinned_vocabulary_is_a_minimum_that_grows_to_the_tokenizer(caplog):
    spec = EncoderSpec("albert", vocab_size=300, hidden_size=32, num_attention_heads=2, num_hidden_layers=1)
    assert spec.build(200, 0).get_input_embeddings().num_embeddings == 300
    assert spec.build(400, 0).get_input_embeddings().num_embeddings == 400
    assert "model.vocab_size=300" in caplog.text
