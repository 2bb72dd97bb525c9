"""data=squad: extractive QA on any SQuAD-format files, v1.1 or v2.0, .json or .json.gz."""

from __future__ import annotations

import gzip
import shutil

import pytest
from hydra.utils import instantiate

from bertlab.data.squad_datamodule import SQuADv2DataModule
from bertlab.errors import ConfigError, DataError
from bertlab.train import train
from tests.conftest import FIXTURE_DATA
from tests.integration.test_train_smoke import SQUAD_SMOKE

SQUAD = FIXTURE_DATA / "squad"
V11_DEV = SQUAD / "squad_v1.1" / "dev-v1.1.json"
V2_TRAIN = SQUAD / "squad_v2" / "train-v2.0.json"


def _datamodule(compose, train_file, validation_file):
    cfg = compose("data=squad", f"data.train_file={train_file}", f"data.validation_file={validation_file}")
    return instantiate(cfg.data)


def test_version_2_with_negative_follows_the_data_and_gz_is_found(compose, tmp_path):
    assert _datamodule(compose, V11_DEV, V11_DEV).module_kwargs()["version_2_with_negative"] is False
    compressed = tmp_path / "train.json.gz"
    compressed.write_bytes(gzip.compress(V2_TRAIN.read_bytes()))
    datamodule = _datamodule(compose, tmp_path / "train.json", V11_DEV)  # only train.json.gz exists
    datamodule.prepare_data()
    assert datamodule.module_kwargs()["version_2_with_negative"] is True
    assert len(datamodule.examples["val"]) == 3


def test_missing_or_unset_files_are_clear_errors(compose, tmp_path):
    with pytest.raises(DataError, match="nope.json: no such file"):
        _datamodule(compose, tmp_path / "nope.json", V11_DEV).prepare_data()
    with pytest.raises(ConfigError, match="data.split=files reads data.train_file and data.validation_file"):
        SQuADv2DataModule(str(tmp_path), split="files", train_file=str(V2_TRAIN))


def test_trains_on_user_files_and_scores(compose, tmp_path):
    train_file = tmp_path / "mine" / "train.json"
    train_file.parent.mkdir()
    shutil.copy(V2_TRAIN, train_file)
    cfg = compose(
        "experiment=squad_v2",
        "data=squad",
        f"data.train_file={train_file}",
        f"data.validation_file={SQUAD / 'squad_v2' / 'dev-v2.0.json'}",
        "debug=smoke",
        *SQUAD_SMOKE,
    )
    assert train(cfg) is not None
