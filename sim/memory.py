"""Giving freed memory back to the operating system."""

from __future__ import annotations

import ctypes

__all__ = ["release_free_memory"]


def release_free_memory() -> None:
    """Return the C allocator's free memory to the system (glibc ``malloc_trim``; nothing elsewhere).

    Memory freed by worker threads stays in their own allocator arenas, where the main thread does not
    reuse it: after threaded work (the bus tables) this keeps it from adding to the run's peak.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # pragma: no cover - not glibc
        return
    trim(0)
