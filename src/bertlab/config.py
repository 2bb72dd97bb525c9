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
    resume: str = "auto"
    compile: bool = False
    cpu_allocator: str = "cached"
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
    inspect: Any = None  # only set by conf/inspect.yaml (bertlab-inspect)


# --- data -------------------------------------------------------------------------------------------------


@dataclass
class DataSchema:
    """Keys every datamodule takes."""

    _target_: str = "???"
    data_dir: str = "${paths.data_dir}"
    batch_size: int = 32
    eval_batch_size: int | None = None
    num_workers: int = 0
    seed: int = "${seed}"  # type: ignore[assignment]
    download: bool = True


@dataclass
class ShakespeareDataSchema(DataSchema):
    _target_: str = "bertlab.data.shakespeare.ShakespeareDataModule"
    source: str = "t8"
    max_length: int = 128
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    split_chunk_sentences: int = 64
    split_seed: int = 1234
    masking: str = "dynamic"
    dupe_factor: int = 10
    format: str | None = None  # stream | segment_pair | sentence_pair | full_sentences | doc_sentences
    short_seq_prob: float = 0.1
    masking_unit: str = "token"  # token | word (whole-word masking: every ## piece of a word together)
    cache_dir: str | None = "${paths.cache_dir}"


@dataclass
class CoLADataSchema(DataSchema):
    _target_: str = "bertlab.data.cola.CoLADataModule"
    max_length: int = 128
    bucket_batches: int = 50


@dataclass
class SQuADv2DataSchema(DataSchema):
    _target_: str = "bertlab.data.squad_datamodule.SQuADv2DataModule"
    split: str = "official"
    max_length: int = 384
    doc_stride: int = 128
    max_query_length: int = 64
    max_bad_answer_fraction: float = 0.01
    bucket_batches: int = 50
    unanswerable_repeats: int = 1
    answer_removed_negatives: float = 0.0


# --- collators -------------------------------------------------------------------------------------------


@dataclass
class CollatorSchema:
    """A collator factory, called with the built tokenizer."""

    _target_: str = "???"
    _partial_: bool = True
    pad_to_multiple_of: int | None = None


@dataclass
class MLMCollatorSchema(CollatorSchema):
    _target_: str = "bertlab.data.collators.MLMCollator"
    seed: int = "${seed}"  # type: ignore[assignment]
    probability: float = 0.15
    mask_fraction: float = 0.8
    random_fraction: float = 0.1


@dataclass
class PairCollatorSchema(MLMCollatorSchema):
    _target_: str = "bertlab.data.pair_collator.PairMLMCollator"


@dataclass
class CLMCollatorSchema(CollatorSchema):
    _target_: str = "bertlab.data.collators.CLMCollator"


@dataclass
class ClassificationCollatorSchema(CollatorSchema):
    _target_: str = "bertlab.data.classification.ClassificationCollator"


@dataclass
class SpanCollatorSchema(CollatorSchema):
    _target_: str = "bertlab.data.squad_features.SpanCollator"


# --- objectives: the LightningModule's extra arguments and its collator ------------------------------------


@dataclass
class TargetSchema:
    _target_: str = "???"


@dataclass
class RTDModuleSchema(TargetSchema):
    _target_: str = "bertlab.objectives.replaced_token_detection.ReplacedTokenDetection"
    generator_ratio: float = 0.25
    disc_weight: float = 50.0
    seed: int = "${seed}"  # type: ignore[assignment]


@dataclass
class SequenceClassificationModuleSchema(TargetSchema):
    _target_: str = "bertlab.objectives.sequence_classification.SequenceClassification"
    num_labels: int | None = None
    classifier_dropout: float | None = None
    pretrained_pooler: bool = True
    reinit_top_layers: int = 0


@dataclass
class ExtractiveQAModuleSchema(TargetSchema):
    _target_: str = "bertlab.objectives.extractive_qa.ExtractiveQuestionAnswering"
    n_best: int = 20
    max_answer_length: int = 30
    null_threshold: float = 0.0
    char_f1: bool = False


@dataclass
class ObjectiveSchema:
    """``conf/objective/<name>.yaml``: what to monitor, the module, its collator and its report callbacks."""

    name: str = "???"
    monitor: str = "val/loss"
    monitor_mode: str = "min"
    module: TargetSchema = field(default_factory=TargetSchema)
    collator: CollatorSchema = field(default_factory=CollatorSchema)
    reports: dict[str, Any] = field(default_factory=dict)
    pairing: str | None = None  # nsp | sop: the sentence pairs the datamodule must build; null: sequences


@dataclass
class MLMObjectiveSchema(ObjectiveSchema):
    name: str = "mlm"
    collator: MLMCollatorSchema = field(default_factory=MLMCollatorSchema)


@dataclass
class SentencePairObjectiveSchema(ObjectiveSchema):
    name: str = "nsp"
    pairing: str | None = "nsp"
    collator: PairCollatorSchema = field(default_factory=PairCollatorSchema)


@dataclass
class RTDObjectiveSchema(ObjectiveSchema):
    name: str = "rtd"
    module: RTDModuleSchema = field(default_factory=RTDModuleSchema)
    collator: MLMCollatorSchema = field(default_factory=MLMCollatorSchema)


@dataclass
class CLMObjectiveSchema(ObjectiveSchema):
    name: str = "clm"
    collator: CLMCollatorSchema = field(default_factory=CLMCollatorSchema)


@dataclass
class SequenceClassificationObjectiveSchema(ObjectiveSchema):
    name: str = "sequence_classification"
    monitor: str = "val/mcc"
    monitor_mode: str = "max"
    module: SequenceClassificationModuleSchema = field(default_factory=SequenceClassificationModuleSchema)
    collator: ClassificationCollatorSchema = field(default_factory=ClassificationCollatorSchema)


@dataclass
class ExtractiveQAObjectiveSchema(ObjectiveSchema):
    name: str = "extractive_qa"
    monitor: str = "val/f1"
    monitor_mode: str = "max"
    module: ExtractiveQAModuleSchema = field(default_factory=ExtractiveQAModuleSchema)
    collator: SpanCollatorSchema = field(default_factory=SpanCollatorSchema)


SCHEMAS = {
    "data": {"shakespeare": ShakespeareDataSchema, "cola": CoLADataSchema, "squad_v2": SQuADv2DataSchema},
    "objective": {
        "mlm": MLMObjectiveSchema,
        "sentence_pair": SentencePairObjectiveSchema,
        "rtd": RTDObjectiveSchema,
        "clm": CLMObjectiveSchema,
        "sequence_classification": SequenceClassificationObjectiveSchema,
        "extractive_qa": ExtractiveQAObjectiveSchema,
    },
}


def register_schemas() -> None:
    """Idempotent; called before any compose (the CLI entry points and the tests).

    Each group file starts its defaults list with ``<name>_schema`` (e.g. ``conf/data/cola.yaml``).
    """
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainSchema)
    for group, schemas in SCHEMAS.items():
        for name, node in schemas.items():
            cs.store(group=group, name=f"{name}_schema", node=node)
