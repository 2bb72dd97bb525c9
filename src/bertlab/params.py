"""Embedding and encoder parameter counts of a model config (source chapter §4.5, Blocks 12-14, Codes 13 and 15).

    bertlab-params model=bert_base      # embeddings 23,837,184   encoder 85,054,464
    bertlab-params model=albert_base    # embeddings  4,005,120   encoder  7,186,944

Takes the same overrides as ``bertlab-train`` (composed from ``conf/train.yaml``, no run directory is created).
The model is built on the meta device: nothing is allocated, downloaded or read except the tokenizer's
vocabulary size (a WordPiece vocabulary still to be trained counts as its configured ``vocab_size``; a model
config that pins ``vocab_size`` is counted at that size).
As in the source chapter, ALBERT's embedding count includes the E→H mapping (``embedding_hidden_mapping_in``),
which transformers keeps inside ``AlbertModel.encoder``, so it is also part of the encoder count.
"""

from __future__ import annotations

import sys

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from bertlab.config import compose_train


def _count(module: nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def vocab_size(tokenizer_spec) -> int:
    """The vocabulary size a tokenizer spec produces, without training one."""
    declared = getattr(tokenizer_spec, "vocab_size", None)
    return int(declared) if declared else len(tokenizer_spec.build())


def count_parameters(model: nn.Module) -> dict[str, int]:
    """Embedding (with any E→H projection), encoder and total parameter counts of an HF base model."""
    encoder = getattr(model, "encoder", None)
    if encoder is None:  # decoders (GPT-2): token and position embeddings, the rest is the decoder stack
        embeddings = _count(model.get_input_embeddings()) + _count(getattr(model, "wpe", None))
        return {"embeddings": embeddings, "decoder": _count(model) - embeddings, "total": _count(model)}
    projection = getattr(encoder, "embedding_hidden_mapping_in", None)  # ALBERT (inside the encoder)
    if projection is None:
        projection = getattr(model, "embeddings_project", None)  # ELECTRA with E ≠ H
    embeddings = _count(model.embeddings) + _count(projection)
    return {"embeddings": embeddings, "encoder": _count(encoder), "total": _count(model)}


def report(cfg: DictConfig) -> tuple[dict[str, int], int]:
    """Build ``cfg.model`` on the meta device → (counts, vocab size).

    The vocabulary is the model's pinned ``vocab_size`` (albert_base: ALBERT's 30,000 SentencePiece pieces),
    else the tokenizer's.
    """
    size = cfg.model.get("vocab_size") or vocab_size(instantiate(cfg.tokenizer))
    spec = instantiate(cfg.model)
    with torch.device("meta"):
        model = spec.build(vocab_size=size, pad_token_id=0)
    return count_parameters(model), model.config.vocab_size


def main(argv: list[str] | None = None) -> None:
    overrides = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in overrides):
        print(__doc__)
        return
    cfg = compose_train(overrides)
    counts, size = report(cfg)
    print(f"model: {cfg.model.get('model_type', cfg.model.get('path'))}  vocab_size: {size:,}")
    for name, value in counts.items():
        print(f"{name + ':':12s}{value:>14,}")


if __name__ == "__main__":
    main()
