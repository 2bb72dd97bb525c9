"""Token cache internals that keep memory flat: checks by plain reads, merge by pieces, workers without main."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bertlab.data import array_files
from bertlab.data.array_files import CacheCorrupt, read_arrays, scan_npy, write_arrays
from bertlab.data.token_cache import merge_shards
from tests.conftest import subprocess_env


@pytest.mark.parametrize("dtype", ["uint16", "int64"])
def test_scan_reads_the_checksum_and_largest_value_of_a_file(tmp_path, dtype, monkeypatch):
    monkeypatch.setattr(array_files, "_READ_BYTES", 1000)  # many chunks, one not a multiple of the item size
    values = np.random.default_rng(0).integers(0, 30000, size=1234).astype(dtype)
    np.save(tmp_path / "a.npy", values)
    assert scan_npy(tmp_path / "a.npy") == (array_files.crc32(values), int(values.max()))


def test_a_flipped_byte_or_an_out_of_range_id_is_caught_by_the_plain_read_check(tmp_path):
    write_arrays(tmp_path / "x", {"ids": np.arange(100, dtype=np.uint16)})
    read_arrays(tmp_path / "x", checksum=True, vocab_size=100)
    with pytest.raises(CacheCorrupt, match="outside the vocabulary"):
        read_arrays(tmp_path / "x", checksum=True, vocab_size=99)
    path = tmp_path / "x" / "ids.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(CacheCorrupt, match="checksum"):
        read_arrays(tmp_path / "x", checksum=True)


def _shard(directory, ids: list[list[int]], sentence_lengths: list[list[int]]) -> None:
    """A shard whose train split has the given documents (sentence lengths); val and test empty."""
    lengths = [n for doc in sentence_lengths for n in doc]
    arrays = {
        "train.ids": np.array([t for doc in ids for t in doc], dtype=np.uint16),
        "train.sentence_starts": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "train.doc_starts": np.concatenate([[0], np.cumsum([len(d) for d in sentence_lengths])]).astype(
            np.int64
        ),
        "train.doc_work": np.arange(len(ids), dtype=np.int64),
    }
    for split in ("val", "test"):
        arrays |= {f"{split}.ids": np.zeros(0, np.uint16), f"{split}.doc_work": np.zeros(0, np.int64)}
        arrays |= {
            f"{split}.sentence_starts": np.zeros(1, np.int64),
            f"{split}.doc_starts": np.zeros(1, np.int64),
        }
    write_arrays(directory, arrays)


def test_merge_rebases_offsets_shard_by_shard(tmp_path):
    _shard(tmp_path / "s0", [[5, 6, 7]], [[2, 1]])
    _shard(tmp_path / "s1", [[8], [9, 10]], [[1], [2]])
    merge_shards([tmp_path / "s0", tmp_path / "s1"], tmp_path / "cache", "uint16", vocab_size=11)
    train = read_arrays(tmp_path / "cache" / "train", checksum=True, vocab_size=11)
    assert train["ids"].tolist() == [5, 6, 7, 8, 9, 10] and train["ids"].dtype == np.uint16
    assert train["sentence_starts"].tolist() == [0, 2, 3, 4, 6]
    assert train["doc_starts"].tolist() == [0, 2, 3, 4]
    assert train["doc_work"].tolist() == [0, 0, 1]
    val = read_arrays(tmp_path / "cache" / "val", checksum=True)
    assert len(val["ids"]) == 0 and val["sentence_starts"].tolist() == [0]


def test_spawned_workers_do_not_import_the_main_module(tmp_path):
    """A main script that imports something heavy must not be re-imported by every tokenizing worker."""
    marker = tmp_path / "imported"
    script = tmp_path / "main_script.py"
    script.write_text(
        textwrap.dedent(f"""
        import os
        if __name__ != "__main__":
            open({str(marker)!r} + "-" + str(os.getpid()), "w").close()
        from pathlib import Path
        from bertlab.data.token_cache import ShardSettings, build_cache
        from bertlab.data.corpus import split_sentences
        from bertlab.tokenization import PretrainedTokenizer
        if __name__ == "__main__":
            tok = PretrainedTokenizer("bert-base-uncased").build()
            settings = ShardSettings(tok.backend_tokenizer.to_str(), split_sentences, (0.0, 0.0), 0, None, "uint16")
            shards = [[(i, None, "A sentence here. And another one.")] for i in range(4)]
            build_cache(Path({str(tmp_path / "cache")!r}), shards, settings, 2, len(tok))
        """)
    )
    subprocess.run([sys.executable, str(script)], check=True, timeout=120, env=subprocess_env(tmp_path))
    assert (tmp_path / "cache" / "train" / "ids.npy").exists()
    assert not list(tmp_path.glob("imported-*"))
