"""Build a run's parts from its config, in the order data flows through them (no training, no I/O).

``bertlab-train`` (``train.py``), ``bertlab-export``, ``bertlab-eval`` and ``bertlab-inspect`` share this, so
the entry points depend on it and never on each other.
"""

from __future__ import annotations

import inspect

from hydra.utils import get_class, instantiate
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig

from bertlab.errors import ConfigError
from bertlab.models.dropout import use_fast_dropout
from bertlab.models.encoder import position_limit


def objective_inputs(cfg: DictConfig) -> dict[str, str]:
    """What the objective asks the data layer to produce (``objective.pairing``), checked against ``data``."""
    pairing = cfg.objective.get("pairing")
    if pairing is None:
        return {}
    target = get_class(cfg.data._target_)
    if "pairing" not in inspect.signature(target).parameters:
        raise ConfigError(
            f"objective={cfg.objective.name} needs sentence pairs (objective.pairing={pairing}), which "
            f"{target.__name__} cannot build: use a corpus such as data=shakespeare"
        )
    return {"pairing": pairing}


def encoder_inputs(cfg: DictConfig, builder) -> dict:
    """What the objective takes from the encoder's checkpoint besides the encoder: the pretrained pooler's
    weights, for an objective whose constructor declares ``pooler_state`` (sequence classification)."""
    if "pooler_state" not in inspect.signature(get_class(cfg.objective.module._target_)).parameters:
        return {}
    return {"pooler_state": builder.pooler_state}


def build(cfg: DictConfig):
    """Tokenizer → datamodule → encoder → objective, in the order data flows through them."""
    datamodule = instantiate(cfg.data, **objective_inputs(cfg))
    tokenizer = instantiate(cfg.tokenizer).build(datamodule.training_texts)  # a trained vocabulary reads text
    datamodule.attach(tokenizer, instantiate(cfg.objective.collator))
    builder = instantiate(cfg.model)
    encoder = builder.build(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    if cfg.get("fast_dropout", False):  # a speed switch, applied before the objective builds on the encoder
        use_fast_dropout(encoder)
    if datamodule.max_length > position_limit(encoder):
        raise ConfigError(
            f"data.max_length={datamodule.max_length} exceeds the model's position limit "
            f"model.max_position_embeddings={position_limit(encoder)}"
        )
    module = instantiate(
        cfg.objective.module,
        _partial_=True,
        encoder=encoder,
        optimizer=instantiate(cfg.optimizer),
        scheduler=instantiate(cfg.scheduler) if cfg.scheduler else None,
        **datamodule.module_kwargs(),
    )(**encoder_inputs(cfg, builder))  # called: Hydra would turn a dict of tensors into a config
    if cfg.compile:
        module.encoder.compile()  # in place: state_dict keys keep their names
    return datamodule, module


def build_reports(cfg: DictConfig) -> list[Callback]:
    """The objective's report callbacks (``objective.reports``): files and W&B media of each evaluation."""
    return [instantiate(node) for node in (cfg.objective.get("reports") or {}).values() if node is not None]
