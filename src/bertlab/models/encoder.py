"""Encoders built from transformers config classes (nothing downloaded) or loaded from pretrained weights.

We do not re-implement BERT: ``AutoConfig.for_model`` + ``AutoModel.from_config`` give BERT, ALBERT, ELECTRA,
RoBERTa and GPT-2 with SDPA attention. Our heads (``heads.py``) sit on ``last_hidden_state``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

from bertlab import hub
from bertlab.errors import ConfigError

log = logging.getLogger(__name__)

# Encoders whose HF base model has a pooler we replace with our own heads.
_POOLED = {"bert", "albert"}


def _model_kwargs(model_type: str, attn_implementation: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"attn_implementation": attn_implementation}
    if model_type in _POOLED:
        kwargs["add_pooling_layer"] = False
    return kwargs


@torch.no_grad()
def bert_init_(module: nn.Module, std: float) -> None:
    """Initialise one module as BERT's ``_init_weights`` does: Linear weight ~ normal(0, std) and bias 0,
    LayerNorm weight 1 and bias 0; other modules are left alone (use with ``Module.apply``)."""
    if isinstance(module, nn.Linear):
        module.weight.normal_(0.0, std)
        if module.bias is not None:
            module.bias.zero_()
    elif isinstance(module, nn.LayerNorm):
        module.weight.fill_(1.0)
        module.bias.zero_()


def reinitialize_top_layers(model: PreTrainedModel, count: int) -> None:
    """Draw the top ``count`` transformer layers afresh, as the model's config initialises them.

    Zhang et al. 2021 ("Revisiting Few-sample BERT Fine-tuning", §5.2): a pretrained encoder's top layers are
    specialised to its pretraining objective, and re-initialising them helps small fine-tuning sets. Linear
    weights ~ normal(0, initializer_range), biases 0, LayerNorm 1 and 0 (``bert_init_``; transformers'
    ``_init_weights`` skips weights it marked as loaded, so it cannot be used here).
    """
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) == 0:
        raise ConfigError(
            f"objective.module.reinit_top_layers={count}: model_type={model.config.model_type} has no list of "
            "separate layers to re-initialise (ALBERT shares one layer)"
        )
    if not 0 <= count <= len(layers):
        raise ConfigError(
            f"objective.module.reinit_top_layers={count}: expected 0..{len(layers)} (the encoder's layer count)"
        )
    for layer in layers[len(layers) - count :]:
        layer.apply(partial(bert_init_, std=model.config.initializer_range))


class EncoderSpec:
    """A randomly initialised encoder of a given architecture (``model=bert_mini`` etc.).

    Every keyword besides ``model_type`` and ``attn_implementation`` is a field of the
    transformers config class (``BertConfig``, ``AlbertConfig``, ...); unknown fields are rejected instead of
    silently stored.
    """

    pooler_state: dict[str, torch.Tensor] | None = None  # a random encoder has no pretrained pooler

    def __init__(
        self,
        model_type: str = "bert",
        attn_implementation: str = "sdpa",
        **config: Any,
    ) -> None:
        known = set(AutoConfig.for_model(model_type).to_dict())
        unknown = sorted(set(config) - known)
        if unknown:
            cls = type(AutoConfig.for_model(model_type)).__name__
            raise ConfigError(
                f"model.{unknown[0]} is not a field of transformers' {cls} (model_type={model_type})"
            )
        self.model_type, self.attn_implementation, self.config = model_type, attn_implementation, config

    def hf_config(self, vocab_size: int, pad_token_id: int | None) -> PretrainedConfig:
        """``vocab_size`` is the tokenizer's; a ``model.vocab_size`` in the config is a minimum number of rows.

        albert_base pins ALBERT's published 30,000 SentencePiece pieces (what ``bertlab-params`` counts); with a
        larger tokenizer the embedding matrix grows to hold every token id, with a warning. Rows beyond the
        tokenizer's vocabulary are never looked up.
        """
        config = dict(self.config)
        pinned = config.pop("vocab_size", None) or 0
        if 0 < pinned < vocab_size:
            log.warning("model.vocab_size=%d < the tokenizer's %d tokens: grown to fit", pinned, vocab_size)
        return AutoConfig.for_model(
            self.model_type, vocab_size=max(pinned, vocab_size), pad_token_id=pad_token_id, **config
        )

    def build(self, vocab_size: int, pad_token_id: int | None = None) -> PreTrainedModel:
        config = self.hf_config(vocab_size, pad_token_id)
        model = AutoModel.from_config(config, **_model_kwargs(self.model_type, self.attn_implementation))
        return model


class PretrainedEncoder:
    """Pretrained weights from a hub id, a local directory (e.g. a bertlab export) or ``minilm_l6`` (offline).

    ``from_scratch=True`` keeps the architecture and discards the weights (the source chapter's Code 8).
    After :meth:`build`, ``pooler_state`` holds the checkpoint's pooler weights (``dense.weight``,
    ``dense.bias``) for a head that starts from them, or ``None`` when the checkpoint has none.
    """

    pooler_state: dict[str, torch.Tensor] | None = None

    def __init__(
        self,
        path: str = "minilm_l6",
        from_scratch: bool = False,
        attn_implementation: str = "sdpa",
    ) -> None:
        self.path, self.from_scratch, self.attn_implementation = path, from_scratch, attn_implementation

    def build(self, vocab_size: int, pad_token_id: int | None = None) -> PreTrainedModel:
        target = hub.resolve(self.path)
        config = AutoConfig.from_pretrained(target)
        if vocab_size != config.vocab_size:
            raise ConfigError(
                f"model.path={self.path!r} has vocab_size={config.vocab_size} but the tokenizer has {vocab_size} "
                "tokens; use the tokenizer saved with the model (tokenizer.name_or_path)"
            )
        kwargs = _model_kwargs(config.model_type, self.attn_implementation)
        if self.from_scratch:
            return AutoModel.from_config(config, **kwargs)
        if config.model_type in _POOLED:
            model, self.pooler_state = _without_pooler(target, kwargs)
            return model
        # from_pretrained returns eval mode; Lightning keeps submodule modes, so fine-tuning would run without
        # dropout unless the encoder is put back in training mode here
        return AutoModel.from_pretrained(target, **kwargs).train()


def _without_pooler(target: str, kwargs: dict[str, Any]) -> tuple[PreTrainedModel, dict | None]:
    """Load with the pooler, drop the module and return its pretrained weights beside the model.

    Our classification head owns the pooler (as ``BertForSequenceClassification`` does) and starts from
    these weights, as HF's model would; a checkpoint without a pooler gives ``None`` (random init).
    """
    model, info = AutoModel.from_pretrained(
        target, **{**kwargs, "add_pooling_layer": True}, output_loading_info=True
    )
    state = None
    if not any(key.startswith("pooler") for key in info["missing_keys"]):
        pooler = {k: v.detach().clone() for k, v in model.pooler.state_dict().items()}
        # BERT's pooler is pooler.dense; ALBERT's is the Linear pooler itself
        state = {k if k.startswith("dense.") else f"dense.{k}": v for k, v in pooler.items()}
    model.pooler = None
    return model.train(), state


def position_limit(encoder: PreTrainedModel) -> int:
    config = encoder.config
    return int(getattr(config, "max_position_embeddings", None) or config.n_positions)
