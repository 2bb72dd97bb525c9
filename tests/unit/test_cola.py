"""CoLA through the generic classification layer (errors name file and line, quotes kept), zip lookup,
bucketing and the datamodule."""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from functools import partial

import numpy as np
import pytest
from hydra.utils import instantiate

from bertlab.data import bucketing, cola, files, sampling
from bertlab.data.bucketing import BucketBatchSampler
from bertlab.data.classification import ClassificationCollator
from bertlab.data.classification_datamodule import ClassificationDataModule
from bertlab.data.labeled_texts import labeled_texts
from bertlab.data.records import read_table
from bertlab.errors import DataError
from bertlab.tokenization import PretrainedTokenizer
from tests.conftest import FIXTURE_DATA

COLA = FIXTURE_DATA / "cola"
LABELS = {"0": "unacceptable", "1": "acceptable"}


def _read(path):
    table = read_table(path, "tsv", header=False, quoting=False)
    return table, labeled_texts(table, ["3"], "1", "single_label", LABELS)


def test_reader_keeps_quotes_and_all_columns():
    table, examples = _read(COLA / "in_domain_train.tsv")
    assert len(examples.texts) == 20
    assert examples.texts[4] == ('"Stop," he shouted, "before it is too late."',)
    assert examples.texts[2] == ('She said "hello" to everyone in the room.',)
    assert [table.records[1][c] for c in "012"] == ["bl01", "0", "*"] and examples.labels[1] == 0
    assert set(examples.labels.tolist()) == {0, 1}


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("bl01\t1\tThe cat sat.", "expected 4 fields"),
        ("bl01\t1\t\tThe cat\tsat.", "found 5"),
        ("bl01\t2\t\tThe cat sat.", "label '2' is not one of the known labels '0', '1'"),
        ("bl01\t\t\tThe cat sat.", "label '' is not one of"),
        ("bl01\t1\t\t   ", "field '3' must be a non-empty text"),
    ],
)
def test_bad_rows_are_errors_naming_file_and_line(tmp_path, bad_row, message):
    path = tmp_path / "in_domain_train.tsv"
    path.write_text(f'bl01\t1\t\tA good first row.\nbl01\t0\t*\tRow "two" good.\n{bad_row}\n')
    with pytest.raises(DataError, match=message) as error:
        _read(path)
    assert f"{path}:3:" in str(error.value)


def test_a_quote_never_swallows_the_tab_or_the_next_line(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text('a\t1\t\t"Open quote with no end\nb\t0\t*\tNext row.\n')
    assert _read(path)[1].texts == [('"Open quote with no end',), ("Next row.",)]


def test_missing_files_without_download_name_the_expected_path_and_url(tmp_path):
    with pytest.raises(files.DataError, match="cola_public_1.1.zip") as error:
        files.resolve_zip_members(cola.ARCHIVE, cola.MEMBERS, tmp_path, download=False)
    assert str(tmp_path / "cola" / "in_domain_train.tsv") in str(error.value)


def test_unreachable_download_is_a_clear_error_and_writes_nothing(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(files.urllib.request, "urlopen", offline)
    with pytest.raises(files.DataError, match="downloading https://nyu-mll.github.io/CoLA"):
        files.resolve_zip_members(cola.ARCHIVE, cola.MEMBERS, tmp_path)
    assert not (tmp_path / "cola").exists()


def _serve(monkeypatch, payload: bytes) -> None:
    monkeypatch.setattr(files.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(payload))


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_zip_members_are_extracted_after_both_checksums(tmp_path, monkeypatch):
    content = b"x\t1\t\tA sentence.\n"
    payload = _zip({"raw/a.tsv": content})
    archive = files.RemoteArchive("https://example.org/a.zip", hashlib.sha256(payload).hexdigest())
    member = files.RemoteFile("cola", "a.tsv", archive.url, hashlib.sha256(content).hexdigest())
    _serve(monkeypatch, payload)
    found = files.resolve_zip_members(archive, {"raw/a.tsv": member}, tmp_path)
    assert found["raw/a.tsv"].read_bytes() == content

    wrong = files.RemoteFile("cola", "b.tsv", archive.url, "0" * 64)
    with pytest.raises(files.DataError, match="checksum mismatch"):
        files.resolve_zip_members(archive, {"raw/a.tsv": wrong}, tmp_path)
    corrupt = files.RemoteArchive(archive.url, "0" * 64)
    with pytest.raises(files.DataError, match="nothing was extracted"):
        files.resolve_zip_members(corrupt, {"raw/a.tsv": wrong}, tmp_path)
    assert sorted(p.name for p in (tmp_path / "cola").iterdir()) == ["a.tsv"]  # no partial files


def _set_rank(monkeypatch, rank: int, world: int) -> None:
    for module in (sampling, bucketing):
        monkeypatch.setattr(module, "_rank_and_world", lambda: (rank, world))


@pytest.mark.parametrize("world", [1, 2, 3])
def test_evaluation_batches_cover_every_example_exactly_once(monkeypatch, world):
    lengths = np.random.default_rng(0).integers(3, 60, size=101)
    seen = []
    for rank in range(world):
        _set_rank(monkeypatch, rank, world)
        batches = list(BucketBatchSampler(lengths, batch_size=8, train=False, seed=1))
        assert len(batches) == len(BucketBatchSampler(lengths, batch_size=8, train=False, seed=1))
        seen += [index for batch in batches for _, index in batch]
    assert sorted(seen) == list(range(101))


def _padding(lengths: np.ndarray, batches: list[list[tuple[int, int]]]) -> int:
    return sum(len(b) * lengths[[i for _, i in b]].max() - lengths[[i for _, i in b]].sum() for b in batches)


def test_training_batches_are_similar_in_length_and_reshuffled_per_epoch(monkeypatch):
    lengths = np.random.default_rng(0).integers(3, 60, size=1000)
    sampler = BucketBatchSampler(lengths, batch_size=16, train=True, seed=3, bucket_batches=10)
    epoch0 = list(sampler)
    indices = [i for batch in epoch0 for _, i in batch]
    assert len(epoch0) == len(sampler) == 1000 // 16 and all(len(b) == 16 for b in epoch0)
    assert len(set(indices)) == len(indices) == 1000 - 1000 % 16
    shuffled = np.random.default_rng(1).permutation(1000)
    random_batches = [[(0, int(i)) for i in shuffled[s : s + 16]] for s in range(0, 992, 16)]
    assert _padding(lengths, epoch0) < 0.2 * _padding(lengths, random_batches)
    assert list(sampler) == epoch0  # a pure function of (seed, epoch)
    sampler.sampler.set_epoch(1)  # what Lightning calls on batch_sampler.sampler
    epoch1 = list(sampler)
    assert epoch1 != epoch0 and all(e == 1 for b in epoch1 for e, _ in b)


def test_training_ranks_are_disjoint_and_equally_long(monkeypatch):
    lengths = np.arange(3, 103)
    per_rank = []
    for rank in range(2):
        _set_rank(monkeypatch, rank, 2)
        per_rank.append({i for b in BucketBatchSampler(lengths, 8, train=True, seed=0) for _, i in b})
    assert not per_rank[0] & per_rank[1] and len(per_rank[0]) == len(per_rank[1]) == 48


def _datamodule(compose, *overrides: str) -> ClassificationDataModule:
    cfg = compose(
        "experiment=cola", "data.batch_size=4", "data.eval_batch_size=3", "data.download=false", *overrides
    )
    dm = instantiate(cfg.data)
    dm.attach(
        PretrainedTokenizer("bert-base-uncased").build(dm.training_texts), partial(ClassificationCollator)
    )
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_datamodule_pads_each_batch_to_its_longest_sentence(compose):
    dm = _datamodule(compose)
    assert dm.module_kwargs() == {
        "id2label": {0: "unacceptable", 1: "acceptable"},
        "task": "single_label",
        "metrics": ["mcc", "accuracy"],
        "text_fields": ["3"],
    }
    assert (
        dm.tokenizer.decode(dm.datasets["train"].input_ids[4][1:-1])
        == '" stop, " he shouted, " before it is too late. "'
    )
    labels = []
    for batch in dm.val_dataloader():
        lengths = batch["attention_mask"].sum(1)
        assert batch["input_ids"].shape[1] == lengths.max()
        assert (batch["input_ids"][:, 0] == dm.tokenizer.cls_token_id).all()
        assert "token_type_ids" not in batch  # single sentences: the encoder's default zeros
        labels += batch["labels"].tolist()
    assert sorted(labels) == sorted(dm.examples["val"].labels.tolist())
    assert sum(len(b["labels"]) for b in dm.train_dataloader()) == 20


def test_long_sentences_are_truncated_with_a_counted_warning(compose, caplog):
    with caplog.at_level(logging.WARNING):
        dm = _datamodule(compose, "data.max_length=8")
    assert "were truncated" in caplog.text
    assert dm.datasets["train"].lengths.max() == 8
    assert all(ids[-1] == dm.tokenizer.sep_token_id for ids in dm.datasets["train"].input_ids)
