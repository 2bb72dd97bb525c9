"""SQuAD reading, validation errors, window labels and the local split, on hand-written fixtures."""

from __future__ import annotations

import copy
import gzip
import json

import pytest

from bertlab.data.squad import read_squad
from bertlab.data.squad_datamodule import SQuADv2DataModule, oversample_unanswerable, training_titles
from bertlab.data.squad_features import CLS_INDEX, check_lengths, make_windows
from bertlab.errors import DataError
from tests.conftest import FIXTURE_DATA

SQUAD_DIR = FIXTURE_DATA / "squad"
V2 = SQUAD_DIR / "squad_v2" / "dev-v2.0.json"
V1 = SQUAD_DIR / "squad_v1.1" / "dev-v1.1.json"


def _document() -> dict:
    return json.loads(V2.read_text())


def _write(tmp_path, document: dict, name: str = "bad.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_reads_v2_and_v1_with_multi_gold_and_unanswerable():
    examples = {e.id: e for e in read_squad(V2, training=False)}
    assert len(examples) == 10 and sum(e.is_impossible for e in examples.values()) == 4
    assert [a.text for a in examples["q-normans-when"].answers][:2] == [
        "10th and 11th centuries",
        "in the 10th and 11th centuries",
    ]
    v1 = read_squad(V1, training=True)
    assert len(v1) == 3 and not any(e.is_impossible for e in v1)


def test_reads_gzip(tmp_path):
    path = tmp_path / "dev-v2.0.json.gz"
    path.write_bytes(gzip.compress(V2.read_bytes()))
    assert [e.id for e in read_squad(path, training=False)] == [e.id for e in read_squad(V2, training=False)]


def test_missing_key_names_file_and_json_path(tmp_path):
    document = _document()
    del document["data"][1]["paragraphs"][0]["qas"][1]["answers"][0]["answer_start"]
    path = _write(tmp_path, document)
    with pytest.raises(DataError) as err:
        read_squad(path, training=True)
    assert str(path) in str(err.value)
    assert "$.data[1].paragraphs[0].qas[1].answers[0]: missing key 'answer_start'" in str(err.value)


def test_wrong_type_and_invalid_json_are_named(tmp_path):
    document = _document()
    document["data"][0]["paragraphs"][0]["context"] = 42
    with pytest.raises(DataError, match=r"\$\.data\[0\]\.paragraphs\[0\]\.context: expected str"):
        read_squad(_write(tmp_path, document), training=False)
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [\n  {"title": }]}')
    with pytest.raises(DataError, match="line 2"):
        read_squad(broken, training=False)


def test_impossible_question_with_answers_is_an_error(tmp_path):
    document = _document()
    qa = document["data"][0]["paragraphs"][0]["qas"][2]
    qa["answers"] = copy.deepcopy(qa["plausible_answers"])
    with pytest.raises(DataError, match=r"qas\[2\]: is_impossible is true but the question carries 1"):
        read_squad(_write(tmp_path, document), training=False)


def test_misplaced_answer_training_skips_with_count_evaluation_keeps(tmp_path, caplog):
    document = _document()
    document["data"][3]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] += 1  # q-arch, single answer
    path = _write(tmp_path, document)
    training = {e.id for e in read_squad(path, training=True, max_bad_fraction=0.2)}
    assert "q-arch" not in training and len(training) == 9
    assert "skipped 1 of 11 answers" in caplog.text
    evaluation = {e.id: e for e in read_squad(path, training=False)}
    assert evaluation["q-arch"].answers[0].text == "150 metres"
    with pytest.raises(DataError, match="max_bad_answer_fraction=0.05"):
        read_squad(path, training=True, max_bad_fraction=0.05)


@pytest.fixture(scope="module")
def windows_and_examples(bert_tokenizer):
    examples = read_squad(V2, training=True)
    return make_windows(
        examples, bert_tokenizer, max_seq_length=48, doc_stride=12, max_query_length=16
    ), examples


def _char_range(window):
    inside = window.offsets[window.offsets[:, 0] >= 0]
    return int(inside[0, 0]), int(inside[-1, 1])


def test_window_crossing_answer_is_labelled_only_where_it_is_whole(windows_and_examples):
    windows, examples = windows_and_examples
    index = next(i for i, e in enumerate(examples) if e.id == "q-keeper")
    answer = examples[index].answers[0]
    begin, end = answer.start, answer.start + len(answer.text)
    mine = [w for w in windows if w.example_index == index]
    assert len(mine) > 3
    holds = [_char_range(w)[0] <= begin and end <= _char_range(w)[1] for w in mine]
    cuts = [
        not h and _char_range(w)[0] < end and begin < _char_range(w)[1]
        for w, h in zip(mine, holds, strict=True)
    ]
    assert any(holds) and any(cuts), "the fixture must have a window that cuts the answer"
    for window, holds_answer in zip(mine, holds, strict=True):
        if holds_answer:
            start, stop = window.offsets[window.start_position, 0], window.offsets[window.end_position, 1]
            assert examples[index].context[start:stop] == answer.text
            assert window.token_type_ids[window.start_position] == 1
        else:
            assert (window.start_position, window.end_position) == (CLS_INDEX, CLS_INDEX)


def test_unanswerable_windows_are_labelled_cls_and_question_comes_first(windows_and_examples, bert_tokenizer):
    windows, examples = windows_and_examples
    for window in windows:
        assert len(window.input_ids) <= 48
        assert window.input_ids[0] == bert_tokenizer.cls_token_id
        assert window.token_type_ids[1] == 0  # question segment first
        if examples[window.example_index].is_impossible:
            assert (window.start_position, window.end_position) == (CLS_INDEX, CLS_INDEX)


def test_oversampling_repeats_only_unanswerable_windows_of_training(windows_and_examples):
    windows, examples = windows_and_examples
    unanswerable = [w for w in windows if examples[w.example_index].is_impossible]
    assert unanswerable and len(unanswerable) < len(windows)
    assert oversample_unanswerable(windows, examples, 1) is windows
    tripled = oversample_unanswerable(windows, examples, 3)
    assert len(tripled) == len(windows) + 2 * len(unanswerable)
    assert tripled[: len(windows)] == windows
    assert all(examples[w.example_index].is_impossible for w in tripled[len(windows) :])
    with pytest.raises(ValueError, match="data.unanswerable_repeats=0"):
        SQuADv2DataModule(str(SQUAD_DIR), unanswerable_repeats=0)


def test_local_split_oversamples_training_but_not_evaluation(bert_tokenizer):
    def windows(repeats):
        datamodule = SQuADv2DataModule(
            str(SQUAD_DIR),
            split="local",
            max_length=64,
            doc_stride=16,
            max_query_length=16,
            unanswerable_repeats=repeats,
        )
        datamodule.tokenizer = bert_tokenizer
        return datamodule._windows("train"), datamodule._windows("val")

    (train1, val1), (train2, val2) = windows(1), windows(2)
    assert len(val2) == len(val1)
    assert len(train1) < len(train2) < 2 * len(train1)


def test_window_lengths_are_checked():
    with pytest.raises(ValueError, match="data.doc_stride=40"):
        check_lengths(max_seq_length=64, doc_stride=40, max_query_length=24)


def test_local_split_is_by_title_and_deterministic():
    titles = ["Normans", "Lighthouse", "Green_tea", "Bridge"]
    assert training_titles(titles) == training_titles(list(reversed(titles))) == ["Bridge", "Lighthouse"]
    datamodule = SQuADv2DataModule(str(SQUAD_DIR), split="local")
    train, val = datamodule.examples["train"], datamodule.examples["val"]
    assert {e.title for e in val} == {"Normans", "Green_tea"}
    assert {e.title for e in train} == {"Lighthouse_v1", "Bridge", "Lighthouse"}
    assert datamodule.examples["test"] is val


def test_max_seq_length_above_position_limit_is_an_error(compose):
    from bertlab.models.encoder import ConfigError
    from bertlab.train import build

    cfg = compose("experiment=squad_v2_local", "debug=smoke", "data.max_length=1024", data_dir=SQUAD_DIR)
    with pytest.raises(ConfigError, match="max_length=1024 exceeds the model's position limit"):
        build(cfg)
