"""What a run records day by day, in growing column buffers (no concatenation at the end)."""

from __future__ import annotations

import mmap
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["ColumnLog", "ErrandLog", "group_quantile"]


#: Flags of the logs' memory maps: private, so that pages never written read as the kernel's shared
#: zero page and take no memory (a shared anonymous map gives each page read its own memory).
_MAP_FLAGS = {"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS} if hasattr(mmap, "MAP_ANONYMOUS") else {}


def _lazy_zeros(n: int, dtype: DTypeLike) -> np.ndarray:
    """A zeroed array of ``n`` items in its own anonymous memory map: the OS maps its pages one
    small page at a time on first write (numpy's own large arrays ask for huge pages, and faulting
    those in row by row costs far more, in compaction and zeroing, than the rows written); pages
    only read (columns left zero, e.g. bus waits in a run without buses) take no memory."""
    dt = np.dtype(dtype)
    return np.frombuffer(mmap.mmap(-1, max(n * dt.itemsize, 1), **_MAP_FLAGS), dtype=dt, count=n)


class ColumnLog:
    """Named columns that grow by appended rows.

    Rows go into preallocated arrays that double when full (amortised O(1) per row); pages
    beyond the rows written are never touched, so a generous first capacity costs no memory.
    :meth:`columns` returns views of the rows written, without copying.

    Args:
        dtypes: column name -> dtype.
        capacity: rows to allocate at first.
        sync: called before the rows are read (``len``, :meth:`columns`): waits for writes submitted
            to another thread (:class:`sim.model.background.Background`); None when writes are direct.
    """

    def __init__(
        self, dtypes: Mapping[str, DTypeLike], capacity: int = 1024, *, sync: Callable[[], None] | None = None
    ) -> None:
        self._cols = {name: _lazy_zeros(max(capacity, 1), dtype) for name, dtype in dtypes.items()}
        self.n = 0
        self._sync = sync
        self._watchers: list[Callable[[int], None]] = []

    def __len__(self) -> int:
        if self._sync is not None:
            self._sync()
        return self.n

    def _reserve(self, rows: int) -> None:
        cap = len(next(iter(self._cols.values())))
        if rows <= cap:
            return
        for name, old in self._cols.items():
            new = _lazy_zeros(max(rows, 2 * cap), old.dtype)
            new[: self.n] = old[: self.n]
            self._cols[name] = new

    def append(self, **columns: np.ndarray | float) -> None:
        """Append rows: one array (or scalar, repeated) per column, arrays of equal length.

        A scalar zero is not written: rows past those appended are zeros already (and their
        pages, never touched, cost no memory).
        """
        m = max((v.shape[0] for v in columns.values() if isinstance(v, np.ndarray) and v.ndim), default=0)
        self._reserve(self.n + m)
        for name, col in self._cols.items():
            value = columns[name]
            if np.ndim(value) == 0 and value == 0:
                continue
            col[self.n : self.n + m] = value
        self.n += m
        for watcher in self._watchers:
            watcher(self.n)

    def on_append(self, watcher: Callable[[int], None]) -> None:
        """Call ``watcher(rows written so far)`` after each :meth:`append`, in the appending thread
        (appended rows are final: it may read them with :meth:`rows`)."""
        self._watchers.append(watcher)

    def columns(self) -> dict[str, np.ndarray]:
        """Views of the rows appended so far, per column."""
        if self._sync is not None:
            self._sync()
        return self.rows(0, self.n)

    def rows(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Views of rows ``start`` to ``stop - 1`` per column, without waiting for writes on another
        thread (for the appending thread, or after :meth:`columns` or ``len``)."""
        return {name: col[start:stop] for name, col in self._cols.items()}


class ErrandLog(ColumnLog):
    """Columns indexed by a dense id (row i = id i): records land at their ids, in any order."""

    def put(self, ids: np.ndarray, **columns: np.ndarray | float) -> None:
        """Write the given ids' rows (ids 0..n-1 overall, each written at least once by the end)."""
        if len(ids) == 0:
            return
        top = int(ids.max()) + 1
        self._reserve(top)
        self.n = max(self.n, top)
        for name, col in self._cols.items():
            col[ids] = columns[name]


def group_quantile(values: np.ndarray, key: np.ndarray, n_keys: int, q: float) -> np.ndarray:
    """Quantile ``q`` of ``values`` within each key 0..n_keys-1 (linear interpolation; NaN if empty).

    Sorts by value (numpy's vectorised sort: any order of equal values gives the same quantiles),
    then stably by key (a radix sort when keys fit 16 bits); the same values as ``pandas``
    ``groupby(key).quantile(q)``.
    """
    count = np.bincount(key, minlength=n_keys)
    out = np.full(n_keys, np.nan)
    has = count > 0
    if not has.any():
        return out
    by_value = np.argsort(values)
    key_sorted = key[by_value]
    by_key = np.argsort(key_sorted.astype(np.uint16) if n_keys <= 1 << 16 else key_sorted, kind="stable")
    ordered = values[by_value[by_key]]
    start = (np.cumsum(count) - count)[has]
    pos = q * (count[has] - 1)
    lo = np.floor(pos).astype(np.int64)
    lo_v, hi_v = ordered[start + lo], ordered[start + np.minimum(lo + 1, count[has] - 1)]
    out[has] = lo_v + (hi_v - lo_v) * (pos - lo)
    return out
