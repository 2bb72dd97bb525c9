"""Korean end to end and whole-word masking through the composition root, on hand-written fixtures."""

from __future__ import annotations

import math

import pytest

from bertlab.errors import ConfigError
from bertlab.train import train
from tests.conftest import SMALL_SPLITS


@pytest.mark.parametrize(
    "objective", [["objective=sop"], ["objective=rtd", "objective.module.generator_ratio=0.5"]]
)
def test_whole_word_masking_smoke_trains_pair_and_rtd_objectives(compose, objective):
    cfg = compose("debug=smoke", *objective, "data.masking_unit=word", *SMALL_SPLITS, "data.max_length=32")
    metric = train(cfg)
    assert metric is not None and math.isfinite(metric)


def test_whole_word_masking_is_refused_for_an_objective_that_masks_nothing(compose):
    cfg = compose(
        "debug=smoke",
        "objective=clm",
        "model=gpt2_tiny",
        "data.masking_unit=word",
        *SMALL_SPLITS,
        "data.max_length=32",
    )
    with pytest.raises(ConfigError, match="data.masking_unit='word' needs a masked-LM objective"):
        train(cfg)
