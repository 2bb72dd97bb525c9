"""Shakespeare corpus: boilerplate removed, document boundaries kept, deterministic split, cached tokens."""

from __future__ import annotations

import numpy as np
import pytest

from bertlab.data import token_cache
from bertlab.data.corpus import assign_splits
from bertlab.data.shakespeare import parse_t8, parse_tiny, t8_works
from bertlab.data.text import TextDataModule
from bertlab.tokenization import PretrainedTokenizer
from tests.conftest import FIXTURE_DATA

T8 = (FIXTURE_DATA / "shakespeare" / "t8.shakespeare.txt").read_text()


def _datamodule(tmp_path, **kwargs) -> TextDataModule:
    """The ``data=shakespeare`` preset on the fixture file."""
    from bertlab.data.collators import MLMCollator

    settings = dict(
        data_dir=str(FIXTURE_DATA),
        files=["shakespeare/t8.shakespeare.txt"],
        boundary="file",
        cleaner=t8_works,
        tokenize_workers=1,
        max_length=32,
        batch_size=2,
        val_fraction=0.2,
        test_fraction=0.2,
        split_chunk_sentences=4,
        split_seed=1301,
        cache_dir=str(tmp_path / "cache"),
        download=False,
    )
    settings.update(kwargs)
    dm = TextDataModule(**settings)
    dm.attach(PretrainedTokenizer("bert-base-uncased").build(dm.training_texts), MLMCollator)
    return dm


def test_t8_boilerplate_is_stripped_and_each_work_is_a_document():
    works = parse_t8(T8)
    assert len(works) == 3
    text = " ".join(s for w in works for s in w)
    for boilerplate in ("<<", "Gutenberg", "SMALL PRINT", "End of this Etext", "THE END", "1609"):
        assert boilerplate not in text
    assert works[0][0].startswith("THE SONNETS")
    assert works[1][-1] == "There, my lord."
    assert "To be, or not to be, that is the question." in works[1][3]


def test_tiny_is_one_document_of_sentences():
    works = parse_tiny((FIXTURE_DATA / "shakespeare" / "tiny_shakespeare.txt").read_text())
    assert len(works) == 1 and works[0][0] == "First Citizen: Before we proceed any further, hear me speak."


def test_split_is_deterministic_by_seed_and_a_partition_of_each_work():
    for work in parse_t8(T8):
        a = assign_splits(work, (0.2, 0.2), seed=1, chunk_sentences=4)
        assert a == assign_splits(work, (0.2, 0.2), seed=1, chunk_sentences=4)
        assert [s for _, run in a for s in run] == work  # in order: nothing lost or repeated
        assert all(a[i][0] != a[i + 1][0] for i in range(len(a) - 1))  # same-split neighbours merged
    works = parse_t8(T8)
    splits = [[split for split, _ in assign_splits(w, (0.2, 0.2), seed, 4)] for seed in (1, 2) for w in works]
    assert splits[:3] != splits[3:]


def test_prepare_data_caches_and_a_second_run_reuses_it(tmp_path, monkeypatch):
    dm = _datamodule(tmp_path)
    dm.prepare_data()
    dm.setup("fit")
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(cached) == 1 and sorted(p.name for p in (tmp_path / "cache" / cached[0]).iterdir()) == [
        "meta.json", "test", "train", "val"
    ]  # fmt: skip
    blocks = np.asarray(dm.datasets["train"].blocks)

    def _no_tokenizing(*args, **kwargs):
        raise AssertionError("tokenized again despite a cache")

    monkeypatch.setattr(token_cache, "build_shard", _no_tokenizing)
    again = _datamodule(tmp_path)
    again.prepare_data()
    again.setup("fit")
    assert np.array_equal(again.datasets["train"].blocks, blocks)
    assert isinstance(again.corpora["train"].ids, np.memmap)


def test_blocks_are_framed_and_batches_are_masked(tmp_path):
    dm = _datamodule(tmp_path)
    dm.prepare_data()
    dm.setup("fit")
    tok = dm.tokenizer
    blocks = np.asarray(dm.datasets["train"].blocks)
    assert blocks.shape[1] == 32
    assert (blocks[:, 0] == tok.cls_token_id).all() and (blocks[:, -1] == tok.sep_token_id).all()
    batch = next(iter(dm.train_dataloader()))
    assert batch["input_ids"].shape == (2, 32) and batch["labels"].shape == (2, 32)
    assert (batch["labels"] != -100).any()


def test_static_masking_duplicates_the_training_set(tmp_path):
    dynamic = _datamodule(tmp_path)
    static = _datamodule(tmp_path, masking="static", dupe_factor=3)
    for dm in (dynamic, static):
        dm.setup("fit")
    assert len(static.datasets["train"]) == 3 * len(dynamic.datasets["train"])
    assert len(static.datasets["val"]) == len(dynamic.datasets["val"])


def test_empty_corpus_names_the_file(tmp_path):
    (tmp_path / "shakespeare").mkdir()
    (tmp_path / "shakespeare" / "t8.shakespeare.txt").write_text("only a header, no works\n")
    dm = _datamodule(tmp_path, data_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"t8\.shakespeare\.txt: empty corpus"):
        dm.prepare_data()


def test_block_larger_than_split_is_a_clear_error(tmp_path):
    dm = _datamodule(tmp_path, max_length=4096)
    with pytest.raises(ValueError, match="fewer than one block of data.max_length=4096"):
        dm.setup("fit")
