"""Korean end to end and whole-word masking through the composition root, on hand-written fixtures."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys

import pytest
from hydra.utils import instantiate

from bertlab.build import build
from bertlab.errors import ConfigError, DataError
from bertlab.train import train
from tests.conftest import FIXTURE_DATA, SMALL_SPLITS

JAMO = re.compile("[\u1100-\u11ff]")  # conjoining jamo: what BERT's normaliser makes of Hangul

# a Korean vocabulary trained on the fixture instead of the encoder's saved one (debug=smoke: a random encoder)
KOREAN_VOCAB = ["tokenizer=wordpiece_korean", "~tokenizer.name_or_path"]
# SMALL_SPLITS without its data=shakespeare: the fixture corpus in tests/fixtures/data/korean/
KOREAN_SPLITS = ["data.val_fraction=0.2", "data.test_fraction=0.2", "data.split_chunk_sentences=4"]
SQUAD_SMOKE = ["data.max_length=48", "data.doc_stride=8", "data.max_query_length=16"]


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


def test_nsmc_preset_skips_empty_reviews_in_training_and_keeps_them_in_evaluation(compose, caplog):
    cfg = compose("experiment=korean_classification", "data=nsmc", "debug=smoke", *KOREAN_VOCAB)
    assert cfg.objective.monitor == "val/accuracy" and cfg.task_name == "nsmc"
    datamodule, module = build(cfg)
    assert list(module.id2label.values()) == ["negative", "positive"]
    datamodule.setup("fit")
    assert len(datamodule.datasets["train"]) == 24 - 2  # two empty documents skipped
    assert len(datamodule.datasets["val"]) == 12  # the empty one kept: [CLS] [SEP]
    assert sorted(datamodule.datasets["val"].lengths)[0] == 2
    assert "2 record(s)" in caplog.text and "1 example(s) with an empty text kept" in caplog.text
    assert math.isfinite(train(cfg))


def test_empty_texts_are_errors_unless_the_preset_says_skip(compose):
    cfg = compose("experiment=korean_classification", "data=nsmc", "debug=smoke", "data.empty_texts=error")
    datamodule = instantiate(cfg.data)
    with pytest.raises(DataError, match=r"ratings_train.txt:6: field 'document' must be a non-empty text"):
        datamodule.examples  # noqa: B018


@pytest.mark.parametrize(
    ("preset", "labels", "metric", "pair"),
    [
        ("klue_ynat", ["IT과학", "경제", "사회", "생활문화", "세계", "스포츠", "정치"], "f1_macro", False),
        ("klue_nli", ["entailment", "neutral", "contradiction"], "accuracy", True),
    ],
)
def test_klue_presets_read_the_release_json_and_train(compose, preset, labels, metric, pair):
    cfg = compose("experiment=korean_classification", f"data={preset}", "debug=smoke", *KOREAN_VOCAB)
    assert cfg.objective.monitor == f"val/{metric}"
    datamodule, module = build(cfg)
    assert list(module.id2label.values()) == labels
    datamodule.setup("fit")
    assert len(datamodule.datasets["train"]) == (14 if preset == "klue_ynat" else 9)
    batch = next(iter(datamodule.val_dataloader()))
    assert ("token_type_ids" in batch) == pair
    assert math.isfinite(train(cfg))


def _inspect(tmp_path, data_dir, *overrides: str) -> str:
    env = {**os.environ, "BERTLAB_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200"}
    command = [sys.executable, "-m", "bertlab.inspect", "experiment=korean_mlm", f"paths.data_dir={data_dir}"]
    command += [f"hydra.run.dir={tmp_path / 'run'}", *overrides]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_korean_mlm_inspect_shows_hangul_intact_and_whole_words_masked(tmp_path):
    out = _inspect(tmp_path, FIXTURE_DATA, *KOREAN_SPLITS, "data.max_length=32")
    assert "[MASK]" in out and not JAMO.search(out)
    assert len(re.findall("[가-힣]{2,}", out)) > 5  # whole syllables, not jamo or [UNK]


@pytest.mark.realdata
def test_korean_mlm_on_the_real_corpus_keeps_hangul(real_data_dir, tmp_path):
    out = _inspect(tmp_path, real_data_dir)
    assert "[MASK]" in out and "[UNK]" not in out and not JAMO.search(out)
    assert len(re.findall("[가-힣]{2,}", out)) > 50  # a 128-token block of whole syllables


def test_korquad_preset_reads_the_official_files_and_monitors_character_f1(compose, tmp_path):
    cfg = compose("experiment=korquad", "debug=smoke", *KOREAN_VOCAB, *SQUAD_SMOKE)
    assert cfg.objective.monitor == "val/char_f1"
    datamodule, module = build(cfg)
    assert {"char_f1", "char_exact"} <= set(module.metric_names)
    datamodule.setup("fit")
    examples, _ = datamodule.evaluation_set("val")
    assert len(examples) == 5 and examples[0].answers[0].text == "서울특별시"
    assert math.isfinite(train(cfg))
    header = next((tmp_path / "run" / "csv").rglob("metrics.csv")).read_text().splitlines()[0].split(",")
    assert {"val/char_f1", "val/char_exact", "val/f1", "test/char_f1"} <= set(header)
