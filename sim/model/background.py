"""One background thread for a run's side work: copying each day's records into the logs and drawing
the next day's new needs, while the main thread simulates the day.

The jobs run one at a time in the order submitted, and each reads only arrays that no one writes
after submitting them, so a run gives the same logs and draws as one done in line. The copies and
the hashing of the keyed draws run in numpy without the GIL, so the two threads share two cores.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["Background"]

T = TypeVar("T")


class Background:
    """Jobs run in submission order on one thread; :meth:`wait` returns when all are done.

    An error in a job is raised by the next :meth:`submit` or :meth:`wait` in the submitting thread.
    After :meth:`close` (or with ``threaded=False``) jobs run at once in the caller's thread.
    """

    def __init__(self, *, threaded: bool = True) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="townsim-background") if threaded else None
        self._jobs: deque[Future[Any]] = deque()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` after the jobs submitted before; its future."""
        while self._jobs and self._jobs[0].done():
            self._jobs.popleft().result()  # raises a finished job's error here
        if self._pool is None:
            done: Future[T] = Future()
            done.set_result(fn(*args, **kwargs))
            return done
        job = self._pool.submit(fn, *args, **kwargs)
        self._jobs.append(job)
        return job

    def wait(self) -> None:
        """Block until every job submitted so far has run (raising the first error)."""
        if self._pool is not None and threading.current_thread().name.startswith("townsim-background"):
            raise RuntimeError("Background.wait: called from a background job (it would wait for itself)")
        while self._jobs:
            self._jobs.popleft().result()

    def close(self) -> None:
        """Wait for the jobs, stop the thread; later jobs run in the caller's thread."""
        self.wait()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
