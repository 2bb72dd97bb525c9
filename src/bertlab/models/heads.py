"""Our small task heads; each takes hidden states from the encoder.

Parameter names follow the HF task models so export is a rename (``hf_names.py`` maps the prefixes): ``MaskedLMHead`` mirrors
``BertForMaskedLM.cls.predictions`` (transform.dense, transform.LayerNorm, bias; the decoder is the tied input
embedding matrix) and, with ``embedding_size != hidden_size``, ``AlbertMLMHead``. The objectives initialise every
head with :func:`init_like` (the encoder type's own rule).
``SequenceClassificationHead`` holds ``pooler.dense`` and ``classifier`` of ``BertForSequenceClassification``.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.activations import ACT2FN


def init_like(head: nn.Module, model: PreTrainedModel) -> nn.Module:
    """Initialise a freshly built ``head`` as ``model``'s type initialises its own modules, and return it.

    This is transformers' ``_init_weights`` of the encoder (BERT, ALBERT, ELECTRA, RoBERTa: Linear weight
    ~ normal(0, initializer_range), bias 0, LayerNorm 1 and 0), so every head — pretraining or fine-tuning —
    starts as the head of the matching HF task model would.
    """
    head.apply(model._init_weights)
    return head


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
        return cls(
            config.hidden_size, embedding_size, config.vocab_size, config.hidden_act, config.layer_norm_eps
        )

    def forward(self, hidden: torch.Tensor, decoder_weight: torch.Tensor) -> torch.Tensor:
        """(N, H) hidden rows → (N, V) logits."""
        return nn.functional.linear(self.transform(hidden), decoder_weight, self.bias)


class Pooler(nn.Module):
    """[CLS] hidden state → dense → tanh, as ``BertModel.pooler`` (``bert.pooler.dense`` on export)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, T, H) → (B, H)."""
        return torch.tanh(self.dense(hidden[:, 0]))


class PairHead(nn.Module):
    """Two-way sentence-pair logits (NSP/SOP) from the pooled [CLS]: ``BertForPreTraining.cls.seq_relationship``.

    The same head serves NSP and SOP; they differ only in how pairs are built (ALBERT's ``sop_classifier``
    is the same linear layer). Class 1 = next / in order (the source chapter's ``is_next=1``); HF's
    ``next_sentence_label`` / ``sentence_order_label`` use 0 for that, so export flips the two rows.
    """

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.pooler = Pooler(hidden_size)
        self.seq_relationship = nn.Linear(hidden_size, 2)

    @classmethod
    def for_config(cls, config) -> PairHead:
        return cls(config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, T, H) → (B, 2) logits; class 1 = next / in order."""
        return self.seq_relationship(self.pooler(hidden))


class RTDHead(nn.Module):
    """Per-token replaced/original logit, as ``ElectraForPreTraining.discriminator_predictions``.

    dense (H → H) → activation → dense_prediction (H → 1); logit > 0 means "replaced".
    """

    def __init__(self, hidden_size: int, hidden_act: str) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = ACT2FN[hidden_act]
        self.dense_prediction = nn.Linear(hidden_size, 1)

    @classmethod
    def for_config(cls, config) -> RTDHead:
        return cls(config.hidden_size, config.hidden_act)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, T, H) → (B, T) logits."""
        return self.dense_prediction(self.activation(self.dense(hidden))).squeeze(-1)


class SequenceClassificationHead(nn.Module):
    """pooler → dropout → linear, as ``BertForSequenceClassification`` (``bert.pooler.*``, ``classifier.*``)."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float) -> None:
        super().__init__()
        self.pooler = Pooler(hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    @classmethod
    def for_config(cls, config, num_labels: int, dropout: float | None = None) -> SequenceClassificationHead:
        """``dropout=None`` follows HF: ``classifier_dropout`` if set, else ``hidden_dropout_prob``."""
        if dropout is None:
            dropout = getattr(config, "classifier_dropout", None)
        if dropout is None:
            dropout = getattr(config, "hidden_dropout_prob", 0.1)
        return cls(config.hidden_size, num_labels, dropout)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, T, H) last hidden state → (B, num_labels) logits."""
        return self.classifier(self.dropout(self.pooler(hidden)))


class SpanHead(nn.Module):
    """Start and end logits per token: one linear layer H → 2, as ``BertForQuestionAnswering.qa_outputs``."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.qa_outputs = nn.Linear(hidden_size, 2)

    @classmethod
    def for_config(cls, config) -> SpanHead:
        return cls(config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, H) hidden states → start logits (B, T), end logits (B, T)."""
        start, end = self.qa_outputs(hidden).unbind(-1)  # (B, T, 2) → 2 × (B, T)
        return start, end
