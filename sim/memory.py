"""The C allocator's memory: one arena for all threads, and freed memory given back to the system.

Both act on glibc's ``malloc`` (Linux) and do nothing elsewhere. Memory a thread frees stays in that
thread's allocator arena, where other threads do not reuse it; the run's threaded parts (the bus
tables, the Parquet writers beside the summary) would each add their own high-water mark to the
process's peak. Arrow is pointed at the same allocator (its ``system`` pool) instead of its own
mimalloc heaps, which hold on to what the Parquet writers free.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

__all__ = ["one_allocator_arena", "release_free_memory"]

_M_ARENA_MAX = -8  # glibc <malloc.h>


def _libc(name: str) -> Callable[..., Any] | None:
    """The C library function ``name``, None where the library has none (not glibc)."""
    try:
        function: Callable[..., Any] = getattr(ctypes.CDLL(None), name)
        return function
    except (AttributeError, OSError):  # pragma: no cover - not glibc
        return None


def one_allocator_arena() -> None:
    """Let every thread allocate from one arena (``mallopt(M_ARENA_MAX, 1)``): what one thread frees,
    another reuses; Arrow allocates there too (``ARROW_DEFAULT_MEMORY_POOL=system`` unless set; read
    when Arrow first allocates). Set by the CLI before it starts any thread or imports Arrow."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    mallopt = _libc("mallopt")
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, 1)


def release_free_memory() -> None:
    """Return the allocator's free memory to the system (``malloc_trim(0)``)."""
    trim = _libc("malloc_trim")
    if trim is not None:
        trim(0)
