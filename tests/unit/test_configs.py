"""Every config composes and instantiates; schemas catch typos; schemas match their targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from hydra.utils import get_class, instantiate

from bertlab.config import config_dir
from bertlab.precision import resolve_precision
from tests.conftest import FIXTURE_DATA

CONF = Path(config_dir())
GROUPS = [
    "tokenizer",
    "data",
    "model",
    "objective",
    "optimizer",
    "scheduler",
    "trainer",
    "callbacks",
    "logger",
]
OPTIONS = [(g, p.stem) for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]
NEEDS_HARDWARE = {("trainer", "gpu")}
# Options with mandatory keys (???) get fixture values.
REQUIRED = {
    ("data", "classification"): [
        f"data.train_file={FIXTURE_DATA}/classification/train.csv",
        f"data.validation_file={FIXTURE_DATA}/classification/dev.csv",
    ],
    ("data", "text"): ["data.files=[text/reviews.txt]"],
    ("data", "squad"): [
        f"data.train_file={FIXTURE_DATA}/squad/squad_v2/train-v2.0.json",
        f"data.validation_file={FIXTURE_DATA}/squad/squad_v2/dev-v2.0.json",
    ],
}


def _instantiate_group(group: str, node):
    if node is None:
        return None
    if group == "data":
        return instantiate(node)
    if group == "objective":
        get_class(node.module._target_)
        return instantiate(node.collator)
    if group in ("callbacks", "logger"):
        return {name: instantiate(sub) for name, sub in node.items()}
    if group == "trainer":  # Lightning takes the precision that trainer.precision=auto resolves to
        return instantiate(
            node, precision=resolve_precision(node.precision, node.accelerator, 32, 37).precision
        )
    return instantiate(node)


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_group_option_composes_and_instantiates(compose, group, option):
    cfg = compose(f"{group}={option}", *REQUIRED.get((group, option), []))
    if (group, option) in NEEDS_HARDWARE:
        return
    built = _instantiate_group(group, cfg[group])
    if group == "model":
        encoder = built.build(vocab_size=30522, pad_token_id=0)
        assert encoder.config.vocab_size == 30522


@pytest.mark.parametrize("experiment", sorted(p.stem for p in (CONF / "experiment").glob("*.yaml")))
def test_experiment_files_start_with_the_global_package_line(experiment):
    first = (CONF / "experiment" / f"{experiment}.yaml").read_text().splitlines()[0]
    assert first == "# @package _global_"


def test_unknown_key_in_an_experiment_fails_at_compose_time_naming_it(compose, tmp_path):
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "typo.yaml").write_text("# @package _global_\ndata:\n  blok_size: 32\n")
    with pytest.raises(ConfigCompositionException) as err:
        compose(f"hydra.searchpath=[file://{tmp_path}]", "experiment=typo")
    assert "blok_size" in str(err.value.__cause__ or err.value)


def test_unknown_run_level_key_fails(compose, tmp_path):
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "typo.yaml").write_text("# @package _global_\nseeed: 3\n")
    with pytest.raises(ConfigCompositionException) as err:
        compose(f"hydra.searchpath=[file://{tmp_path}]", "experiment=typo")
    assert "seeed" in str(err.value.__cause__ or err.value)
