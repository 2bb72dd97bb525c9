"""bertlab-predict on classifiers: in input order, equal to the HF model row by row, from an export, a run
directory or a checkpoint; a pair model needs two fields."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from bertlab.errors import CheckpointError, DataError
from bertlab.export import export_pretrained, export_run
from bertlab.models.encoder import EncoderSpec
from bertlab.objectives.sequence_classification import SequenceClassification
from bertlab.optim import adamw
from bertlab.predict import main, predict
from bertlab.resume import find_checkpoint
from bertlab.train import train
from tests.conftest import FIXTURE_DATA, compose_config, save_run_config

TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, bert_tokenizer):
    def _export(task: str, id2label: dict[int, str], text_fields: list[str] | None = None):
        torch.manual_seed(0)
        encoder = EncoderSpec("bert", **TINY).build(vocab_size=len(bert_tokenizer), pad_token_id=0)
        metrics = {"regression": ["pearson"]}.get(task, ["accuracy"])
        module = SequenceClassification(
            encoder, adamw, id2label=id2label, task=task, metrics=metrics, text_fields=text_fields
        )
        return export_pretrained(module.eval(), bert_tokenizer, tmp_path_factory.mktemp(task) / "hf")

    return _export


def _reference(directory, texts):
    model = AutoModelForSequenceClassification.from_pretrained(str(directory)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    with torch.no_grad():
        return [model(**tokenizer(*t, return_tensors="pt")).logits[0] for t in texts]


def test_text_lines_in_input_order_match_the_hf_model(exported, tmp_path):
    directory = exported("single_label", {0: "unacceptable", 1: "acceptable"})
    texts = [
        "A short one.",
        "",
        "A much longer sentence that needs more tokens than the others do.",
        "Mid length here.",
    ]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    out = tmp_path / "out.jsonl"
    main(
        [
            str(directory.parent),
            str(tmp_path / "in.txt"),
            "--out",
            str(out),
            "--batch-size",
            "2",
            "--precision",
            "32",
        ]
    )
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in records] == [1, 3, 4]  # the blank line is skipped, the others keep their line
    for record, logits in zip(records, _reference(directory, [(t,) for t in texts if t]), strict=True):
        probs = torch.softmax(logits, -1)
        assert record["label"] == ["unacceptable", "acceptable"][int(probs.argmax())]
        assert record["probabilities"]["acceptable"] == pytest.approx(float(probs[1]), abs=1e-5)


def test_pairs_from_csv_regression_scores_and_csv_output(exported, tmp_path):
    directory = exported("regression", {0: "score"})
    (tmp_path / "pairs.csv").write_text(
        'a,b\n"A man, a plan.",A canal.\nTwo dogs run.,Dogs are running fast.\n'
    )
    records = predict(directory, tmp_path / "pairs.csv", ["a", "b"], precision="32")
    reference = _reference(
        directory, [("A man, a plan.", "A canal."), ("Two dogs run.", "Dogs are running fast.")]
    )
    assert [r["score"] for r in records] == pytest.approx([float(x[0]) for x in reference], abs=1e-5)
    main(
        [
            str(directory),
            str(tmp_path / "pairs.csv"),
            "--text-fields",
            "a,b",
            "--out",
            str(tmp_path / "p.csv"),
        ]
    )
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "line,score"


def test_bad_rows_and_missing_fields_name_the_line_or_the_columns(exported, tmp_path):
    directory = exported("single_label", {0: "neg", 1: "pos"})
    (tmp_path / "x.jsonl").write_text('{"text": "fine"}\n{"text": ""}\n')
    with pytest.raises(DataError, match=r"x.jsonl:2: field 'text' must be a non-empty text"):
        predict(directory, tmp_path / "x.jsonl")
    (tmp_path / "y.csv").write_text("premise,hypothesis\na,b\n")
    with pytest.raises(DataError, match=r"no column 'sentence2'; the columns are 'premise', 'hypothesis'"):
        predict(directory, tmp_path / "y.csv", ["premise", "sentence2"])
    with pytest.raises(DataError, match="which columns are the text"):
        predict(directory, tmp_path / "y.csv")


def test_a_pair_model_reads_its_own_fields_and_refuses_one(exported, tmp_path):
    directory = exported("single_label", {0: "no", 1: "yes"}, text_fields=["premise", "hypothesis"])
    (tmp_path / "p.tsv").write_text("id\tpremise\thypothesis\n7\tA dog runs.\tAn animal moves.\n")
    (record,) = predict(directory, tmp_path / "p.tsv", precision="32")  # the fields it was fine-tuned on
    (logits,) = _reference(directory, [("A dog runs.", "An animal moves.")])
    assert record["probabilities"]["yes"] == pytest.approx(float(torch.softmax(logits, -1)[1]), abs=1e-5)
    with pytest.raises(DataError, match=r"fine-tuned on sentence pairs .* but 1 text field\(s\) were given"):
        predict(directory, tmp_path / "p.tsv", ["premise"])
    (tmp_path / "one.txt").write_text("A dog runs.\n")
    with pytest.raises(DataError, match="fine-tuned on sentence pairs"):
        predict(directory, tmp_path / "one.txt")


def test_a_run_directory_and_a_checkpoint_predict_like_their_export(tmp_path):
    run_dir = tmp_path / "run"
    data = FIXTURE_DATA / "classification"
    cfg = compose_config(
        run_dir,
        "experiment=classification",
        "debug=smoke",
        f"data.train_file={data / 'train.csv'}",
        f"data.validation_file={data / 'dev.csv'}",
        "data.text_fields=[review]",
        "data.label_field=sentiment",
    )
    train(cfg)
    save_run_config(cfg, run_dir)
    exported = export_run(run_dir, out=tmp_path / "hf")
    inputs = data / "dev.csv"  # has the column the run was fine-tuned on (review): no --text-fields needed
    from_export = predict(exported, inputs, precision="32")
    from_run = predict(run_dir, inputs, precision="32")
    from_checkpoint = predict(find_checkpoint(run_dir), inputs, precision="32")
    assert (
        [r["label"] for r in from_run]
        == [r["label"] for r in from_export]
        == [r["label"] for r in from_checkpoint]
    )
    for ours, theirs in zip(from_run, from_export, strict=True):
        assert ours["probabilities"] == pytest.approx(theirs["probabilities"], abs=1e-5)
    stray = tmp_path / "elsewhere.ckpt"  # a checkpoint outside its run: no config to rebuild it from
    stray.write_bytes(b"x")
    with pytest.raises(CheckpointError, match="rebuilt from its run's config"):
        predict(stray, inputs)
