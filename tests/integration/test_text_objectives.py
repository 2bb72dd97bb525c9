"""Every pretraining objective and every RoBERTa input format / masking mode smoke-trains on data=text."""

from __future__ import annotations

import math

import pytest

from bertlab.train import train

# reviews.txt trains (blank-line documents), news.jsonl is validation and test (one document per record)
TEXT = [
    "data=text",
    "data.files=[text/reviews.txt]",
    "data.val_files=[text/news.jsonl]",
    "data.test_files=[text/news.jsonl]",
    "data.max_length=24",
    "data.batch_size=2",
    "data.tokenize_workers=1",
]
RUNS = {
    "mlm": ["objective=mlm"],
    "mlm_whole_words_static": [
        "objective=mlm",
        "data.masking=static",
        "data.dupe_factor=2",
        "data.masking_unit=word",
    ],
    "nsp": ["objective=nsp"],
    "nsp_sentence_pair": ["objective=nsp", "data.format=sentence_pair"],
    "sop": ["objective=sop"],
    "rtd": ["objective=rtd", "objective.module.generator_ratio=0.5"],
    "clm": ["objective=clm", "model=gpt2_tiny"],
    "full_sentences": ["objective=mlm", "data.format=full_sentences"],
    "doc_sentences": ["objective=mlm", "data.format=doc_sentences"],
}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_objective_smoke_trains_on_text(compose, run):
    cfg = compose("debug=smoke", *TEXT, *RUNS[run], "test=true")
    metric = train(cfg)
    assert metric is not None and math.isfinite(metric)
