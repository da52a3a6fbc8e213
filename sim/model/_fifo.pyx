# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""First-come-first-served service starts of many queues, compiled (optional build of
:mod:`sim.model.queue`; the pure-Python loop there gives the same floats when it is absent)."""

from libc.stdlib cimport free, malloc

import numpy as np


def fifo_starts(
    const double[::1] arrival,
    const double[::1] duration,
    const long long[::1] bounds,
    const long long[::1] servers,
    const double[::1] open_min,
    const double[::1] close_min,
):
    """Service start (min) of each visitor of queues ``bounds[k]:bounds[k + 1]`` (sorted by
    arrival) at ``servers[k]`` windows open from ``open_min[k]``; ``close_min[k]`` for those
    turned away at closing. The windows' free times are a binary heap, as with ``heapq``."""
    cdef Py_ssize_t n_queues = servers.shape[0], k, i, j, child, hi
    cdef long long c, c_max = 1
    cdef double start, done, close
    for k in range(n_queues):
        if servers[k] > c_max:
            c_max = servers[k]
    out = np.empty(arrival.shape[0])
    cdef double[::1] starts = out
    cdef double* windows = <double*> malloc(c_max * sizeof(double))
    if windows == NULL:
        raise MemoryError()
    try:
        for k in range(n_queues):
            c, close, hi = servers[k], close_min[k], bounds[k + 1]
            for j in range(c):
                windows[j] = open_min[k]
            for i in range(bounds[k], hi):
                start = arrival[i] if arrival[i] > windows[0] else windows[0]
                if start >= close:  # FIFO: everyone after starts no earlier, so all are turned away
                    for j in range(i, hi):
                        starts[j] = close
                    break
                starts[i] = start
                done, j = start + duration[i], 0  # the earliest window takes the visitor: sift down
                while True:
                    child = 2 * j + 1
                    if child >= c:
                        break
                    if child + 1 < c and windows[child + 1] < windows[child]:
                        child += 1
                    if windows[child] >= done:
                        break
                    windows[j] = windows[child]
                    j = child
                windows[j] = done
    finally:
        free(windows)
    return out
