"""data=text: every source kind and boundary rule, hash-keyed splits, sharded caches that resume and heal."""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import time

import numpy as np
import pytest

from bertlab.data import array_files, token_cache
from bertlab.data.collators import MLMCollator
from bertlab.data.corpus import document_sentences
from bertlab.data.shakespeare import parse_t8, t8_works
from bertlab.data.text import TextDataModule
from bertlab.errors import ConfigError, DataError
from tests.conftest import FIXTURE_DATA

TEXT = FIXTURE_DATA / "text"
NEWS = [json.loads(line)["text"] for line in (TEXT / "news.jsonl").read_text().splitlines()]


def _dm(tmp_path, files, tokenizer, **kwargs) -> TextDataModule:
    settings = dict(
        data_dir=str(TEXT), files=files, val_fraction=0.0, test_fraction=0.0, max_length=16, batch_size=2,
        cache_dir=str(tmp_path / "cache"), tokenize_workers=1,
    )  # fmt: skip
    dm = TextDataModule(**(settings | kwargs))
    dm.attach(tokenizer, MLMCollator)
    return dm


def _texts(dm: TextDataModule) -> list[str]:
    return [text for _, _, text in dm.documents()]


def _sentences(corpus) -> list[tuple[int, ...]]:
    starts = corpus.sentence_starts
    return [tuple(corpus.ids[starts[s] : starts[s + 1]].tolist()) for s in range(len(starts) - 1)]


def test_text_file_boundaries(tmp_path, bert_tokenizer):
    blocks = _texts(_dm(tmp_path, ["reviews.txt"], bert_tokenizer, boundary="blank_line"))
    assert len(blocks) == 5 and blocks[1].startswith("I expected a thriller") and blocks[1].endswith("alone.")
    lines = _texts(_dm(tmp_path, ["reviews.txt"], bert_tokenizer, boundary="line"))
    assert len(lines) == 9 and lines[1] == "The cast is small but every actor earns their place."
    assert len(_texts(_dm(tmp_path, ["reviews.txt"], bert_tokenizer, boundary="file"))) == 1
    with gzip.open(tmp_path / "reviews.txt.gz", "wb") as handle:
        handle.write((TEXT / "reviews.txt").read_bytes())
    gz = _dm(tmp_path, [str(tmp_path / "*.txt.gz")], bert_tokenizer, boundary="blank_line")
    assert _texts(gz) == blocks


def test_record_sources_jsonl_gz_parquet_and_hf(tmp_path, bert_tokenizer):
    assert _texts(_dm(tmp_path, ["news.jsonl"], bert_tokenizer, boundary="record")) == NEWS
    with gzip.open(tmp_path / "news.jsonl.gz", "wb") as handle:
        handle.write((TEXT / "news.jsonl").read_bytes())
    assert _texts(_dm(tmp_path, [str(tmp_path / "news.jsonl.gz")], bert_tokenizer, boundary="record")) == NEWS
    pa, pq = pytest.importorskip("pyarrow"), pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"body": NEWS, "n": list(range(4))}), tmp_path / "news.parquet")
    parquet = _dm(
        tmp_path, [str(tmp_path / "news.parquet")], bert_tokenizer, boundary="record", text_field="body"
    )
    assert _texts(parquet) == NEWS
    with pytest.raises(DataError, match=r"news.parquet: no column 'text'.*\['body', 'n'\]"):
        _texts(_dm(tmp_path, [str(tmp_path / "news.parquet")], bert_tokenizer, boundary="record"))
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_dict({"text": NEWS}).save_to_disk(str(tmp_path / "saved"))
    assert _texts(_dm(tmp_path, None, bert_tokenizer, hf={"path": str(tmp_path / "saved")})) == NEWS


def test_tokens_keep_sentence_and_document_boundaries(tmp_path, bert_tokenizer):
    dm = _dm(tmp_path, ["reviews.txt"], bert_tokenizer)
    dm.prepare_data()
    corpus = dm.corpora["train"]
    assert corpus.ids.dtype == np.uint16 and isinstance(corpus.ids, np.memmap)
    expected = [document_sentences(text) for text in _texts(dm)]
    assert corpus.num_documents == len(expected) == 5
    flat = [tuple(bert_tokenizer(s, add_special_tokens=False)["input_ids"]) for doc in expected for s in doc]
    assert _sentences(corpus) == flat
    assert np.diff(corpus.doc_starts).tolist() == [len(doc) for doc in expected]


def test_held_out_chunks_do_not_move_when_files_are_added(tmp_path, bert_tokenizer):
    held = dict(val_fraction=0.3, test_fraction=0.3, split_chunk_sentences=1, boundary="blank_line")
    small = _dm(tmp_path / "a", ["reviews.txt"], bert_tokenizer, **held)
    large = _dm(tmp_path / "b", ["news.jsonl", "reviews.txt"], bert_tokenizer, **held)
    small.prepare_data(), large.prepare_data()
    for split in ("train", "val", "test"):
        assert set(_sentences(small.corpora[split])) <= set(_sentences(large.corpora[split]))
    assert small.corpora["val"].num_tokens and small.corpora["test"].num_tokens


def test_own_validation_files(tmp_path, bert_tokenizer):
    dm = _dm(tmp_path, ["reviews.txt"], bert_tokenizer, val_files=["news.jsonl"], val_fraction=0.5)
    assert dm.fractions == (0.0, 0.0)
    dm.prepare_data()
    assert dm.corpora["val"].num_documents == 4 and dm.corpora["train"].num_documents == 5


def test_every_worker_count_gives_the_same_cache(tmp_path, bert_tokenizer):
    one = _dm(tmp_path / "1", ["reviews.txt", "news.jsonl"], bert_tokenizer, shard_mb=0.0002)
    two = _dm(
        tmp_path / "2", ["reviews.txt", "news.jsonl"], bert_tokenizer, shard_mb=0.0002, tokenize_workers=2
    )
    one.prepare_data(), two.prepare_data()
    for name in ("ids", "sentence_starts", "doc_starts", "doc_work"):
        assert np.array_equal(getattr(one.corpora["train"], name), getattr(two.corpora["train"], name))


def test_a_killed_build_reuses_its_finished_shards_and_rebuilds_a_corrupt_one(
    tmp_path, bert_tokenizer, monkeypatch, caplog
):
    files = ["reviews.txt", "news.jsonl"]
    reference = _dm(tmp_path / "ref", files, bert_tokenizer, shard_mb=0.0002)
    reference.prepare_data()
    calls = []
    real = token_cache.build_shard

    def crash_on_fourth(docs, settings, target):
        calls.append(target.name)
        if len(calls) == 4:
            raise KeyboardInterrupt  # the process is killed mid-build
        real(docs, settings, target)

    monkeypatch.setattr(token_cache, "build_shard", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        _dm(tmp_path, files, bert_tokenizer, shard_mb=0.0002).prepare_data()
    shards = sorted((tmp_path / "cache").glob(".text-*.shards/shard-*"))
    assert [s.name for s in shards] == calls[:3]
    (shards[1] / "train.ids.npy").write_bytes(b"")  # a corrupt finished shard
    calls.clear()
    with caplog.at_level(logging.WARNING):
        dm = _dm(tmp_path, files, bert_tokenizer, shard_mb=0.0002)
        dm.prepare_data()
    assert shards[0].name not in calls and shards[1].name in calls and shards[2].name not in calls
    assert "rebuilding shard" in caplog.text
    assert _sentences(dm.corpora["train"]) == _sentences(reference.corpora["train"])
    assert not list((tmp_path / "cache").glob(".text-*"))  # shards merged and removed


def _ids_out_of_range(path):
    ids = np.load(path)
    ids[0] = 65000
    meta_path = path.parent / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["arrays"]["ids"]["crc32"] = array_files.crc32(ids)  # only the range check can catch it
    np.save(path, ids)
    meta_path.write_text(json.dumps(meta))


CORRUPTIONS = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:-7]),
    "zero_bytes": lambda p: p.write_bytes(b""),
    "overwritten_with_valid_ids": lambda p: p.write_bytes(p.read_bytes()[:-2] + b"\x01\x00"),
    "out_of_range_ids": _ids_out_of_range,
    "missing_metadata": lambda p: (p.parent.parent / "meta.json").unlink(),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_corrupt_cache_is_rebuilt_with_a_warning(tmp_path, bert_tokenizer, monkeypatch, caplog, corruption):
    dm = _dm(tmp_path, ["reviews.txt"], bert_tokenizer)
    dm.prepare_data()
    expected = _sentences(dm.corpora["train"])
    (cache,) = (tmp_path / "cache").iterdir()
    CORRUPTIONS[corruption](cache / "train" / "ids.npy")
    monkeypatch.setattr(array_files, "_VERIFIED", set())  # a new process: the first load checks checksums
    with caplog.at_level(logging.WARNING):
        again = _dm(tmp_path, ["reviews.txt"], bert_tokenizer)
        again.prepare_data()
    assert "failed its check, rebuilding" in caplog.text
    assert _sentences(again.corpora["train"]) == expected


def test_verify_on_request_and_stale_temporaries_removed(tmp_path, bert_tokenizer, caplog):
    dm = _dm(tmp_path, ["reviews.txt"], bert_tokenizer)
    dm.prepare_data()
    (cache,) = (tmp_path / "cache").iterdir()
    CORRUPTIONS["overwritten_with_valid_ids"](cache / "train" / "ids.npy")
    stale = tmp_path / "cache" / ".text-0000.abcd.bertlab-tmp"
    stale.mkdir()
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    with caplog.at_level(logging.WARNING):
        _dm(tmp_path, ["reviews.txt"], bert_tokenizer, verify_cache=True).prepare_data()
    assert "checksum differs" in caplog.text
    assert not stale.exists()


def test_bad_input_names_the_file_and_place(tmp_path, bert_tokenizer, caplog):
    with pytest.raises(DataError, match=r"'nothing/\*.txt' matches no file"):
        _dm(tmp_path, ["nothing/*.txt"], bert_tokenizer).paths  # noqa: B018
    (tmp_path / "bad.txt").write_bytes(b"fine line\nbad \xff byte\n")
    with pytest.raises(DataError, match=r"bad.txt:2: invalid UTF-8 at byte offset 14"):
        _texts(_dm(tmp_path, [str(tmp_path / "bad.txt")], bert_tokenizer, boundary="line"))
    with caplog.at_level(logging.WARNING):
        replaced = _texts(
            _dm(
                tmp_path,
                [str(tmp_path / "bad.txt")],
                bert_tokenizer,
                boundary="line",
                encoding_errors="replace",
            )
        )
    assert replaced[1] == "bad \ufffd byte" and "1 lines of all held invalid UTF-8" in caplog.text
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{"text": oops}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: not a JSON object"):
        _texts(_dm(tmp_path, [str(tmp_path / "bad.jsonl")], bert_tokenizer, boundary="record"))
    (tmp_path / "field.jsonl").write_text('{"body": "ok"}\n')
    with pytest.raises(DataError, match=r"field.jsonl:1: .*string field 'text'.*\['body'\]"):
        _texts(_dm(tmp_path, [str(tmp_path / "field.jsonl")], bert_tokenizer, boundary="record"))
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(b"some text\n" * 200)[:-30])
    with pytest.raises(DataError, match=r"cut.txt.gz: corrupt or truncated gzip"):
        _texts(_dm(tmp_path, [str(tmp_path / "cut.txt.gz")], bert_tokenizer))
    (tmp_path / "blank.txt").write_text("\n   \n\n")
    with pytest.raises(DataError, match="empty corpus"):
        _dm(tmp_path, [str(tmp_path / "blank.txt")], bert_tokenizer).prepare_data()
    assert not list((tmp_path / "cache").glob("text-*"))  # nothing half-written was kept as a cache
    with pytest.raises(ConfigError, match="exactly one source"):
        TextDataModule(str(TEXT))


def test_shakespeare_preset_gives_the_token_stream_of_the_old_pipeline(tmp_path, bert_tokenizer):
    """Before data=text, t8 was parse_t8 → split_corpus → one tokenizer call per sentence; with nothing held
    out, the preset's train split is that same stream (held-out chunks now come from a hash, not a seeded
    permutation, so with val/test fractions the assignment of chunks differs)."""
    shutil.copytree(FIXTURE_DATA / "shakespeare", tmp_path / "shakespeare")
    dm = _dm(
        tmp_path,
        ["shakespeare/t8.shakespeare.txt"],
        bert_tokenizer,
        data_dir=str(tmp_path),
        boundary="file",
        cleaner=t8_works,
        download=False,
    )
    dm.prepare_data()
    works = parse_t8((tmp_path / "shakespeare" / "t8.shakespeare.txt").read_text())
    old = [tuple(bert_tokenizer(s, add_special_tokens=False)["input_ids"]) for work in works for s in work]
    assert _sentences(dm.corpora["train"]) == old
    assert np.diff(dm.corpora["train"].doc_starts).tolist() == [len(w) for w in works]


def test_shakespeare_preset_on_the_real_t8(tmp_path, bert_tokenizer, real_data_dir):
    dm = _dm(
        tmp_path,
        ["shakespeare/t8.shakespeare.txt"],
        bert_tokenizer,
        data_dir=str(real_data_dir),
        boundary="file",
        cleaner=t8_works,
        download=False,
    )
    dm.prepare_data()
    path = dm.paths["all"][0]
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    sentences = [s for work in parse_t8(text) for s in work]
    old = bert_tokenizer(sentences, add_special_tokens=False)["input_ids"]
    assert dm.corpora["train"].num_tokens == sum(len(ids) for ids in old)
    assert _sentences(dm.corpora["train"]) == [tuple(ids) for ids in old]
