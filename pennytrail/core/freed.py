"""Handing memory a close has freed back to the system.

Arrow's allocator and the C library's keep memory that was freed for later use; to the system
(and to the 2 GiB a close promises) it is still the process's. A close's work comes in waves (a
file of 750,000 rows is read, checked and loaded, and then freed), and the contract process
judges alongside it: what one wave freed and kept would sit under the next wave's, and under
the other process's. ``give_back`` returns it after each wave: after a large file is read, after
a batch of files is loaded, after each contract is judged. It takes a few milliseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import pyarrow as pa


@cache
def _trim():
    """The C library's ``malloc_trim`` (glibc), or None where there is none."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def give_back() -> None:
    """Return the memory Arrow's pool and the C library hold freed to the system."""
    pa.default_memory_pool().release_unused()
    trim = _trim()
    if trim is not None:
        trim(0)
