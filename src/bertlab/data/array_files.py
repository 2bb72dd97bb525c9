"""Directories of 1-D ``.npy`` arrays that check themselves: the token cache's storage.

Every array directory has a ``meta.json`` recording each array's dtype, shape and CRC-32 at write time. A load
always checks that the files exist with that dtype and shape; the checksum and the id range (every id below
the vocabulary size) are checked on the first load in a process, or on every load with ``checksum=True``. A
bad entry (truncated, zero bytes, overwritten, ids out of range, missing metadata) raises
:class:`CacheCorrupt`. Checks and merges use plain chunked reads and writes, never a memory map, so the
process stays small whatever the size of the arrays.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bertlab.atomic import atomic_directory, write_json

_CHUNK = 1 << 24  # elements per checksum step: bounded memory for any corpus size
_READ_BYTES = 1 << 24  # bytes per plain read when checking a file
_VERIFIED: set[str] = set()  # directories whose checksums this process has checked


class CacheCorrupt(Exception):
    """A cache entry failed a check; the caller rebuilds it (internal: the user did nothing wrong)."""


def crc32(array: np.ndarray) -> int:
    flat = np.ascontiguousarray(array).reshape(-1)
    value = 0
    for start in range(0, len(flat), _CHUNK):
        value = zlib.crc32(flat[start : start + _CHUNK].tobytes(), value)
    return value


def write_arrays(target: Path, arrays: dict[str, np.ndarray], extra: dict | None = None) -> None:
    """``<name>.npy`` per array and ``meta.json`` (dtype, shape, CRC-32), all or nothing."""
    with atomic_directory(target, replace=True) as tmp:
        meta = {"arrays": {}, **(extra or {})}
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array)
            meta["arrays"][name] = {
                "dtype": str(array.dtype),
                "shape": list(array.shape),
                "crc32": crc32(array),
            }
        write_json(tmp / "meta.json", meta)


def read_arrays(directory: Path, checksum: bool, vocab_size: int | None = None) -> dict[str, np.ndarray]:
    """Memory-map the arrays of ``directory`` after checking them against ``meta.json`` (see module doc)."""
    try:
        meta = json.loads((directory / "meta.json").read_text())
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in meta["arrays"]}
    except (OSError, ValueError, KeyError, EOFError) as err:  # missing, zero bytes, truncated, bad header
        raise CacheCorrupt(f"{directory}: unreadable ({type(err).__name__}: {err})") from None
    for name, array in arrays.items():
        expected = meta["arrays"][name]
        if str(array.dtype) != expected["dtype"] or list(array.shape) != expected["shape"]:
            raise CacheCorrupt(
                f"{directory / name}.npy: {array.dtype}{list(array.shape)}, recorded {expected}"
            )
    if checksum or str(directory) not in _VERIFIED:
        for name in arrays:
            value, largest = scan_npy(directory / f"{name}.npy")
            if value != meta["arrays"][name]["crc32"]:
                raise CacheCorrupt(
                    f"{directory / name}.npy: checksum differs from the one recorded at write time"
                )
            if name == "ids" and vocab_size is not None and largest >= vocab_size:
                raise CacheCorrupt(
                    f"{directory}/ids.npy: token id {largest} outside the vocabulary ({vocab_size})"
                )
        _VERIFIED.add(str(directory))
    return arrays


def scan_npy(path: Path) -> tuple[int, int]:
    """(CRC-32 of the data, largest value) of a 1-D ``.npy`` file, read in chunks with plain reads.

    Not through the memory map: every page a map touches stays in the process's RSS while the map lives, so
    checking a large cache that way would make the process as large as the cache.
    """
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else _header_2_0
        _, _, dtype = read_header(handle)
        value, largest, step = 0, -1, _READ_BYTES - _READ_BYTES % dtype.itemsize
        while chunk := handle.read(step):
            value = zlib.crc32(chunk, value)
            if len(chunk) >= dtype.itemsize:
                largest = max(largest, int(np.frombuffer(chunk, dtype).max()))
    return value, largest


_header_2_0 = np.lib.format.read_array_header_2_0  # versions 2 and 3 share the header layout


def write_npy(path: Path, dtype: str, sized: tuple[int, Iterator[np.ndarray]]) -> dict:
    """Write a 1-D ``.npy`` of the given length piece by piece; its meta entry (dtype, shape, CRC-32)."""
    size, pieces = sized
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
        "fortran_order": False,
        "shape": (size,),
    }
    value, written = 0, 0
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for piece in pieces:
            data = np.ascontiguousarray(piece, dtype=dtype).tobytes()
            handle.write(data)
            value, written = zlib.crc32(data, value), written + len(piece)
        if written != size:
            raise CacheCorrupt(f"{path}: merged {written} values, the shards' metadata promised {size}")
        handle.flush()
        os.fsync(handle.fileno())
    return {"dtype": str(np.dtype(dtype)), "shape": [size], "crc32": value}
