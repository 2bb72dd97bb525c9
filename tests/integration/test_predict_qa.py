"""bertlab-predict on extractive QA: spans index into the context, "" when unanswerable, the same answers as
bertlab-eval's decoding, from an export, a run directory or a checkpoint; bad inputs name line or record."""

from __future__ import annotations

import json
import math

import pytest
from transformers import BertConfig, BertForQuestionAnswering

from bertlab.errors import ConfigError, DataError
from bertlab.evaluate import evaluate_run
from bertlab.export import export_run
from bertlab.predict import main, predict
from bertlab.predict_qa import qa_settings
from bertlab.resume import find_checkpoint
from bertlab.task_model import TaskModel
from bertlab.train import train
from tests.conftest import FIXTURE_DATA, compose_config, save_run_config
from tests.integration.test_train_smoke import SQUAD_SMOKE

SQUAD = FIXTURE_DATA / "squad" / "squad_v2"
DEV = SQUAD / "dev-v2.0.json"
QUESTIONS = [  # hand-written: the second has no id (its line number stands in)
    {
        "id": "tea",
        "question": "Where did tea come from?",
        "context": "Tea was first drunk in China as a medicine.",
    },
    {
        "question": "What colour is the sky?",
        "context": "On a clear day the sky is blue, and at dusk it turns red.",
    },
]


@pytest.fixture(scope="module")
def qa_run(tmp_path_factory):
    """A tiny QA model trained a few steps on the SQuAD v2 fixture: its run directory and its export."""
    run_dir = tmp_path_factory.mktemp("qa") / "run"
    overrides = [f"data.train_file={SQUAD / 'train-v2.0.json'}", f"data.validation_file={DEV}", *SQUAD_SMOKE]
    cfg = compose_config(run_dir, "experiment=squad_v2", "data=squad", "debug=smoke", *overrides)
    train(cfg)
    save_run_config(cfg, run_dir)
    return run_dir, export_run(run_dir, out=run_dir.parent / "hf")


def _contexts() -> dict[str, str]:
    document = json.loads(DEV.read_text())
    return {
        qa["id"]: paragraph["context"]
        for article in document["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }


def test_answers_are_spans_of_their_context_from_squad_json_and_jsonl(qa_run, tmp_path):
    _, exported = qa_run
    rows = predict(exported, DEV, precision="32", null_threshold=1e9)  # every question answered
    contexts = _contexts()
    assert [r["id"] for r in rows] == list(contexts)  # input order
    for row in rows:
        assert row["answer"] and contexts[row["id"]][row["start"] : row["end"]] == row["answer"]
        assert math.isfinite(row["score"]) and math.isfinite(row["null_odds"])
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    main([str(exported), str(tmp_path / "q.jsonl"), "--out", str(tmp_path / "a.jsonl"), "--precision", "32",
          "--null-threshold", "1e9"])  # fmt: skip
    answers = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert [a["id"] for a in answers] == ["tea", "2"]
    for answer, question in zip(answers, QUESTIONS, strict=True):
        assert question["context"][answer["start"] : answer["end"]] == answer["answer"] != ""


def test_forced_unanswerable_is_empty_with_a_null_span(qa_run, tmp_path):
    _, exported = qa_run
    main([str(exported), str(DEV), "--out", str(tmp_path / "a.csv"), "--null-threshold=-1e9"])
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert lines[0] == "id,answer,start,end,score,null_odds"
    assert [line.split(",")[1:4] for line in lines[1:]] == [["", "", ""]] * len(_contexts())


def test_predictions_agree_with_bertlab_eval_and_every_source_agrees(qa_run):
    run_dir, exported = qa_run
    evaluate_run(run_dir, None, "val", ["trainer.precision=32-true"])
    expected = json.loads((run_dir / "eval" / "predictions" / "val" / "predictions.json").read_text())
    odds = json.loads((run_dir / "eval" / "predictions" / "val" / "null_odds.json").read_text())
    from_run = predict(run_dir, DEV, precision="32")  # the run's checkpoint and window sizes (48/8/16)
    assert {r["id"]: r["answer"] for r in from_run} == expected
    assert [r["null_odds"] for r in from_run] == pytest.approx([odds[r["id"]] for r in from_run], abs=1e-4)
    from_checkpoint = predict(find_checkpoint(run_dir), DEV, precision="32")
    assert from_checkpoint == from_run
    from_export = predict(exported, DEV, precision="32")  # the export records the window sizes
    assert json.loads((exported / "config.json").read_text())["bertlab_qa"] == {
        "max_length": 48,
        "doc_stride": 8,
        "max_query_length": 16,
        "n_best": 20,
        "max_answer_length": 30,
        "null_threshold": 0.0,
    }
    assert [r["answer"] for r in from_export] == [r["answer"] for r in from_run]
    assert [r["score"] for r in from_export] == pytest.approx([r["score"] for r in from_run], abs=1e-4)


def test_threshold_follows_the_training_data():
    config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    config.bertlab_qa = {"n_best": 5, "max_answer_length": 10, "null_threshold": None}  # trained on v1.1 data
    model = TaskModel(
        BertForQuestionAnswering(config),
        None,
        "test",
        {"max_length": 64, "doc_stride": 16, "max_query_length": 16},
    )
    settings = qa_settings(model)
    assert settings.null_threshold == math.inf and (settings.n_best, settings.max_length) == (5, 64)
    assert qa_settings(model, null_threshold=-2.0, doc_stride=None).null_threshold == -2.0
    with pytest.raises(ConfigError, match="--max-length/--doc-stride"):
        qa_settings(model, doc_stride=60)


def test_missing_fields_name_the_line_or_the_record_path(qa_run, tmp_path):
    _, exported = qa_run
    (tmp_path / "q.jsonl").write_text(
        json.dumps(QUESTIONS[0]) + "\n" + json.dumps({"question": "Why?"}) + "\n"
    )
    with pytest.raises(
        DataError, match=r"q.jsonl:2: field 'context' must be a non-empty text, found missing"
    ):
        predict(exported, tmp_path / "q.jsonl")
    document = {"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": "x"}]}]}]}
    (tmp_path / "q.json").write_text(json.dumps(document))
    with pytest.raises(
        DataError, match=r"q.json: \$.data\[0\].paragraphs\[0\].qas\[0\]: missing key 'question'"
    ):
        predict(exported, tmp_path / "q.json")
    (tmp_path / "q.txt").write_text("a question?\n")
    with pytest.raises(DataError, match="QA inputs are SQuAD JSON"):
        predict(exported, tmp_path / "q.txt")
