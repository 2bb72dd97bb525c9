"""Shakespeare corpus: boilerplate removed, document boundaries kept, deterministic split, cached tokens."""

from __future__ import annotations

import numpy as np
import pytest

from bertlab.data.corpus import TokenizedCorpus, split_corpus
from bertlab.data.shakespeare import ShakespeareDataModule, parse_t8, parse_tiny
from bertlab.tokenization import PretrainedTokenizer
from tests.conftest import FIXTURE_DATA

T8 = (FIXTURE_DATA / "shakespeare" / "t8.shakespeare.txt").read_text()


def _datamodule(tmp_path, **kwargs) -> ShakespeareDataModule:
    from bertlab.data.collators import MLMCollator

    settings = dict(
        data_dir=str(FIXTURE_DATA),
        max_length=32,
        batch_size=2,
        val_fraction=0.2,
        test_fraction=0.2,
        split_chunk_sentences=4,
        cache_dir=str(tmp_path / "cache"),
        download=False,
    )
    settings.update(kwargs)
    dm = ShakespeareDataModule(**settings)
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


def test_split_is_deterministic_and_keeps_work_identity():
    works = parse_t8(T8)
    a = split_corpus(works, (0.2, 0.2), seed=1, chunk_sentences=4)
    b = split_corpus(works, (0.2, 0.2), seed=1, chunk_sentences=4)
    c = split_corpus(works, (0.2, 0.2), seed=2, chunk_sentences=4)
    assert a == b and a != c
    all_sentences = sorted(s for split in a.values() for d in split for s in d.sentences)
    assert all_sentences == sorted(s for w in works for s in w)  # a partition: nothing lost or repeated
    for docs in a.values():
        for doc in docs:
            assert set(doc.sentences) <= set(works[doc.work])


def test_tokenized_corpus_keeps_sentence_and_document_boundaries(bert_tokenizer):
    docs = split_corpus(parse_t8(T8), (0.0, 0.0), seed=0, chunk_sentences=1000)["train"]
    corpus = TokenizedCorpus.from_documents(docs, bert_tokenizer)
    assert corpus.num_documents == 3
    for d, doc in enumerate(docs):
        expected = [
            t for s in doc.sentences for t in bert_tokenizer(s, add_special_tokens=False)["input_ids"]
        ]
        assert corpus.document_tokens(d).tolist() == expected
    s = int(corpus.doc_starts[1])  # first sentence of the second work
    first = corpus.ids[corpus.sentence_starts[s] : corpus.sentence_starts[s + 1]]
    assert bert_tokenizer.decode(first).startswith("the tragedy of hamlet")


def test_prepare_data_caches_and_a_second_run_reuses_it(tmp_path, monkeypatch):
    dm = _datamodule(tmp_path)
    dm.prepare_data()
    dm.setup("fit")
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(cached) == 3
    blocks = dm.datasets["train"].blocks

    def _no_tokenizing(*args, **kwargs):
        raise AssertionError("tokenized again despite a cache")

    monkeypatch.setattr(TokenizedCorpus, "from_documents", _no_tokenizing)
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
    blocks = dm.datasets["train"].blocks
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
        dm.setup("fit")


def test_block_larger_than_split_is_a_clear_error(tmp_path):
    dm = _datamodule(tmp_path, max_length=4096)
    with pytest.raises(ValueError, match="fewer than one block of data.max_length=4096"):
        dm.setup("fit")
