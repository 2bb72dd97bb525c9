"""Where our parameters live in the Hugging Face task models: the one home of HF parameter names.

Export is a rename: each objective's ``hf_models()`` builds the HF task model from the encoder config, copies
the encoder into its base model (:func:`load_encoder`) and loads the heads under the names below
(:func:`load_renamed`). Our heads (``models/heads.py``) keep HF's inner names (``transform.dense``,
``qa_outputs``, ``classifier``, ...); only the prefixes and a few per-architecture spellings differ.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel

# Where each architecture's HF masked-LM model keeps our MaskedLMHead (prefix, and whether "transform." nests).
_MLM_HEAD = {
    "bert": ("cls.predictions.", "transform."),
    "albert": ("predictions.", ""),
    "roberta": ("lm_head.", ""),
    "electra": ("generator_predictions.", ""),
}

# HF names of our pooler and pair classifier in BertForPreTraining / AlbertForPreTraining.
_PAIR_HEAD = {
    "bert": ("bert.pooler.dense.", "cls.seq_relationship."),
    "albert": ("albert.pooler.", "sop_classifier.classifier."),
}


def load_encoder(task_model: PreTrainedModel, encoder: nn.Module) -> None:
    """Copy our encoder's weights into the task model's base model (``bert.``, ``albert.``, ...)."""
    missing, unexpected = task_model.base_model.load_state_dict(encoder.state_dict(), strict=False)
    if unexpected or any("pooler" not in k for k in missing):
        raise RuntimeError(f"encoder does not match {type(task_model).__name__}: {missing=} {unexpected=}")


def load_renamed(task_model: PreTrainedModel, state: dict[str, torch.Tensor]) -> None:
    """Load head tensors by their HF names; every name must exist in the task model."""
    unknown = sorted(set(state) - set(task_model.state_dict()))
    if unknown:
        raise RuntimeError(f"{type(task_model).__name__} has no parameters named {unknown}")
    task_model.load_state_dict(state, strict=False)
    task_model.tie_weights()


def mlm_head_state(model_type: str, head: nn.Module) -> dict[str, torch.Tensor]:
    """Our ``MaskedLMHead`` state renamed to the HF masked-LM head of ``model_type``."""
    prefix, transform = _MLM_HEAD[model_type]
    state = {}
    for name, tensor in head.state_dict().items():
        if name == "bias":
            key = f"{prefix}bias" if model_type != "electra" else "generator_lm_head.bias"
        else:
            inner = name.removeprefix("transform.")
            if model_type == "roberta":
                inner = inner.replace("LayerNorm", "layer_norm")
            key = f"{prefix}{transform}{inner}"
        state[key] = tensor
    return state


def pair_head_state(model_type: str, head: nn.Module) -> dict[str, torch.Tensor]:
    """Our ``PairHead`` renamed to HF's; the rows swap because HF's class 0 means "is next / in order"."""
    if model_type not in _PAIR_HEAD:
        raise ValueError(f"model.model_type={model_type!r}: no HF pretraining model with a pair head")
    pooler, classifier = _PAIR_HEAD[model_type]
    state = {f"{pooler}{k}": v for k, v in head.pooler.dense.state_dict().items()}
    state |= {f"{classifier}{k}": v.flip(0) for k, v in head.seq_relationship.state_dict().items()}
    return state


def rtd_head_state(head: nn.Module) -> dict[str, torch.Tensor]:
    """Our ``RTDHead`` as ``ElectraForPreTraining.discriminator_predictions``."""
    return {f"discriminator_predictions.{k}": v for k, v in head.state_dict().items()}


def classification_head_state(head: nn.Module) -> dict[str, torch.Tensor]:
    """Our ``SequenceClassificationHead`` as ``BertForSequenceClassification``'s ``bert.pooler`` and ``classifier``."""
    return {k if k.startswith("classifier.") else f"bert.{k}": v for k, v in head.state_dict().items()}
