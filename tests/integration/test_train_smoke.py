"""Every experiment composes and smoke-trains on CPU with a tiny model on the fixture corpus."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from bertlab.config import config_dir
from bertlab.train import train
from tests.conftest import FIXTURE_DATA, SMALL_SPLITS

EXPERIMENTS = sorted(p.stem for p in (Path(config_dir()) / "experiment").glob("*.yaml"))
# Experiments whose data is not Shakespeare bring their own smoke overrides (fixture files) here.
SQUAD_SMOKE = [
    "data.max_length=48",
    "data.doc_stride=8",
    "data.max_query_length=16",
    "trainer.limit_val_batches=null",
    "trainer.limit_test_batches=null",
]
SMOKE_OVERRIDES: dict[str, list[str]] = {
    # tests/fixtures/data/cola/*.tsv; debug=smoke swaps in the tiny random encoder (which has no from_scratch)
    "cola": [],
    "cola_scratch": ["~model.from_scratch"],
    # tests/fixtures/data/classification/*.csv (a header, quoted texts) and the GLUE fixtures (6 rows: batch 2)
    "classification": [
        f"data.train_file={FIXTURE_DATA}/classification/train.csv",
        f"data.validation_file={FIXTURE_DATA}/classification/dev.csv",
        "data.text_fields=[review]",
        "data.label_field=sentiment",
    ],
    "glue": ["data.batch_size=2"],
    # tests/fixtures/data/korquad/KorQuAD_v1.0_{train,dev}.json (hand-written, official format)
    "korquad": ["tokenizer=wordpiece_korean", "~tokenizer.name_or_path", *SQUAD_SMOKE],
    # tests/fixtures/data/korean/: hand-written law-like Korean text in the real corpus's layout
    "korean_mlm": [
        *(o for o in SMALL_SPLITS if not o.startswith("data=")),  # keep data=korean_law
        "data.max_length=32",
        "data.batch_size=2",
    ],
    # tests/fixtures/data/nsmc/ratings_*.txt (official layout); a Korean vocabulary trained on it
    "korean_classification": ["tokenizer=wordpiece_korean", "~tokenizer.name_or_path", "data.batch_size=4"],
    # tests/fixtures/data/squad/: hand-written SQuAD 1.1 / 2.0 files under the official names
    **{
        name: [f"paths.data_dir={FIXTURE_DATA / 'squad'}", *SQUAD_SMOKE]
        for name in ("squad_v2", "squad_v2_local")
    },
    # debug=smoke swaps in bert_tiny: keep each experiment's architecture at tiny size instead
    "gpt_shakespeare": ["model=gpt2_tiny", *SMALL_SPLITS, "data.max_length=32"],
    "albert_sop_shakespeare": ["model=albert_tiny", *SMALL_SPLITS, "data.max_length=32"],
    # bert_tiny has 2 heads: a 1/2-width generator (1 head) instead of ELECTRA's 1/4
    "electra_shakespeare": ["objective.module.generator_ratio=0.5", *SMALL_SPLITS, "data.max_length=32"],
    # data=shakespeare_tiny: the fixture's tiny corpus holds 3 training blocks of 32 tokens (static masking copies them)
    "roberta_dynamic_masking": [
        *SMALL_SPLITS[1:],
        "data.max_length=32",
        "data.batch_size=2",
    ],  # its tiny data
}


def test_default_run_trains_and_checkpoints_load_with_weights_only(compose, tmp_path):
    cfg = compose("debug=smoke", *SMALL_SPLITS, "data.max_length=32")
    metric = train(cfg)
    assert metric is not None and math.isfinite(metric)
    checkpoints = sorted((tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    assert any(p.name == "last.ckpt" for p in checkpoints)
    state = torch.load(checkpoints[0], weights_only=True, map_location="cpu")
    assert any(k.startswith("encoder.") for k in state["state_dict"])
    assert (tmp_path / "run" / "tokenizer" / "tokenizer.json").is_file()
    assert (tmp_path / "run" / "csv" / "metrics.csv").is_file()


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_smoke_trains(compose, experiment):
    overrides = SMOKE_OVERRIDES.get(experiment, [*SMALL_SPLITS, "data.max_length=32"])
    cfg = compose(f"experiment={experiment}", "debug=smoke", *overrides)
    metric = train(cfg)
    assert metric is not None and math.isfinite(metric)
