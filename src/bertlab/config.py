"""Where the Hydra configs live, and structured-config schemas for the groups users edit most.

A schema turns a typo in an experiment YAML (``data.blok_size: 32``) into a compose-time error that names
the key, instead of a silently added value. Schemas mirror the signatures of their ``_target_``; a test
checks that they stay in sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore


def config_dir() -> str:
    """``bertlab/conf`` inside an installed wheel, else the repository's top-level ``conf/``."""
    packaged = Path(__file__).resolve().parent / "conf"
    if packaged.is_dir():
        return str(packaged)
    return str(Path(__file__).resolve().parents[2] / "conf")


@dataclass
class TrainSchema:
    """Run-level keys of ``conf/train.yaml``; the groups are free-form here and have schemas of their own."""

    task_name: str = "train"
    seed: int = 42
    tags: list[str] = field(default_factory=list)
    train: bool = True
    test: bool = True
    ckpt_path: str | None = None
    compile: bool = False
    export: bool = False
    paths: Any = None
    tokenizer: Any = None
    data: Any = None
    model: Any = None
    objective: Any = None
    optimizer: Any = None
    scheduler: Any = None
    trainer: Any = None
    callbacks: Any = None
    logger: Any = None


@dataclass
class ShakespeareDataSchema:
    _target_: str = "bertlab.data.shakespeare.ShakespeareDataModule"
    data_dir: str = "${paths.data_dir}"
    source: str = "t8"
    block_size: int = 128
    batch_size: int = 32
    eval_batch_size: int | None = None
    num_workers: int = 0
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    split_chunk_sentences: int = 64
    split_seed: int = 1234
    seed: int = "${seed}"  # type: ignore[assignment]
    masking: str = "dynamic"
    dupe_factor: int = 10
    format: str = "stream"
    cache_dir: str | None = "${paths.cache_dir}"
    download: bool = True


@dataclass
class TargetSchema:
    _target_: str = "???"


@dataclass
class MLMCollatorSchema:
    _target_: str = "bertlab.data.collators.MLMCollator"
    _partial_: bool = True
    seed: int = "${seed}"  # type: ignore[assignment]
    probability: float = 0.15
    mask_fraction: float = 0.8
    random_fraction: float = 0.1
    pad_to_multiple_of: int | None = None


@dataclass
class MLMObjectiveSchema:
    name: str = "mlm"
    monitor: str = "val/loss"
    monitor_mode: str = "min"
    module: TargetSchema = field(default_factory=TargetSchema)
    collator: MLMCollatorSchema = field(default_factory=MLMCollatorSchema)


def register_schemas() -> None:
    """Idempotent; called before any compose (the CLI entry points and the tests)."""
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainSchema)
    cs.store(group="data", name="shakespeare_schema", node=ShakespeareDataSchema)
    cs.store(group="objective", name="mlm_schema", node=MLMObjectiveSchema)
