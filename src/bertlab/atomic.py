"""Every file bertlab writes appears whole or not at all, in the directory it ends up in.

A writer fills a temporary sibling of its target (same directory, hence same filesystem), flushes and fsyncs
it, gives it the permissions the umask allows (``mkstemp``/``mkdtemp`` would leave 0600/0700) and renames it
over the target. A rename within one directory is atomic on POSIX filesystems; a move across filesystems (what
``shutil.move`` and Lightning's ``$TMPDIR`` staging fall back to) is a copy that a kill can cut in half.

Temporaries are named ``.<target>.<random>.bertlab-tmp``; :func:`remove_stale` deletes the ones an earlier,
killed process left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

SUFFIX = ".bertlab-tmp"
_PROCESS_START = time.time()


def umask() -> int:
    """The process umask, read without changing it where /proc allows (``os.umask`` alone must set one)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not every platform opens directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_file(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; on a clean exit it replaces ``path``.

    On an exception the temporary is removed and ``path`` keeps its previous content (or stays absent).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=SUFFIX)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_file(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    with atomic_file(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Path(path)


def write_json(path: str | Path, payload: Any, indent: int | None = 2) -> Path:
    return write_text(path, json.dumps(payload, indent=indent, ensure_ascii=False) + "\n")


@contextmanager
def atomic_directory(target: str | Path, replace: bool = False) -> Iterator[Path]:
    """Yield an empty temporary sibling directory; on a clean exit it becomes ``target``.

    ``replace=False`` refuses an existing ``target`` (``FileExistsError``). With ``replace=True`` an existing
    ``target`` is swapped out by renames and removed only after the new directory is in place, so a kill
    leaves either the old or the new directory under ``target`` (plus, at worst, a stale temporary).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not replace:
        raise FileExistsError(f"{target} already exists")
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=SUFFIX))
    try:
        os.chmod(tmp, 0o777 & ~umask())
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old.", suffix=SUFFIX))
            os.replace(target, old / target.name)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_directory(target.parent)


def remove_stale(directory: str | Path, older_than: float | None = None) -> list[Path]:
    """Delete bertlab temporaries in ``directory`` last modified before ``older_than`` (default: this process
    started), i.e. left by a process that was killed mid-write. Returns what was removed."""
    cutoff = _PROCESS_START if older_than is None else older_than
    removed = []
    for entry in Path(directory).glob(f".*{SUFFIX}"):
        try:
            if entry.lstat().st_mtime >= cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue
        removed.append(entry)
    return removed
