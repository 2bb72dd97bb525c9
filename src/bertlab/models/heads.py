"""Our small task heads; each takes hidden states from the encoder.

Parameter names follow the HF task models so export is a rename: ``MaskedLMHead`` mirrors
``BertForMaskedLM.cls.predictions`` (transform.dense, transform.LayerNorm, bias; the decoder is the tied input
embedding matrix) and, with ``embedding_size != hidden_size``, ``AlbertMLMHead``.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.activations import ACT2FN


class PredictionTransform(nn.Module):
    """dense (H → E) → activation → LayerNorm, as BERT's ``BertPredictionHeadTransform``."""

    def __init__(self, hidden_size: int, embedding_size: int, hidden_act: str, layer_norm_eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, embedding_size)
        self.activation = ACT2FN[hidden_act]
        self.LayerNorm = nn.LayerNorm(embedding_size, eps=layer_norm_eps)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.activation(self.dense(hidden)))


class MaskedLMHead(nn.Module):
    """Vocabulary logits for the rows it is given (only the selected positions, not the whole sequence).

    The decoder weight is passed in at call time: it is the encoder's input embedding matrix (tied).
    """

    def __init__(
        self, hidden_size: int, embedding_size: int, vocab_size: int, hidden_act: str, layer_norm_eps: float
    ) -> None:
        super().__init__()
        self.transform = PredictionTransform(hidden_size, embedding_size, hidden_act, layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    @classmethod
    def for_config(cls, config) -> MaskedLMHead:
        embedding_size = getattr(config, "embedding_size", None) or config.hidden_size
        return cls(config.hidden_size, embedding_size, config.vocab_size, config.hidden_act, config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, decoder_weight: torch.Tensor) -> torch.Tensor:
        """(N, H) hidden rows → (N, V) logits."""
        return nn.functional.linear(self.transform(hidden), decoder_weight, self.bias)
