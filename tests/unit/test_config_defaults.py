"""One home for each default: the constructor. Schemas are generated from the constructors' signatures, and a
preset YAML restates a default only with a comment that tells the user why it is shown."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest
import yaml
from hydra.utils import get_class

from bertlab import config

CONF = Path(config.config_dir())
LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_]\w*):\s*(?P<value>[^#]*?)\s*(?P<comment>#.*)?$")


def constructor_defaults(target: str, kind: str) -> dict[str, object]:
    parameters = inspect.signature(get_class(target)).parameters.values()
    return {p.name: p.default for p in parameters if p.name not in config.INJECTED[kind]}


def schemas() -> list[tuple[str, str, type]]:
    found = [
        (target, "data", config.schema_for(target, name, "data")) for name, target in config.DATA.items()
    ]
    for name in config.OBJECTIVES:
        schema = config.objective_schema(name)()
        found.append((schema.module._target_, "module", type(schema.module)))
        found.append((schema.collator._target_, "collator", type(schema.collator)))
    return found


@pytest.mark.parametrize(
    ("target", "kind", "schema"), schemas(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_schema_defaults_are_the_constructor_defaults(target, kind, schema):
    defaults = constructor_defaults(target, kind)
    fields = {f.name: f for f in dataclasses.fields(schema) if not f.name.startswith("_")}
    assert set(fields) == set(defaults), f"{target}: schema keys differ from the constructor's arguments"
    for name, default in defaults.items():
        field = fields[name]
        value = field.default_factory() if field.default is dataclasses.MISSING else field.default
        if name in config.INTERPOLATED:
            assert value == config.INTERPOLATED[name]
        elif default is inspect.Parameter.empty:
            assert value is dataclasses.MISSING or value == "???", name
        else:
            assert value == (list(default) if isinstance(default, tuple) else default), name


def yaml_values(path: Path) -> list[tuple[str, object, str | None, int]]:
    """(dotted key, value, comment, line number) of every scalar line of a YAML file."""
    found, stack = [], []  # stack: (indent, key) of the enclosing mappings
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = LINE.match(line)
        if not match:
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key = ".".join([k for _, k in stack] + [match["key"]])
        if match["value"]:
            found.append((key, yaml.safe_load(match["value"]), match["comment"], number))
        else:
            stack.append((indent, match["key"]))
    return found


def target_of(path: Path, node: dict) -> str:
    """The node's ``_target_``, or that of the preset it extends (``defaults: [classification, _self_]``)."""
    if "_target_" in node:
        return node["_target_"]
    base = next(d for d in node["defaults"] if isinstance(d, str) and d != "_self_")
    return target_of(path.parent / f"{base}.yaml", yaml.safe_load((path.parent / f"{base}.yaml").read_text()))


def restated_defaults(path: Path) -> list[str]:
    """Lines that repeat a constructor default without a comment saying why the user should see it."""
    document = yaml.safe_load(path.read_text())
    nodes = (
        {"": document}
        if path.parent.name == "data"
        else {"module.": document.get("module"), "collator.": document.get("collator")}
    )
    problems = []
    for prefix, node in nodes.items():
        if not node:
            continue
        defaults = constructor_defaults(target_of(path, node), prefix.rstrip(".") or "data")
        for key, value, comment, number in yaml_values(path):
            name = key.removeprefix(prefix)
            if not key.startswith(prefix) or "." in name or name not in defaults or comment:
                continue
            default = defaults[name]
            if default is not inspect.Parameter.empty and value == default:
                problems.append(
                    f"{path.relative_to(CONF)}:{number} {key}: {value!r} is the constructor default"
                )
    return problems


PRESETS = sorted((CONF / "data").glob("*.yaml")) + sorted((CONF / "objective").glob("*.yaml"))


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_presets_restate_no_default_silently(path):
    assert restated_defaults(path) == []


def test_a_silent_restatement_is_reported(tmp_path):
    (tmp_path / "data").mkdir()
    preset = tmp_path / "data" / "cola.yaml"
    preset.write_text(
        "_target_: bertlab.data.classification_datamodule.ClassificationDataModule\nbatch_size: 32\nbucket_batches: 50  # shown\nmax_length: 64\n"
    )
    global CONF
    CONF, saved = tmp_path, CONF
    try:
        assert restated_defaults(preset) == ["data/cola.yaml:2 batch_size: 32 is the constructor default"]
    finally:
        CONF = saved


def test_a_typo_under_objective_module_fails_at_compose_time(compose, tmp_path):
    from hydra.errors import ConfigCompositionException

    (tmp_path / "experiment").mkdir()
    typo = "# @package _global_\ndefaults:\n  - override /objective: extractive_qa\nobjective:\n  module:\n    n_bset: 5\n"
    (tmp_path / "experiment" / "typo.yaml").write_text(typo)
    with pytest.raises(ConfigCompositionException) as err:
        compose(f"hydra.searchpath=[file://{tmp_path}]", "experiment=typo")
    assert "n_bset" in str(err.value.__cause__ or err.value)
