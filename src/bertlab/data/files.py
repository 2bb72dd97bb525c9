"""Find a data file in the data directory, or download it once and verify its checksum.

A data set is described by a :class:`RemoteFile`: the file name bertlab looks for, the official URL and the
sha256 of the decompressed content. Lookup order: ``<data_dir>/<subdir>/<name>``, then the same with ``.gz``,
then the copy shipped inside the package (only tiny Shakespeare, the default run's corpus, so that
``bertlab-train`` runs offline on a fresh install). When none exists the file is downloaded to a temporary name, verified, and only then renamed into place,
so a failed or corrupt download never leaves a half-written file behind.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from bertlab import atomic
from bertlab.errors import DataError

DATA_DIR_ENV = "BERTLAB_DATA_DIR"
PACKAGED_DIR = Path(__file__).resolve().parent / "packaged"


@dataclass(frozen=True)
class RemoteFile:
    """A data file bertlab knows how to find or fetch."""

    subdir: str
    name: str
    url: str
    sha256: str
    algorithm: str = (
        "sha256"  # hashlib name of the digest above; some publishers give only md5/sha1 (SQuAD v2.0)
    )
    packaged: str | None = None  # file name in bertlab/data/packaged/, used when the data directory lacks it

    def candidates(self, data_dir: str | Path) -> list[Path]:
        base = Path(data_dir).expanduser() / self.subdir
        return [base / self.name, base / f"{self.name}.gz"]


def open_text(path: str | Path) -> str:
    """Read a UTF-8 text file, transparently decompressing ``.gz``."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataError(
            f"{path}: truncated or corrupt gzip file ({err}); expected a complete .gz file. Delete it (bertlab "
            "downloads it again when data.download=true) or replace it with a complete copy"
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            f"{path}, line {line}: not UTF-8 text ({err.reason}); expected a UTF-8 file"
        ) from None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resolve(remote: RemoteFile, data_dir: str | Path, download: bool = True) -> Path:
    """Return the local path of ``remote``, downloading and verifying it if it is absent."""
    for candidate in remote.candidates(data_dir):
        if candidate.is_file():
            return candidate
    if remote.packaged is not None and (PACKAGED_DIR / remote.packaged).is_file():
        return PACKAGED_DIR / remote.packaged
    target = remote.candidates(data_dir)[0]
    if not download:
        raise DataError(
            f"{remote.name} not found: expected {target} (or {target}.gz). "
            f"Download it from {remote.url} or set {DATA_DIR_ENV} / paths.data_dir to the directory holding it."
        )
    _download_verified(remote, target)
    return target


def _download_verified(remote: RemoteFile, target: Path) -> None:
    try:
        with urllib.request.urlopen(remote.url, timeout=30) as response:
            payload = response.read()
    except OSError as err:
        raise DataError(
            f"{remote.name} not found at {target} (or {target}.gz) and downloading {remote.url} failed ({err}). "
            f"Place the file there or set {DATA_DIR_ENV} / paths.data_dir to a directory that holds it."
        ) from err
    write_verified(payload, remote, target)


def write_verified(payload: bytes, remote: RemoteFile, target: Path) -> None:
    """Write ``payload`` to ``target`` only if its sha256 matches; nothing is left behind otherwise."""
    content = gzip.decompress(payload) if payload[:2] == b"\x1f\x8b" else payload
    digest = hashlib.new(remote.algorithm, content).hexdigest()
    if digest != remote.sha256:
        raise DataError(
            f"checksum mismatch for {remote.url}: {remote.algorithm} {digest}, expected {remote.sha256}; "
            "the file was not used."
        )
    atomic.write_bytes(target, content)


@dataclass(frozen=True)
class RemoteArchive:
    """An official zip archive whose members bertlab extracts (e.g. CoLA's ``cola_public_1.1.zip``)."""

    url: str
    sha256: str


def resolve_zip_members(
    archive: RemoteArchive, members: dict[str, RemoteFile], data_dir: str | Path, download: bool = True
) -> dict[str, Path]:
    """Local paths of ``members`` (archive member name → local file), extracting missing ones from ``archive``.

    Present files are used as they are. Missing ones are taken from one download of the archive, whose
    sha256 is checked, and each extracted member is checked against its own sha256 before it is renamed
    into place; nothing is written when a check fails.
    """
    present = {m: next((c for c in r.candidates(data_dir) if c.is_file()), None) for m, r in members.items()}
    found = {m: path for m, path in present.items() if path is not None}
    missing = [m for m in members if m not in found]
    if not missing:
        return found
    targets = {m: members[m].candidates(data_dir)[0] for m in missing}
    if not download:
        raise DataError(
            f"{', '.join(str(t) for t in targets.values())} not found. Download {archive.url}, unzip it and place "
            f"the files there, or set {DATA_DIR_ENV} / paths.data_dir to the directory holding them."
        )
    payload = _fetch_archive(archive, targets)
    with zipfile.ZipFile(io.BytesIO(payload)) as zipped:
        for member in missing:
            try:
                content = zipped.read(member)
            except KeyError as err:
                raise DataError(f"{archive.url} has no member {member!r}") from err
            write_verified(content, members[member], targets[member])
            found[member] = targets[member]
    return found


def _fetch_archive(archive: RemoteArchive, targets: dict[str, Path]) -> bytes:
    expected = ", ".join(str(t) for t in targets.values())
    try:
        with urllib.request.urlopen(archive.url, timeout=30) as response:
            payload = response.read()
    except OSError as err:
        raise DataError(
            f"{expected} not found and downloading {archive.url} failed ({err}). Unzip the archive there or set "
            f"{DATA_DIR_ENV} / paths.data_dir to a directory that holds the files."
        ) from err
    digest = sha256_bytes(payload)
    if digest != archive.sha256:
        raise DataError(
            f"checksum mismatch for {archive.url}: sha256 {digest}, expected {archive.sha256}; nothing was extracted."
        )
    return payload
