"""Configuration mistakes fail before training with the offending keys named."""

from __future__ import annotations

import pytest
from hydra.errors import InstantiationException

from bertlab.data.files import DataFileError
from bertlab.models.encoder import ConfigKeyError
from bertlab.train import build
from tests.conftest import SMALL_SPLITS


def test_block_size_above_the_position_limit_names_both_keys(compose):
    cfg = compose("debug=smoke", *SMALL_SPLITS, "data.block_size=64", "model.max_position_embeddings=32")
    with pytest.raises(ConfigKeyError, match=r"data\.block_size.*64.*model\.max_position_embeddings=32"):
        build(cfg)


def test_unknown_model_field_is_rejected(compose):
    cfg = compose("debug=smoke", "+model.hiden_size=64")
    with pytest.raises(InstantiationException, match="model.hiden_size is not a field of transformers' BertConfig"):
        build(cfg)


def test_missing_data_offline_names_path_and_url(compose, tmp_path):
    cfg = compose("debug=smoke", "data.download=false", data_dir=tmp_path)
    datamodule, _ = build(cfg)
    with pytest.raises(DataFileError) as err:
        datamodule.prepare_data()
    assert str(tmp_path / "shakespeare" / "t8.shakespeare.txt") in str(err.value)
    assert "ocw.mit.edu" in str(err.value)
