"""A run directory's saved config (``.hydra/config.yaml``), upgraded to today's keys.

A run keeps the config it was trained with, but keys get renamed and datamodules replaced between releases;
without an upgrade, a checkpoint trained last month could no longer be exported or evaluated. Every change
of a saved key is one entry here, so ``bertlab-export``, ``bertlab-eval`` and ``bertlab-predict`` open old
runs the same way: ``RENAMED`` moves a key, ``REPLACED`` maps a datamodule class that no longer exists to
the data preset that does its job (the old run's values are kept where the preset has the same key).
The changes applied are logged, so a user sees how their old config was read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from bertlab.config import compose_train
from bertlab.errors import CheckpointError

log = logging.getLogger(__name__)

RENAMED = {  # old dotted key → new dotted key
    "model.fast_dropout": "fast_dropout",  # a run-level speed switch since session 5
    "objective.collator.pairing": "objective.pairing",  # the objective asks for pairs, not its collator
    "data.block_size": "data.max_length",  # one name for sequence length in every data config
    "data.max_seq_length": "data.max_length",
}

REPLACED: dict[str, Callable[[DictConfig], str]] = {  # old datamodule class → data preset doing its job
    "bertlab.data.shakespeare.ShakespeareDataModule": lambda data: {"tiny": "shakespeare_tiny"}.get(
        data.get("source"), "shakespeare"
    ),
    "bertlab.data.cola.CoLADataModule": lambda data: "cola",
}


def _move(cfg: DictConfig, old: str, new: str) -> bool:
    value = OmegaConf.select(cfg, old, default=None, throw_on_missing=False)
    parent, _, leaf = old.rpartition(".")
    node = OmegaConf.select(cfg, parent) if parent else cfg
    if not isinstance(node, DictConfig) or leaf not in node:
        return False
    with open_dict(cfg):
        del node[leaf]
        if OmegaConf.select(cfg, new, default=None) is None:
            OmegaConf.update(cfg, new, value, force_add=True)
    return True


def _replace_data(cfg: DictConfig) -> str | None:
    """The old data section rebased on its replacement preset; the old values kept where keys match."""
    choose = REPLACED.get(cfg.data.get("_target_"))
    if choose is None:
        return None
    preset = choose(cfg.data)
    data = compose_train([f"data={preset}"]).data
    with open_dict(data):
        for key, value in OmegaConf.to_container(cfg.data, resolve=False).items():  # keep ${...} as written
            if key != "_target_" and key in data:
                data[key] = value
    with open_dict(cfg):
        cfg.data = data
    return preset


def upgrade(cfg: DictConfig) -> list[str]:
    """Upgrade a saved run config in place; returns what was changed (empty for a current config)."""
    changes = []
    for old, new in RENAMED.items():
        if _move(cfg, old, new):
            changes.append(f"{old} → {new}")
    if "data" in cfg and (preset := _replace_data(cfg)) is not None:
        changes.append(f"data: its datamodule class is gone, read as data={preset}")
    return changes


def load_run_config(run_dir: str | Path) -> DictConfig:
    """``<run_dir>/.hydra/config.yaml``, upgraded to today's keys, with the tokenizer the run saved
    (``<run_dir>/tokenizer``: a trained vocabulary is not rebuilt). A ``CheckpointError`` if it is absent."""
    path = Path(run_dir) / ".hydra" / "config.yaml"
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a bertlab run directory (no .hydra/config.yaml)")
    cfg = OmegaConf.load(path)
    changes = upgrade(cfg)
    if changes:
        log.warning("%s was written by an older bertlab; read with: %s", path, "; ".join(changes))
    with open_dict(cfg):
        cfg.tokenizer = {
            "_target_": "bertlab.tokenization.PretrainedTokenizer",
            "name_or_path": str(Path(run_dir) / "tokenizer"),
        }
    return cfg


@dataclass
class RebuiltRun:
    """A finished run's parts with a checkpoint's weights loaded (what export and predict start from)."""

    cfg: DictConfig
    datamodule: Any
    module: Any
    checkpoint: Path
    global_step: int | None


def rebuild_run(run_dir: str | Path, checkpoint: str | Path | None = None) -> RebuiltRun:
    """The run's module as ``bertlab-train`` built it, with ``checkpoint``'s weights (default: the one
    :func:`~bertlab.resume.find_checkpoint` picks). Uncompiled: export and predict pass over inputs once."""
    import torch

    from bertlab.build import build
    from bertlab.resume import check_readable, find_checkpoint

    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    checkpoint = check_readable(Path(checkpoint)) if checkpoint else find_checkpoint(run_dir)
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(run_dir)
        cfg.compile = False
    datamodule, module = build(cfg)
    module.load_state_dict(saved["state_dict"])
    return RebuiltRun(cfg, datamodule, module, checkpoint, saved.get("global_step"))
