"""The atomic-write helpers: whole or nothing, in the target's directory, permissions from the umask."""

from __future__ import annotations

import os
import stat
import time

import pytest

from bertlab import atomic


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_replaces_whole_and_follows_umask(tmp_path):
    target = tmp_path / "out.json"
    old = os.umask(0o022)
    try:
        atomic.write_json(target, {"a": 1})
    finally:
        os.umask(old)
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert _mode(target) == 0o644
    assert list(tmp_path.iterdir()) == [target]


def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError), atomic.atomic_file(target) as handle:
        handle.write(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"good"
    assert list(tmp_path.iterdir()) == [target]


def test_directory_refuses_existing_target_unless_replace(tmp_path):
    target = tmp_path / "hf"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(FileExistsError), atomic.atomic_directory(target):
        pass
    assert (target / "old.txt").read_text() == "old"
    old = os.umask(0o027)
    try:
        with atomic.atomic_directory(target, replace=True) as tmp:
            assert tmp.parent == tmp_path
            (tmp / "new.txt").write_text("new")
    finally:
        os.umask(old)
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert _mode(target) == 0o750
    assert [p.name for p in tmp_path.iterdir()] == ["hf"]


def test_failed_directory_keeps_the_old_one(tmp_path):
    target = tmp_path / "hf"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(ValueError), atomic.atomic_directory(target, replace=True) as tmp:
        (tmp / "new.txt").write_text("new")
        raise ValueError("boom")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["hf"]


def test_remove_stale_deletes_only_old_temporaries(tmp_path):
    stale = tmp_path / f".cache.abc{atomic.SUFFIX}"
    stale.mkdir()
    fresh = tmp_path / f".other.def{atomic.SUFFIX}"
    fresh.write_text("x")
    keep = tmp_path / "cache"
    keep.mkdir()
    past = time.time() - 3600
    os.utime(stale, (past, past))
    removed = atomic.remove_stale(tmp_path, older_than=time.time() - 60)
    assert removed == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, "cache"])
