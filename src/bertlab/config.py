"""Where the Hydra configs live, and structured-config schemas for the data and objective groups.

A schema turns a typo in an experiment YAML (``data.blok_size: 32``) into a compose-time error that names
the key, instead of a silently added value. Each default has one home, the constructor: the schemas are
generated from the constructors' signatures (names, defaults, types; :func:`schema_for`), and a YAML file in
``conf/data`` or ``conf/objective`` holds only what differs from them, plus defaults a user should see, each
with a comment saying why (``tests/unit/test_config_defaults.py`` enforces both).

Adding a datamodule or an objective: write the class (every user-facing setting a constructor argument with
its default), add one line to ``DATA`` or ``OBJECTIVES`` below, and start the YAML's defaults list with
``<name>_schema``. Arguments the composition root passes (built parts, what the data gives the objective)
belong in ``INJECTED``; arguments that point into the run config (``data_dir``, ``seed``) in ``INTERPOLATED``.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf


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
    fast_dropout: bool = True
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


# --- generated from the constructors ---------------------------------------------------------------------

# Values that come from elsewhere in the run config rather than from a constructor default.
INTERPOLATED = {"data_dir": "${paths.data_dir}", "seed": "${seed}"}
# Arguments the composition root passes, never the config: built parts and what another part provides.
INJECTED = {
    "data": {"pairing"},  # objective.pairing
    "module": {
        "encoder",
        "optimizer",
        "scheduler",
        "id2label",
        "task",
        "metrics",
        "version_2_with_negative",
        "window_settings",
        "pooler_state",
        "text_fields",
    },  # datamodule.module_kwargs(), and the pretrained encoder's pooler (build.encoder_inputs)
    "collator": {"tokenizer", "masking_unit"},  # data.masking_unit (bertlab.data.collators.make_collator)
}
_SIMPLE = (int, float, str, bool)


def _config_type(hint: Any) -> Any:
    """The annotation OmegaConf can validate (scalars, optional scalars, lists of scalars), else ``Any``."""
    if hint in _SIMPLE:
        return hint
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return inner | None if inner in _SIMPLE else Any
    return Any


def _hints(cls: type) -> dict[str, Any]:
    """Constructor annotations resolved one by one (one unresolvable name must not hide the others)."""
    namespace = vars(sys.modules[cls.__module__])
    hints = {}
    for param in inspect.signature(cls).parameters.values():
        annotation = param.annotation
        try:
            hints[param.name] = eval(annotation, namespace) if isinstance(annotation, str) else annotation
        except Exception:  # a name imported only for type checking: the schema leaves that key untyped
            hints[param.name] = Any
    return hints


def schema_for(target: str, name: str, kind: str) -> type:
    """A dataclass whose fields are ``target``'s constructor arguments with their defaults and types.

    ``kind`` is ``data``, ``module`` or ``collator`` (a partial: called with the tokenizer); its ``INJECTED``
    arguments are left out, ``INTERPOLATED`` ones point into the run config. An argument without a default is required (``???``).
    """
    cls = get_class(target)
    hints = _hints(cls)
    fields: list[tuple[str, Any, Any]] = [("_target_", str, field(default=target))]
    if kind == "collator":
        fields.append(("_partial_", bool, field(default=True)))
    for param in inspect.signature(cls).parameters.values():
        if param.name in INJECTED[kind] or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = param.default if param.default is not param.empty else "???"  # OmegaConf: mandatory
        default = INTERPOLATED.get(param.name, default)
        if isinstance(default, tuple | list):
            fields.append((param.name, Any, field(default_factory=lambda d=default: list(d))))
        else:
            fields.append((param.name, _config_type(hints.get(param.name, Any)), field(default=default)))
    return make_dataclass(name, fields)


# One entry per class a config group can target: adding a datamodule or objective is one line here.
DATA = {
    "text": "bertlab.data.text.TextDataModule",
    "classification": "bertlab.data.classification_datamodule.ClassificationDataModule",  # cola, glue_* too
    "squad_v2": "bertlab.data.squad_datamodule.SQuADv2DataModule",
}
# objective schema name → (LightningModule, collator, objective-level defaults)
OBJECTIVES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "mlm": ("bertlab.objectives.masked_lm.MaskedLanguageModeling", "bertlab.data.collators.MLMCollator", {}),
    "sentence_pair": (
        "bertlab.objectives.sentence_pair.SentencePairPretraining",
        "bertlab.data.pair_collator.PairMLMCollator",
        {"pairing": "nsp"},
    ),
    "rtd": (
        "bertlab.objectives.replaced_token_detection.ReplacedTokenDetection",
        "bertlab.data.collators.MLMCollator",
        {},
    ),
    "clm": ("bertlab.objectives.causal_lm.CausalLanguageModeling", "bertlab.data.collators.CLMCollator", {}),
    "sequence_classification": (
        "bertlab.objectives.sequence_classification.SequenceClassification",
        "bertlab.data.classification.ClassificationCollator",
        {"monitor": "val/mcc", "monitor_mode": "max"},
    ),
    "extractive_qa": (
        "bertlab.objectives.extractive_qa.ExtractiveQuestionAnswering",
        "bertlab.data.squad_features.SpanCollator",
        {"monitor": "val/f1", "monitor_mode": "max"},
    ),
}


@dataclass
class ObjectiveSchema:
    """``conf/objective/<name>.yaml``: what to monitor, the module, its collator and its report callbacks."""

    name: str = "???"
    monitor: str = "val/loss"
    monitor_mode: str = "min"
    module: Any = None  # generated per objective (objective_schema)
    collator: Any = None
    reports: dict[str, Any] = field(default_factory=dict)
    pairing: str | None = None  # nsp | sop: the sentence pairs the datamodule must build; null: sequences


def objective_schema(name: str) -> type:
    """``ObjectiveSchema`` with the module and collator fields generated from their constructors."""
    module, collator, defaults = OBJECTIVES[name]
    module_schema = schema_for(module, f"{name}_module_schema", "module")
    collator_schema = schema_for(collator, f"{name}_collator_schema", "collator")
    return make_dataclass(
        f"{name}_objective_schema",
        [
            ("name", str, field(default=name)),
            ("module", module_schema, field(default_factory=module_schema)),
            ("collator", collator_schema, field(default_factory=collator_schema)),
            *((key, Any, field(default=value)) for key, value in defaults.items()),
        ],
        bases=(ObjectiveSchema,),
    )


def user_groups() -> str:
    """Config groups and their options, one line each, leaving out Hydra's groups and bertlab's schemas
    (``bertlab-train --help``: Hydra's own listing would show every ConfigStore entry as an option)."""
    root = Path(config_dir())
    lines = []
    for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "hydra"):
        options = sorted(p.stem for p in group.glob("*.yaml"))
        if options:
            lines.append(f"{group.name}: {', '.join(options)}")
    return "\n".join(lines)


def register_schemas() -> None:
    """Idempotent; called before any compose (the CLI entry points and the tests).

    Each group file starts its defaults list with ``<name>_schema`` (e.g. ``conf/data/cola.yaml``).
    """
    OmegaConf.register_new_resolver("bertlab_groups", user_groups, replace=True)  # conf/hydra/default.yaml
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainSchema)
    for name, target in DATA.items():
        cs.store(group="data", name=f"{name}_schema", node=schema_for(target, f"{name}_data_schema", "data"))
    for name in OBJECTIVES:
        cs.store(group="objective", name=f"{name}_schema", node=objective_schema(name))


def compose_train(overrides: list[str]) -> DictConfig:
    """Compose ``conf/train.yaml`` with command-line style ``overrides``, as ``bertlab-train`` would.

    Works inside a running Hydra app too (the global Hydra state is saved and restored around it).
    """
    register_schemas()
    state = GlobalHydra.instance()
    saved = state.hydra if state.is_initialized() else None
    state.clear()
    try:
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            return compose("train", overrides=overrides)
    finally:
        state.hydra = saved
