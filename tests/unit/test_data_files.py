"""Finding, downloading and verifying data files; nothing half-written on failure."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from bertlab.data.files import RemoteFile, open_text, resolve
from bertlab.errors import DataError

CONTENT = b"To be, or not to be, that is the question.\n"


def _remote(url: str, content: bytes = CONTENT) -> RemoteFile:
    return RemoteFile("shakespeare", "play.txt", url, hashlib.sha256(content).hexdigest())


def test_local_txt_and_gz_are_found(tmp_path):
    (tmp_path / "shakespeare").mkdir()
    (tmp_path / "shakespeare" / "play.txt.gz").write_bytes(gzip.compress(CONTENT))
    path = resolve(_remote("file:///nonexistent"), tmp_path)
    assert path.name == "play.txt.gz" and open_text(path) == CONTENT.decode()


def test_missing_offline_names_expected_path_and_url(tmp_path):
    with pytest.raises(DataError) as err:
        resolve(_remote("file:///nonexistent/play.txt"), tmp_path)
    message = str(err.value)
    assert str(tmp_path / "shakespeare" / "play.txt") in message and "file:///nonexistent/play.txt" in message
    with pytest.raises(DataError, match="play.txt"):
        resolve(_remote("file:///nonexistent/play.txt"), tmp_path, download=False)


def test_download_is_verified_and_placed(tmp_path):
    source = tmp_path / "mirror.txt"
    source.write_bytes(CONTENT)
    path = resolve(_remote(source.as_uri()), tmp_path / "data")
    assert path.read_bytes() == CONTENT
    assert [p.name for p in path.parent.iterdir()] == ["play.txt"]


def test_checksum_mismatch_leaves_nothing_behind(tmp_path):
    source = tmp_path / "mirror.txt"
    source.write_bytes(b"tampered")
    with pytest.raises(DataError, match="checksum mismatch"):
        resolve(_remote(source.as_uri()), tmp_path / "data")
    target_dir = tmp_path / "data" / "shakespeare"
    assert not target_dir.exists() or not any(target_dir.iterdir())


def test_packaged_tiny_shakespeare_is_used_only_when_the_data_directory_lacks_it(tmp_path):
    from bertlab.data.files import PACKAGED_DIR
    from bertlab.data.shakespeare import SOURCES

    tiny = SOURCES["tiny"]
    packaged = resolve(tiny, tmp_path / "empty", download=False)
    assert packaged == PACKAGED_DIR / "tiny_shakespeare.txt.gz"
    assert hashlib.sha256(open_text(packaged).encode()).hexdigest() == tiny.sha256  # the official file
    (tmp_path / "data" / "shakespeare").mkdir(parents=True)
    (tmp_path / "data" / "shakespeare" / "tiny_shakespeare.txt").write_bytes(CONTENT)
    assert (
        resolve(tiny, tmp_path / "data", download=False) == tmp_path / "data/shakespeare/tiny_shakespeare.txt"
    )
    with pytest.raises(DataError, match="t8.shakespeare.txt"):  # t8 ships with nothing
        resolve(SOURCES["t8"], tmp_path / "empty", download=False)
