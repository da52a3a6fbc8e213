# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The queues' loops, compiled: first-come-first-served service starts, the visitors' order and the
longest queues (optional build of :mod:`sim.model.queue`; its Python/numpy versions give the same
numbers when it is absent)."""

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


def longest_waiting(
    const double[::1] arrival, const double[::1] start, const long long[::1] bounds
):
    """Per queue ``bounds[k]:bounds[k + 1]`` (arrivals ascending, starts non-decreasing), the most
    visitors waiting at an arrival instant: arrivals so far minus starts at or before it."""
    cdef Py_ssize_t n_queues = bounds.shape[0] - 1, k, i, j, lo, hi, waiting, most
    out = np.zeros(n_queues, dtype=np.int64)
    cdef long long[::1] longest = out
    with nogil:
        for k in range(n_queues):
            lo, hi = bounds[k], bounds[k + 1]
            j, most = lo, 0
            for i in range(lo, hi):
                while j < hi and start[j] <= arrival[i]:
                    j += 1
                waiting = (i - lo + 1) - (j - lo)
                if waiting > most:
                    most = waiting
            longest[k] = most
    return out


def facility_arrival_order(const long long[::1] fac, const double[::1] arrival, Py_ssize_t n_fac):
    """Visitors ordered by facility (0 .. n_fac - 1), then arrival, then given order, as
    ``np.lexsort((arrival, fac))``: a counting sort by facility, then a stable bottom-up merge sort
    of each facility's visitors by arrival (finite minutes)."""
    cdef Py_ssize_t n = fac.shape[0], i, f, lo, hi, width = 1, left, mid, right, a, b, t
    cdef bint in_work = False
    order_arr = np.empty(n, dtype=np.int64)
    work_arr = np.empty(n, dtype=np.int64)
    ends_arr = np.zeros(n_fac + 1, dtype=np.int64)
    cdef long long[::1] order = order_arr
    cdef long long[::1] work = work_arr
    cdef long long[::1] ends = ends_arr  # ends[f + 1]: end of facility f's visitors, ends[0] = 0
    cdef long long[::1] src
    cdef long long[::1] dst
    with nogil:
        for i in range(n):
            ends[fac[i] + 1] += 1
        for f in range(n_fac):
            ends[f + 1] += ends[f]
        for i in range(n):  # stable: each facility's visitors in the given order
            order[ends[fac[i]]] = i
            ends[fac[i]] += 1
        for f in range(n_fac, 0, -1):  # ends[f] moved to the end of f: shift back to the starts
            ends[f] = ends[f - 1]
        ends[0] = 0
        while width < n:  # each pass merges runs of ``width`` within every facility
            if in_work:
                src, dst = work, order
            else:
                src, dst = order, work
            for f in range(n_fac):
                lo, hi = ends[f], ends[f + 1]
                left = lo
                while left < hi:
                    mid = left + width if left + width < hi else hi
                    right = mid + width if mid + width < hi else hi
                    a, b, t = left, mid, left
                    while a < mid and b < right:
                        if arrival[src[b]] < arrival[src[a]]:
                            dst[t] = src[b]
                            b += 1
                        else:
                            dst[t] = src[a]
                            a += 1
                        t += 1
                    while a < mid:
                        dst[t] = src[a]
                        a += 1
                        t += 1
                    while b < right:
                        dst[t] = src[b]
                        b += 1
                        t += 1
                    left = right
            in_work = not in_work
            width *= 2
    return work_arr if in_work else order_arr
