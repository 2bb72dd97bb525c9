"""Process-level settings that make CPU training faster; applied by ``bertlab-train`` (``cpu_allocator``).

glibc's malloc serves blocks above a dynamic threshold (at most 32 MB) with ``mmap`` and returns them to the
kernel on ``free``. A training step on CPU allocates and frees tens of such blocks (activations, the logits
of the vocabulary projection, optimizer temporaries), so every step pays page faults and kernel zeroing for
the same memory again. ``cached`` raises the mmap and trim thresholds to 1 GiB: freed blocks stay in the
heap and are reused (what it gains on a machine: ``benchmarks/mlm_vs_hf.py --variant cpu_allocator=default``;
``benchmarks/profile_step.py`` prints the page faults per step). Peak resident memory is unchanged; memory
freed late in a run is not returned to the kernel until the process ends.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # <malloc.h>
_CACHED_BYTES = 1 << 30
ALLOCATORS = ("cached", "default")


def configure_allocator(mode: str) -> bool:
    """``cached``: keep freed large blocks for reuse (glibc only); ``default``: leave malloc alone.

    Returns whether the setting was applied; on a C library without ``mallopt`` it logs and returns False.
    """
    if mode not in ALLOCATORS:
        raise ValueError(f"cpu_allocator={mode!r}: expected one of {ALLOCATORS}")
    if mode == "default":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        log.info("cpu_allocator=cached: this C library has no mallopt; left as it is")
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    applied = (
        mallopt(_M_MMAP_THRESHOLD, _CACHED_BYTES) == 1 and mallopt(_M_TRIM_THRESHOLD, _CACHED_BYTES) == 1
    )
    if not applied:
        log.warning("cpu_allocator=cached: mallopt refused the thresholds; malloc left as it is")
    return applied
