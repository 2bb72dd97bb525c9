"""Every objective initialises its heads with the encoder type's own rule (transformers' ``_init_weights``):
Linear weights ~ normal(0, initializer_range), biases 0, LayerNorm weight 1 and bias 0."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bertlab.models.encoder import EncoderSpec
from bertlab.objectives.extractive_qa import ExtractiveQuestionAnswering
from bertlab.objectives.masked_lm import MaskedLanguageModeling
from bertlab.objectives.replaced_token_detection import ReplacedTokenDetection
from bertlab.objectives.sentence_pair import SentencePairPretraining
from bertlab.objectives.sequence_classification import SequenceClassification
from bertlab.optim import adamw

STD = 0.01  # far below PyTorch's default Linear init (uniform ±1/sqrt(fan_in): std ≈ 0.07 for fan_in 64)
SIZE = {"hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


def _objective(name: str, model_type: str):
    encoder = EncoderSpec(model_type, initializer_range=STD, **SIZE).build(vocab_size=200, pad_token_id=0)
    build = {
        "mlm": lambda: MaskedLanguageModeling(encoder, adamw),
        "pair": lambda: SentencePairPretraining(encoder, adamw),
        "rtd": lambda: ReplacedTokenDetection(encoder, adamw, generator_ratio=0.5),
        "qa": lambda: ExtractiveQuestionAnswering(encoder, adamw),
        "classification": lambda: SequenceClassification(encoder, adamw, id2label={0: "a", 1: "b"}),
    }
    return build[name]()


def _heads(module: nn.Module) -> list[tuple[nn.Module, float]]:
    """Each head with the initializer_range of the model it belongs to (the RTD generator has its own config)."""
    owner = {"generator_head": getattr(module, "generator", None)}
    return [
        (child, (owner.get(name) or module.encoder).config.initializer_range)
        for name, child in module.named_children()
        if name.endswith("head")
    ]


@pytest.mark.parametrize(
    ("name", "model_type"),
    [
        ("mlm", "bert"),
        ("mlm", "roberta"),
        ("pair", "albert"),
        ("rtd", "electra"),
        ("qa", "bert"),
        ("classification", "bert"),
    ],
)
def test_heads_start_as_the_encoder_type_initialises_its_modules(name, model_type):
    torch.manual_seed(0)
    heads = _heads(_objective(name, model_type))
    assert heads
    for head, std in heads:
        for module in head.modules():
            if isinstance(module, nn.Linear):
                assert module.weight.std().item() == pytest.approx(std, rel=0.3), head
                assert torch.all(module.bias == 0)
            elif isinstance(module, nn.LayerNorm):
                assert torch.all(module.weight == 1) and torch.all(module.bias == 0)
