"""Dask worker preload: a sweep's worker processes ignore SIGINT.

A terminal's Ctrl-C goes to the whole process group; the sweep's own process stops the sweep
and closes the cluster, so the workers need not (and must not print tracebacks).
"""

from __future__ import annotations

import signal


def dask_setup(worker: object) -> None:
    """Called by Dask in each worker process at start."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
