"""ELECTRA replaced-token detection: labels, shared embeddings, sampling, config errors, overfitting one batch."""

from __future__ import annotations

import functools

import pytest
import torch

from bertlab.errors import ConfigError
from bertlab.models.encoder import EncoderSpec
from bertlab.objectives.replaced_token_detection import (
    ReplacedTokenDetection,
    generator_config,
    replace_tokens,
    sample_replacements,
    sampling_rng,
)
from bertlab.optim import adamw

VOCAB = 50
CPU = torch.device("cpu")


@pytest.fixture
def single_thread():
    """Tiny models run fastest on one thread; the shared CPU is oversubscribed otherwise."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_encoder(model_type: str = "bert", **overrides) -> torch.nn.Module:
    config = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    config |= dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0) | overrides
    torch.manual_seed(0)
    return EncoderSpec(model_type, **config).build(VOCAB, pad_token_id=0)


def tiny_module(**kwargs) -> ReplacedTokenDetection:
    return ReplacedTokenDetection(tiny_encoder(), functools.partial(adamw, lr=3e-3), **kwargs)


def test_labels_are_input_differs_from_original_including_a_sampled_original():
    original = torch.tensor([[2, 10, 11, 12, 13, 3]])
    corrupted = torch.tensor([[2, 4, 11, 4, 13, 3]])  # positions 1 and 3 selected ([MASK]=4)
    labels = torch.tensor([[-100, 10, -100, 12, -100, -100]])
    sampled = torch.tensor([10, 40])  # position 1 samples its original; position 3 a different token
    replaced, rtd_labels = replace_tokens(corrupted, labels, sampled)
    assert replaced.tolist() == [[2, 10, 11, 40, 13, 3]]
    assert rtd_labels.tolist() == [[0, 0, 0, 1, 0, 0]]
    assert torch.equal(rtd_labels, (replaced != original).long())


def test_labels_equal_input_differs_from_original_on_a_random_batch():
    original = torch.randint(5, VOCAB, (8, 20))
    labels = torch.where(torch.rand(8, 20) < 0.3, original, torch.full_like(original, -100))
    corrupted = torch.where(labels != -100, torch.full_like(original, 4), original)
    sampled = torch.randint(5, 8, (int((labels != -100).sum()),))  # small range: many sampled originals
    replaced, rtd_labels = replace_tokens(corrupted, labels, sampled)
    assert torch.equal(rtd_labels, (replaced != original).long())
    assert torch.equal(replaced[labels == -100], original[labels == -100])


def test_generator_and_discriminator_embeddings_are_the_same_tensors():
    module = tiny_module()
    disc, gen = module.encoder.embeddings, module.generator.embeddings
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm"):
        for p_disc, p_gen in zip(
            getattr(disc, name).parameters(), getattr(gen, name).parameters(), strict=True
        ):
            assert p_disc is p_gen
    assert module.generator.config.hidden_size == 8 and module.generator.config.num_attention_heads == 1
    assert module.generator.config.num_hidden_layers == module.encoder.config.num_hidden_layers
    assert module.generator.embeddings_project.in_features == 32  # narrower generator projects E → Hg


def test_factorized_electra_discriminator_shares_embeddings_of_width_e():
    encoder = tiny_encoder("electra", embedding_size=16)
    module = ReplacedTokenDetection(encoder, functools.partial(adamw))
    assert module.generator.embeddings is encoder.embeddings
    assert module.generator.config.embedding_size == 16
    assert module.generator_head.transform.dense.out_features == 16


def test_the_generator_is_initialised_like_the_discriminator():
    module = ReplacedTokenDetection(
        tiny_encoder(initializer_range=0.2), functools.partial(adamw, lr=3e-3), generator_ratio=0.5
    )
    assert module.generator.config.initializer_range == 0.2
    # its own layers drawn at that scale, not ELECTRA's default 0.02
    assert module.generator.encoder.layer[0].attention.self.query.weight.std() > 0.1


def test_generator_ratio_that_does_not_divide_the_heads_is_a_config_error():
    with pytest.raises(ConfigError, match=r"generator_ratio=0.25.*model.num_attention_heads=2"):
        generator_config(tiny_encoder(num_attention_heads=2).config, 0.25)


def test_generator_ratio_error_at_build_time(compose):
    from hydra.errors import InstantiationException

    from bertlab.train import build

    cfg = compose("objective=rtd", "model=bert_tiny", "data.max_length=32")  # 2 heads × 1/4
    with pytest.raises((ConfigError, InstantiationException), match="objective.module.generator_ratio"):
        build(cfg)


def test_sampling_is_keyed_by_seed_stage_and_step():
    logits = torch.randn(64, VOCAB)
    first = sample_replacements(logits, sampling_rng(1, "train", 7, 0, CPU))
    again = sample_replacements(logits, sampling_rng(1, "train", 7, 0, CPU))
    other = sample_replacements(logits, sampling_rng(1, "train", 8, 0, CPU))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_samples_follow_the_generator_distribution_and_skip_impossible_tokens():
    probs = torch.tensor([0.5, 0.3, 0.2, 0.0])
    logits = probs.log().expand(20_000, 4)  # log(0) = -inf
    sampled = sample_replacements(logits, sampling_rng(0, "train", 0, 0, CPU))
    frequencies = torch.bincount(sampled, minlength=4).float() / sampled.numel()
    torch.testing.assert_close(frequencies, probs, atol=0.015, rtol=0)
    assert int((sampled == 3).sum()) == 0


def _batch(module: ReplacedTokenDetection) -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    original = torch.randint(5, VOCAB, (4, 16))
    labels = torch.where(torch.rand(4, 16) < 0.25, original, torch.full_like(original, -100))
    labels[:, 1] = original[:, 1]  # at least one selected position per row
    input_ids = torch.where(labels != -100, torch.full_like(original, 4), original)
    input_ids[3, 12:] = 0  # padding in the last row
    labels[3, 12:] = -100
    attention = (input_ids != 0).long()
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def test_discriminator_loss_covers_non_pad_tokens_and_does_not_reach_generator_layers():
    module = tiny_module()
    batch = _batch(module)
    out = module(batch, sampling_rng(0, "train", 0, 0, CPU))
    assert out["rtd_labels"].numel() == int(batch["attention_mask"].sum())
    out["disc_loss"].backward()
    generator_layers = [p for n, p in module.generator.named_parameters() if not n.startswith("embeddings.")]
    assert all(p.grad is None or not p.grad.any() for p in generator_layers)  # no gradient through sampling
    assert module.encoder.embeddings.word_embeddings.weight.grad is not None


def test_overfits_one_batch(single_thread):
    module = tiny_module(generator_ratio=0.5)
    batch = _batch(module)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    losses = []
    for step in range(200):
        out = module(batch, sampling_rng(0, "train", step, 0, CPU))
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        losses.append(out["loss"].item())
    assert sum(losses[-10:]) / 10 < 0.05 * losses[0], losses[::25]  # gen → originals, disc → all "original"
