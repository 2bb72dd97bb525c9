"""Runs trained by an older bertlab still export and evaluate: their saved config is upgraded to today's keys.

The fixtures in ``tests/fixtures/old_runs`` are ``.hydra/config.yaml`` files written by bertlab-train at commit
d1da7b3 (before ``data.max_length``, ``objective.pairing``, run-level ``fast_dropout`` and ``data=text``).
"""

from __future__ import annotations

import inspect
import logging
import shutil
from pathlib import Path

import pytest
from hydra.utils import get_class
from omegaconf import OmegaConf, open_dict
from safetensors.torch import load_file

from bertlab.config import compose_train
from bertlab.export import export_run
from bertlab.run_config import load_run_config, upgrade
from bertlab.train import train
from tests.conftest import FIXTURES, SMALL_SPLITS, save_run_config

OLD = FIXTURES / "old_runs"
# what bertlab-train was given for each fixture run (its .hydra/overrides.yaml)
OVERRIDES = ["trainer.max_steps=2", "trainer.limit_val_batches=2", "trainer.val_check_interval=null"]
# data defaults changed since the fixtures were saved (an old run keeps its saved value; none changes training);
# squad_v2_local's eval_batch_size was 64, slower on CPU (benchmarks/squad_eval.py)
CHANGED_DEFAULTS = {"squad_v2_local": {"eval_batch_size": 16}}


def _section(cfg, key: str):
    value = OmegaConf.select(cfg, key)
    return OmegaConf.to_container(value, resolve=False) if OmegaConf.is_config(value) else value


@pytest.mark.parametrize("experiment", ["mlm_nsp_shakespeare", "cola", "squad_v2_local"])
def test_an_old_saved_config_reads_as_todays_composition_of_the_same_experiment(experiment):
    old = OmegaConf.load(OLD / f"{experiment}.yaml")
    changes = upgrade(old)
    assert changes, "the fixture predates every rename: something must have been upgraded"
    today = compose_train([f"experiment={experiment}", *OVERRIDES, "+trainer.limit_test_batches=1"])
    for key in ["model", "fast_dropout", "objective.pairing", "optimizer", "tokenizer", "seed"]:
        assert _section(old, key) == _section(today, key), key
    # data: the same values; keys added since hold their constructor defaults, so an old run reads as it trained
    was, now = {**_section(old, "data"), **CHANGED_DEFAULTS.get(experiment, {})}, _section(today, "data")
    assert {k: now[k] for k in was} == was
    defaults = inspect.signature(get_class(now["_target_"])).parameters
    assert {k: now[k] for k in now.keys() - was.keys()} == {
        k: defaults[k].default for k in now.keys() - was.keys()
    }


def test_a_current_config_is_left_as_it_is():
    cfg = compose_train(["experiment=mlm_nsp_shakespeare"])
    before = OmegaConf.to_yaml(cfg)
    assert upgrade(cfg) == []
    assert OmegaConf.to_yaml(cfg) == before


def _as_written_by_d1da7b3(run_dir: Path) -> None:
    """Rewrite a run's config with the keys of the older release (see the module docstring)."""
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    with open_dict(cfg):
        cfg.model.fast_dropout = cfg.pop("fast_dropout")
        cfg.objective.collator.pairing = cfg.objective.pop("pairing")
        data = OmegaConf.to_container(cfg.data, resolve=False)
        for key in ["files", "val_files", "test_files", "hf", "text_field", "boundary", "cleaner"]:
            del data[key]
        data.update(_target_="bertlab.data.shakespeare.ShakespeareDataModule", source="t8")
        data["block_size"] = data.pop("max_length")
        cfg.data = data
    OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")


def test_a_run_saved_by_an_older_release_exports_the_same_weights(compose, tmp_path, caplog):
    cfg = compose("debug=smoke", *SMALL_SPLITS, "objective=nsp", "data.max_length=32", "test=false")
    train(cfg)
    run_dir = save_run_config(cfg, Path(cfg.paths.output_dir))
    old_dir = tmp_path / "old_run"
    shutil.copytree(run_dir, old_dir, ignore=shutil.ignore_patterns("hf"))
    _as_written_by_d1da7b3(old_dir)

    with caplog.at_level(logging.WARNING, logger="bertlab.run_config"):
        assert load_run_config(old_dir).data.max_length == 32
    assert "data.block_size → data.max_length" in caplog.text
    assert "read as data=shakespeare" in caplog.text

    new, old = export_run(run_dir, out=tmp_path / "new_hf"), export_run(old_dir, out=tmp_path / "old_hf")
    a, b = load_file(new / "model.safetensors"), load_file(old / "model.safetensors")
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a)
