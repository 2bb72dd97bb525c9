"""Configuration mistakes fail before training with the offending keys named."""

from __future__ import annotations

import pytest
from hydra.errors import InstantiationException

from bertlab.errors import ConfigError, DataError
from bertlab.train import build
from tests.conftest import SMALL_SPLITS


def test_block_size_above_the_position_limit_names_both_keys(compose):
    cfg = compose("debug=smoke", *SMALL_SPLITS, "data.max_length=64", "model.max_position_embeddings=32")
    with pytest.raises(ConfigError, match=r"data\.max_length=64.*model\.max_position_embeddings=32"):
        build(cfg)


def test_unknown_model_field_is_rejected(compose):
    cfg = compose("debug=smoke", "+model.hiden_size=64")
    with pytest.raises(
        InstantiationException, match="model.hiden_size is not a field of transformers' BertConfig"
    ):
        build(cfg)


def test_missing_data_offline_names_path_and_url(compose, tmp_path):
    cfg = compose("debug=smoke", "data=shakespeare", "data.download=false", data_dir=tmp_path)
    datamodule, _ = build(cfg)
    with pytest.raises(DataError) as err:
        datamodule.prepare_data()
    assert str(tmp_path / "shakespeare" / "t8.shakespeare.txt") in str(err.value)
    assert "ocw.mit.edu" in str(err.value)


def test_ddp_inside_a_multirun_is_refused_with_what_to_use_instead(compose):
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import read_write

    from bertlab.train import check_launch

    cfg = compose("trainer=ddp")
    with read_write(cfg.hydra):
        cfg.hydra.mode = RunMode.MULTIRUN
    HydraConfig.instance().set_config(cfg)
    with pytest.raises(ConfigError, match="ddp_spawn"):
        check_launch(cfg)


def test_resume_modes(tmp_path):
    from bertlab.resume import CheckpointError, resolve_checkpoint

    assert resolve_checkpoint("auto", None, tmp_path) is None
    assert resolve_checkpoint("never", None, tmp_path) is None
    with pytest.raises(CheckpointError, match="resume=must"):
        resolve_checkpoint("must", None, tmp_path)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        resolve_checkpoint("auto", str(tmp_path / "missing.ckpt"), tmp_path)
    corrupt = tmp_path / "checkpoints" / "last.ckpt"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=f"checkpoint {corrupt} is unreadable"):
        resolve_checkpoint("auto", None, tmp_path)
