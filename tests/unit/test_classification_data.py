"""The generic classification layer: CSV/TSV/JSONL records, label sets, pairs, and errors naming file and line."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from bertlab.data.classification import encode_texts
from bertlab.data.labeled_texts import field_keys, label_names, labeled_texts
from bertlab.data.records import read_table
from bertlab.errors import ConfigError, DataError


def _write(path, text: str):
    path.write_text(text)
    return path


def test_csv_with_header_and_quotes_tsv_without_header_and_jsonl_read_alike(tmp_path):
    csv_path = _write(tmp_path / "a.csv", 'text,label\n"Hello, world",pos\n"She said ""no""",neg\n')
    tsv_path = _write(tmp_path / "b.tsv", 'Hello, world\tpos\nShe said "no"\tneg\n')
    jsonl_path = tmp_path / "c.jsonl.gz"
    rows = [{"text": "Hello, world", "label": "pos"}, {"text": 'She said "no"', "label": "neg"}]
    jsonl_path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    tables = [
        (read_table(csv_path), "text", "label"),
        (read_table(tsv_path, header=False, quoting=False), "0", "1"),
        (read_table(tmp_path / "c.jsonl"), "text", "label"),  # found as c.jsonl.gz
    ]
    for table, text, label in tables:
        names = label_names(table, label, "single_label", None)
        assert names == {"neg": "neg", "pos": "pos"}  # sorted: a stable order whatever the row order
        examples = labeled_texts(table, [text], label, "single_label", names)
        assert examples.texts == [("Hello, world",), ('She said "no"',)]
        assert examples.labels.tolist() == [1, 0]


def test_label_order_is_numeric_for_integer_labels_and_config_order_wins(tmp_path):
    table = read_table(_write(tmp_path / "t.csv", "s,y\na,10\nb,2\nc,2\n"))
    assert list(label_names(table, "y", "single_label", None)) == ["2", "10"]
    assert label_names(table, "y", "single_label", ["10", "2"]) == {"10": "10", "2": "2"}
    assert label_names(table, "y", "single_label", {"2": "low", "10": "high"}) == {"2": "low", "10": "high"}


def test_regression_and_multi_label_targets(tmp_path):
    table = read_table(_write(tmp_path / "r.tsv", "a\tb\tscore\nx\ty\t4.5\nz\tw\t0\n"))
    examples = labeled_texts(table, ["a", "b"], "score", "regression", {"score": "score"})
    assert examples.labels.dtype == np.float32 and examples.labels.tolist() == [4.5, 0.0]
    table = read_table(_write(tmp_path / "m.csv", 'text,tags\none,"sport,news"\ntwo,\nthree,news\n'))
    names = label_names(table, "tags", "multi_label", None)
    assert names == {"news": "news", "sport": "sport"}
    assert labeled_texts(table, ["text"], "tags", "multi_label", names).labels.tolist() == [
        [1, 1],
        [0, 0],
        [1, 0],
    ]
    jsonl = read_table(_write(tmp_path / "m.jsonl", '{"t": "a", "y": ["x", "z"]}\n\n{"t": "b", "y": []}\n'))
    assert labeled_texts(jsonl, ["t"], "y", "multi_label", {"x": "x", "z": "z"}).labels.tolist() == [
        [1, 1],
        [0, 0],
    ]


@pytest.mark.parametrize(
    ("content", "task", "names", "message"),
    [
        ("s,label\na,pos\n", "single_label", None, r"no column 'text'; the columns are 's', 'label'"),
        (
            "text,label\na,pos\nb,maybe\n",
            "single_label",
            {"pos": "pos", "neg": "neg"},
            r":3: label 'maybe' is not",
        ),
        (
            "text,label\na,1.5\nb,high\n",
            "regression",
            {"label": "label"},
            r":3: regression label 'high' is not a number",
        ),
        (
            "text,label\na,pos\n   ,neg\n",
            "single_label",
            {"pos": "pos", "neg": "neg"},
            r":3: field 'text' must be a non-empty",
        ),
        ("text,label\na,x\nb,y,z\n", "single_label", None, r":3: expected 2 fields \(text, label\), found 3"),
        ('text,label\na,x\nb,"y|q"\n', "multi_label", {"x": "x", "y": "y"}, r":3: label 'q' is not one of"),
    ],
)
def test_bad_input_names_the_file_and_line(tmp_path, content, task, names, message):
    path = _write(tmp_path / "dev.csv", content)
    with pytest.raises(DataError, match=message) as error:
        labeled_texts(read_table(path), ["text"], "label", task, names or {}, separator="|")
    assert str(path) in str(error.value)


def test_bad_jsonl_and_missing_files_and_field_counts(tmp_path):
    with pytest.raises(DataError, match=r"b.jsonl:2: not valid JSON"):
        read_table(_write(tmp_path / "b.jsonl", '{"a": 1}\n{"a": \n'))
    with pytest.raises(DataError, match=r"no such file \(nor nope.csv.gz\)"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="set data.format"):
        read_table(_write(tmp_path / "x.data", "a\n"))
    with pytest.raises(ConfigError, match="expected one field .* or two"):
        field_keys(["a", "b", "c"], "label")
    assert field_keys([3], 1) == (["3"], "1")


def test_one_field_of_a_pair_preset_is_a_single_text_task_and_a_bare_string_is_an_error(compose):
    from hydra.utils import instantiate

    cfg = compose("experiment=glue", "data=glue_mrpc", 'data.text_fields=["#2 String"]')
    datamodule = instantiate(cfg.data)
    texts = datamodule.examples["train"].texts
    assert texts and all(len(t) == 1 for t in texts)  # the second sentence alone: a one-side baseline
    assert datamodule.module_kwargs()["text_fields"] == ["#2 String"]
    with pytest.raises(ConfigError, match=r"data.text_fields='sentence': expected a list .*=\[sentence\]"):
        field_keys("sentence", "label")


def test_pairs_get_token_types_and_are_truncated_longest_first(bert_tokenizer):
    texts = [("a short premise", "and a hypothesis"), ("one " * 40, "two three")]
    encoded = encode_texts(bert_tokenizer, texts, max_length=16)
    assert encoded.truncated == 1
    ids, types = encoded.input_ids[0], encoded.token_type_ids[0]
    sep = bert_tokenizer.sep_token_id
    first_sep = ids.tolist().index(sep)
    assert (types[: first_sep + 1] == 0).all() and (types[first_sep + 1 :] == 1).all()
    long_ids = encoded.input_ids[1].tolist()
    assert len(long_ids) == 16 and long_ids.count(sep) == 2
    assert (
        bert_tokenizer.decode(long_ids[long_ids.index(sep) + 1 : -1]) == "two three"
    )  # the long side was cut
    single = encode_texts(bert_tokenizer, [("one " * 40,)], max_length=8)
    assert single.token_type_ids is None and single.input_ids[0][-1] == sep and len(single.input_ids[0]) == 8


def test_a_saved_hugging_face_dataset_reads_like_files_with_its_class_names(tmp_path):
    datasets = pytest.importorskip("datasets")
    from bertlab.data.classification_datamodule import ClassificationDataModule

    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["pos", "neg"])}
    )
    splits = {
        "train": {"text": ["good", "bad", "fine", "awful"], "label": [0, 1, 0, 1]},
        "validation": {"text": ["great", ""], "label": [0, 1]},
    }
    saved = tmp_path / "reviews"
    datasets.DatasetDict(
        {k: datasets.Dataset.from_dict(v, features=features) for k, v in splits.items()}
    ).save_to_disk(str(saved))
    dm = ClassificationDataModule(dataset={"path": str(saved)}, text_fields=["text"])
    assert dm.label_names == {"pos": "pos", "neg": "neg"}  # the ClassLabel order, not sorted
    assert dm.tables["train"].records[1] == {"text": "bad", "label": "neg"}
    with pytest.raises(DataError, match=r"reviews\[validation\] record:1: field 'text' must be a non-empty"):
        dm.examples  # noqa: B018
    with pytest.raises(ConfigError, match="data.train_file and data.validation_file are required"):
        ClassificationDataModule(train_file="a.csv")
