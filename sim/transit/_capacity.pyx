# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Capacity boarding compiled (optional build of :mod:`sim.transit.capacity`; its Python versions
``_add_if_fits``, ``_lookup_spans`` and ``_board_events`` give the same floats when it is absent):
the fits-already check, the candidate runs' lookup and the FIFO boarding events. The waiting riders
are ordered as Python tuples (departure, ready, row, leg, run) compare: the planned first runs sorted
at once, merged with a binary heap of the later offers (refused riders, later legs)."""

from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy

import numpy as np

cdef double _EPS = 1e-9


cdef struct Entry:
    double dep  # departure of the run offered (min)
    double ready  # when the rider is at the stop (min)
    int64_t row
    int64_t leg
    int64_t run


cdef inline bint _before(Entry* a, Entry* b) noexcept nogil:
    """Whether ``a`` comes before ``b``: tuple order of (dep, ready, row, leg, run)."""
    if a.dep != b.dep:
        return a.dep < b.dep
    if a.ready != b.ready:
        return a.ready < b.ready
    if a.row != b.row:
        return a.row < b.row
    if a.leg != b.leg:
        return a.leg < b.leg
    return a.run < b.run


cdef inline void _push(Entry* heap, Py_ssize_t* size, Entry item) noexcept nogil:
    """Add ``item`` to the heap of ``size[0]`` entries (sift up)."""
    cdef Py_ssize_t i = size[0], parent
    size[0] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(&item, &heap[parent]):
            break
        heap[i] = heap[parent]
        i = parent
    heap[i] = item


cdef inline Entry _pop(Entry* heap, Py_ssize_t* size) noexcept nogil:
    """Remove and return the first entry of the non-empty heap (the last one sifts down)."""
    cdef Entry top = heap[0], last
    cdef Py_ssize_t n, i = 0, child
    size[0] -= 1
    n = size[0]
    if n > 0:
        last = heap[n]
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n and _before(&heap[child + 1], &heap[child]):
                child += 1
            if not _before(&heap[child], &last):
                break
            heap[i] = heap[child]
            i = child
        heap[i] = last
    return top


cdef inline bint _all_numbers(const double[::1] x) noexcept nogil:
    """Whether none of ``x`` is NaN or infinite."""
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        if not (x[i] - x[i] == 0.0):
            return False
    return True


cdef inline bint _all_numbers_2d(const double[:, ::1] x) noexcept nogil:
    """Whether none of ``x`` is NaN or infinite."""
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        if not _all_numbers(x[i]):
            return False
    return True


cdef void _sort(Entry* a, Entry* buf, Py_ssize_t n) noexcept nogil:
    """Sort ``a[:n]`` by :func:`_before` (a total order here; ``buf`` holds n more): insertion sort
    of runs of 16, then bottom-up merges."""
    cdef Py_ssize_t lo, hi, mid, i, j, k, width = 16
    cdef Entry x
    cdef Entry* src = a
    cdef Entry* dst = buf
    cdef Entry* swap
    lo = 0
    while lo < n:
        hi = lo + 16 if lo + 16 < n else n
        for i in range(lo + 1, hi):
            x = a[i]
            j = i
            while j > lo and _before(&x, &a[j - 1]):
                a[j] = a[j - 1]
                j -= 1
            a[j] = x
        lo = hi
    while width < n:
        lo = 0
        while lo < n:
            mid = lo + width if lo + width < n else n
            hi = lo + 2 * width if lo + 2 * width < n else n
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if _before(&src[j], &src[i]):
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
            lo = hi
        swap = src
        src = dst
        dst = swap
        width *= 2
    if src != a:
        memcpy(a, src, n * sizeof(Entry))


ctypedef fused sorted_t:
    double
    int64_t


cdef inline Py_ssize_t _first_at_or_after(
    const sorted_t[::1] values, Py_ssize_t lo, Py_ssize_t hi, sorted_t x
) noexcept nogil:
    """First index in ``lo:hi`` (ascending ``values``) with ``values >= x`` (``hi`` if none), as
    ``lo + np.searchsorted(values[lo:hi], x)``."""
    cdef Py_ssize_t mid
    while lo < hi:
        mid = lo + ((hi - lo) >> 1)
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def add_if_fits(onboard_arr, room_arr, legs, double weight):
    """``_add_if_fits`` of :mod:`sim.transit.capacity` (same arguments, same floats: the load is
    built as ``np.add.at`` and ``np.cumsum`` build it). Legs int64, the rest float64, C-contiguous."""
    cdef double[::1] onboard = onboard_arr
    cdef const double[::1] room = room_arr
    cdef const int64_t[:, ::1] trip = legs[0]
    cdef const int64_t[:, ::1] board = legs[1]
    cdef const int64_t[:, ::1] alight = legs[2]
    cdef Py_ssize_t n_st = onboard.shape[0], i, k, s
    cdef bint used = False, fits = True
    cdef double* load = <double*> calloc(n_st + 1, sizeof(double))  # the difference, then its cumsum
    if load == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(trip.shape[0]):
                for k in range(trip.shape[1]):
                    if trip[i, k] >= 0:
                        used = True
                        load[board[i, k]] += weight
            for i in range(trip.shape[0]):
                for k in range(trip.shape[1]):
                    if trip[i, k] >= 0:
                        load[alight[i, k]] += -weight
            for s in range(1, n_st):
                load[s] = load[s - 1] + load[s]
            if used:
                for s in range(n_st):
                    if not onboard[s] + load[s] <= room[s]:
                        fits = False
                        break
            if fits:
                for s in range(n_st):
                    onboard[s] += load[s]
    finally:
        free(load)
    return fits


def lookup_spans(tables, st_stop_arr, int64_t n_stops, legs, spans):
    """``_lookup_spans`` of :mod:`sim.transit.capacity` (same arguments, same results: each leg's
    key is looked for among its boarding stop-time's keys; the spans of legs found may be written
    when it returns a count). All arrays int64, C-contiguous."""
    cdef const int64_t[::1] codes = tables[0]
    cdef const int64_t[::1] keys = tables[1]
    cdef const int64_t[::1] key_order = tables[2]
    cdef const int64_t[::1] st_keys = tables[3]
    cdef const int64_t[::1] run_pair = tables[4]
    cdef const int64_t[::1] start = tables[5]
    cdef const int64_t[::1] st_stop = st_stop_arr
    cdef const int64_t[:, ::1] trip = legs[0]
    cdef const int64_t[:, ::1] board = legs[1]
    cdef const int64_t[:, ::1] alight = legs[2]
    cdef int64_t[:, ::1] lo = spans[0]
    cdef int64_t[:, ::1] hi = spans[1]
    cdef int64_t[:, ::1] plan = spans[2]
    cdef Py_ssize_t n_codes = codes.shape[0] - 1, i, k, e, at
    cdef int64_t st, stop_b, key, code, row, pair, missing = 0
    cdef bint unknown_run = False
    with nogil:
        for i in range(trip.shape[0]):
            for k in range(trip.shape[1]):
                if trip[i, k] < 0:
                    continue
                st, stop_b = board[i, k], st_stop[alight[i, k]]
                key = st * n_stops + stop_b
                at = -1
                for e in range(st_keys[st], st_keys[st + 1]):
                    if keys[e] == key:
                        at = e
                        break
                if at < 0:  # a pair not met yet, or no run of a known pair
                    code = st_stop[st] * n_stops + stop_b
                    if codes[_first_at_or_after(codes, 0, n_codes, code)] == code:
                        unknown_run = True
                    else:
                        missing += 1
                    continue
                row = key_order[at]
                pair = run_pair[row]
                lo[i, k], hi[i, k], plan[i, k] = start[pair], start[pair + 1], row
    if missing == 0 and unknown_run:
        raise KeyError("a planned leg boards at a stop-time that serves no run of its stop pair")
    return missing


def board_events(
    lo_arr, hi_arr, plan_arr_, ready_arr, plan_dep_arr, plan_arr_arr, runs, st_arr_arr, cap_arr,
    loads, out, double weight, double max_wait_min,
):
    """``_board_events`` of :mod:`sim.transit.capacity` (same arguments, same results), writing
    ``loads`` and ``out`` in place. Index arrays int64, times float64, flags bool or uint8, all
    C-contiguous."""
    cdef const int64_t[:, ::1] lo = lo_arr
    cdef const int64_t[:, ::1] hi = hi_arr
    cdef const int64_t[:, ::1] plan = plan_arr_
    cdef const double[::1] ready_min = ready_arr
    cdef const double[:, ::1] plan_dep = plan_dep_arr
    cdef const double[:, ::1] plan_arr = plan_arr_arr
    cdef const double[::1] dep = runs[0]
    cdef const int64_t[::1] trip = runs[1]
    cdef const int64_t[::1] board = runs[2]
    cdef const int64_t[::1] alight = runs[3]
    cdef const double[::1] st_arr = st_arr_arr
    cdef const double[::1] cap = cap_arr
    cdef double[::1] onboard = loads[0]
    cdef double[::1] left_behind = loads[1]
    cdef double[::1] extra_wait_min = loads[2]
    cdef double[::1] delay = out[0]
    cdef double[::1] first_wait = out[1]
    cdef unsigned char[::1] gave_up = np.asarray(out[2]).view(np.uint8)
    cdef unsigned char[::1] stranded = np.asarray(out[3]).view(np.uint8)
    cdef int64_t[:, ::1] legs_trip = out[4]
    cdef int64_t[:, ::1] legs_board = out[5]
    cdef int64_t[:, ::1] legs_alight = out[6]

    cdef Py_ssize_t n = plan.shape[0], n_legs = plan.shape[1], size = 0, n_seeds = 0, next_seed = 0
    cdef Py_ssize_t row, leg, k, s
    cdef int64_t j, t, st_b, st_a, refused
    cdef double ready = 0.0, now = 0.0, dep_t, actual_arr, gap, most
    cdef bint sort_seeds
    cdef Entry entry
    # each rider has at most one entry at a time: n entries suffice (heap; planned runs; sort buffer)
    cdef Entry* heap = <Entry*> malloc((3 * n if n > 0 else 1) * sizeof(Entry))
    cdef Entry* seeds = heap + n
    if heap == NULL:
        raise MemoryError()
    try:
        with nogil:
            # the planned runs of the first legs are all offered before any event (they do not
            # depend on the loads): sorted at once rather than pushed one by one, then merged with
            # the heap of later offers. Both give the heap's order where every time compared is a
            # number (the entries' order is then total, each rider having one entry at a time).
            sort_seeds = (
                _all_numbers(ready_min)
                and _all_numbers_2d(plan_dep)
                and _all_numbers_2d(plan_arr)
                and _all_numbers(dep)
                and _all_numbers(st_arr)
            )
            for row in range(n):  # the planned run first, row by row
                j = plan[row, 0]
                if j < 0:
                    continue
                if j >= hi[row, 0] or dep[j] - plan_dep[row, 0] > max_wait_min + _EPS:
                    gave_up[row] = 1
                    first_wait[row] = plan_dep[row, 0] - plan_dep[row, 0]  # (as the loop's now - planned)
                    for k in range(n_legs):
                        legs_trip[row, k] = -1
                        legs_board[row, k] = -1
                        legs_alight[row, k] = -1
                    continue
                entry.dep, entry.ready, entry.row, entry.leg, entry.run = dep[j], ready_min[row], row, 0, j
                if sort_seeds:
                    seeds[n_seeds] = entry
                    n_seeds += 1
                else:
                    _push(heap, &size, entry)
            _sort(seeds, seeds + n, n_seeds)
            while True:  # each pass offers one rider a run, the first of the planned runs and the heap
                if next_seed < n_seeds and (size == 0 or _before(&seeds[next_seed], &heap[0])):
                    entry = seeds[next_seed]
                    next_seed += 1
                elif size > 0:
                    entry = _pop(heap, &size)
                else:
                    break
                dep_t, ready, row, leg, j = entry.dep, entry.ready, entry.row, entry.leg, entry.run
                t, st_b, st_a = trip[j], board[j], alight[j]
                most = onboard[st_b]
                for s in range(st_b + 1, st_a):
                    if onboard[s] > most:
                        most = onboard[s]
                if most + weight > cap[t] + _EPS:  # no room on a segment: left behind
                    left_behind[t] += weight
                    j, now, refused = j + 1, dep_t, t
                else:
                    for s in range(st_b, st_a):
                        onboard[s] += weight
                    legs_trip[row, leg], legs_board[row, leg], legs_alight[row, leg] = t, st_b, st_a
                    actual_arr = st_arr[st_a]
                    if leg == 0:
                        first_wait[row] = dep_t - plan_dep[row, 0]
                    delay[row] = actual_arr - plan_arr[row, leg]
                    leg += 1
                    if leg == n_legs or plan[row, leg] < 0:
                        continue
                    gap = plan_dep[row, leg] - plan_arr[row, leg - 1]
                    ready = actual_arr + gap
                    now = ready
                    refused = -1
                    j = plan[row, leg]  # on time: the planned connection; late: the first run after the gap
                    if actual_arr != plan_arr[row, leg - 1]:
                        j = _first_at_or_after(dep, lo[row, leg], hi[row, leg], actual_arr + gap - _EPS)
                if j >= hi[row, leg] or (leg == 0 and dep[j] - plan_dep[row, 0] > max_wait_min + _EPS):
                    if leg == 0:
                        gave_up[row] = 1
                        first_wait[row] = now - plan_dep[row, 0]  # waited until told the bus was full
                    else:
                        stranded[row] = 1
                    for k in range(leg, n_legs):
                        legs_trip[row, k] = -1
                        legs_board[row, k] = -1
                        legs_alight[row, k] = -1
                    continue
                entry.dep, entry.ready, entry.row, entry.leg, entry.run = dep[j], ready, row, leg, j
                _push(heap, &size, entry)
                if refused >= 0:
                    extra_wait_min[refused] += weight * (dep[j] - now)
    finally:
        free(heap)
