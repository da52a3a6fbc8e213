# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Journeys traced cell by cell from the connection scans, compiled (optional build of
:mod:`sim.transit.csa`; its numpy versions ``_trace_forward_numpy`` and ``_trace_backward_numpy``
give the same floats when it is absent). Each function fills the traced cells of one block of
profiles in a block-shaped :class:`~sim.transit.csa.Journeys` made by ``csa._empty``; the other cells
keep its inf / -1 / 0. Sums are taken in the numpy versions' order, so the floats are bit for bit
the same. The connection scans (``scan_forward``, ``scan_backward``) give ``csa._scan_forward_numpy``'s
and ``csa._scan_backward_numpy``'s arrays; ``new_cells`` and ``put_rows`` give those of
:mod:`sim.transit.tables`' numpy versions (its slot tables). The loops run without the GIL."""

from libc.math cimport INFINITY, isfinite
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

import numpy as np

ctypedef fused leg_t:
    int16_t
    int32_t


def trace_forward(
    tt, walk, conn, scan, Py_ssize_t p0, Py_ssize_t n_times, out,
    leg_t[:, :, ::1] leg_trip, leg_t[:, :, ::1] leg_board, leg_t[:, :, ::1] leg_alight,
):
    """Fill ``out`` (profiles ``p0 ..``, places) with the journeys of an earliest-arrival scan
    (``csa._ForwardScan``), each walked back from its destination; ``leg_*`` are ``out``'s legs."""
    cdef const double[:, :] best_arr = scan.arr_min
    cdef const int32_t[:, :] best_stop = scan.best_stop
    cdef const int32_t[:, :] arr_conn = scan.arr_conn
    cdef const int32_t[:, :] trip_in = scan.trip_in
    cdef const int32_t[:, :] board_src = scan.board_src
    cdef const double[:, :] egress = scan.egress
    cdef const double[:] t0 = scan.t0
    cdef const int64_t[:] origins = scan.origins
    cdef const int64_t[:] c_from = conn.from_stop
    cdef const int64_t[:] c_to = conn.to_stop
    cdef const double[:] c_dep = conn.dep
    cdef const double[:] c_arr = conn.arr
    cdef const int64_t[:] c_trip = conn.trip
    cdef const int64_t[:] c_st = conn.st
    cdef const double[:, :] walk_min_to = walk.stop_node_min
    cdef const int64_t[:] stop_node = tt.stop_node
    cdef const double[:] st_arr = tt.st_arr
    cdef const double[:] st_dep = tt.st_dep
    cdef const double[:] st_km = tt.st_km
    cdef const int64_t[:] st_stop = tt.st_stop
    cdef const int64_t[:] st_trip = tt.st_trip
    cdef const int64_t[:] trip_line = tt.trip_line
    cdef const double[:] line_fare = tt.line_fare
    cdef double[:, ::1] dep_min = out.dep_min
    cdef double[:, ::1] arr_min = out.arr_min
    cdef double[:, ::1] first_wait = out.first_wait_min
    cdef double[:, ::1] transfer_wait = out.transfer_wait_min
    cdef double[:, ::1] walk_min = out.walk_min
    cdef double[:, ::1] ride_min = out.ride_min
    cdef double[:, ::1] ride_km = out.ride_km
    cdef double[:, ::1] fare_yuan = out.fare_yuan
    cdef int8_t[:, ::1] n_legs = out.n_legs
    cdef Py_ssize_t n_rows = dep_min.shape[0], n_places = dep_min.shape[1], max_legs = leg_trip.shape[2]
    cdef Py_ssize_t i, p, g, s, n, k, cur, b, bstop, prev, fb, sb, sa, origin
    cdef double wait_sum, walk_sum, w, ride, km, fare
    cdef int64_t* chain_b = <int64_t*> malloc((c_dep.shape[0] + 1) * sizeof(int64_t))
    cdef int64_t* chain_a = <int64_t*> malloc((c_dep.shape[0] + 1) * sizeof(int64_t))
    if chain_b == NULL or chain_a == NULL:
        free(chain_b)
        free(chain_a)
        raise MemoryError()
    try:
        with nogil:
            for i in range(n_rows):
                p = p0 + i
                origin = origins[p // n_times]
                for g in range(n_places):
                    if not isfinite(best_arr[p, g]):
                        continue
                    s = best_stop[p, g]
                    cur = arr_conn[s, p]
                    wait_sum = 0.0
                    walk_sum = egress[s, g]
                    fb = -1
                    n = 0
                    while cur >= 0:  # alighting connection, its trip's boarding connection, ...
                        b = trip_in[c_trip[cur], p]
                        chain_b[n] = b
                        chain_a[n] = cur
                        n += 1
                        bstop = c_from[b]
                        prev = board_src[bstop, p]
                        if prev >= 0:
                            w = walk_min_to[c_to[prev], stop_node[bstop]]
                            wait_sum += c_dep[b] - c_arr[prev] - w
                            walk_sum += w
                            cur = prev
                        else:
                            fb = b
                            cur = -1
                    ride = 0.0
                    km = 0.0
                    fare = 0.0
                    for k in range(n):  # travel order: the chain was collected last leg first
                        sb = c_st[chain_b[n - 1 - k]]
                        sa = c_st[chain_a[n - 1 - k]] + 1
                        ride += st_arr[sa] - st_dep[sb]
                        km += st_km[sa] - st_km[sb]
                        fare += line_fare[trip_line[st_trip[sb]]]
                        if k < max_legs:
                            leg_trip[i, g, k] = <leg_t> st_trip[sb]
                            leg_board[i, g, k] = <leg_t> sb
                            leg_alight[i, g, k] = <leg_t> sa
                    if fb < 0:
                        fb = 0
                    dep_min[i, g] = t0[p]
                    arr_min[i, g] = best_arr[p, g]
                    first_wait[i, g] = st_dep[c_st[fb]] - t0[p] - walk_min_to[st_stop[c_st[fb]], origin]
                    transfer_wait[i, g] = wait_sum
                    walk_min[i, g] = walk_sum + walk_min_to[c_from[fb], origin]
                    ride_min[i, g] = ride
                    ride_km[i, g] = km
                    fare_yuan[i, g] = fare
                    n_legs[i, g] = <int8_t> n
    finally:
        free(chain_b)
        free(chain_a)


def trace_backward(
    tt, walk, conn, scan, Py_ssize_t p0, Py_ssize_t n_times, out,
    leg_t[:, :, ::1] leg_trip, leg_t[:, :, ::1] leg_board, leg_t[:, :, ::1] leg_alight,
):
    """Fill ``out`` (profiles ``p0 ..``, places) with the journeys of a latest-departure scan
    (``csa._BackwardScan``), each followed from its origin: a trip is ridden to the first stop from
    which the target is walked to in time, failing that to the first stop where a change still makes
    it. Cells whose journey does not arrive keep inf times and no legs, but count the legs ridden."""
    cdef const double[:, :] best_dep = scan.dep_min
    cdef const int32_t[:, :] best_stop = scan.best_stop
    cdef const int32_t[:, :] bd_conn = scan.bd_conn
    cdef const double[:, :] alight = scan.alight
    cdef const int32_t[:, :] alight_src = scan.alight_src
    cdef const double[:, :] access = scan.access
    cdef const double[:] t_by = scan.t_by
    cdef const int64_t[:] targets = scan.targets
    cdef const int64_t[:] c_from = conn.from_stop
    cdef const double[:] c_dep = conn.dep
    cdef const int64_t[:] c_st = conn.st
    cdef const double[:] c_board_wait = conn.board_wait
    cdef const double[:, :] walk_min_to = walk.stop_node_min
    cdef const int64_t[:] stop_node = tt.stop_node
    cdef const double[:] st_arr = tt.st_arr
    cdef const double[:] st_dep = tt.st_dep
    cdef const double[:] st_km = tt.st_km
    cdef const int64_t[:] st_stop = tt.st_stop
    cdef const unsigned char[::1] st_dropoff = tt.st_dropoff.view(np.uint8)
    cdef const int64_t[:] trip_start = tt.trip_start
    cdef const int64_t[:] st_trip = tt.st_trip
    cdef const int64_t[:] trip_line = tt.trip_line
    cdef const double[:] line_fare = tt.line_fare
    cdef double[:, ::1] dep_min = out.dep_min
    cdef double[:, ::1] arr_min = out.arr_min
    cdef double[:, ::1] first_wait = out.first_wait_min
    cdef double[:, ::1] transfer_wait = out.transfer_wait_min
    cdef double[:, ::1] walk_min = out.walk_min
    cdef double[:, ::1] ride_min = out.ride_min
    cdef double[:, ::1] ride_km = out.ride_km
    cdef double[:, ::1] fare_yuan = out.fare_yuan
    cdef int8_t[:, ::1] n_legs = out.n_legs
    cdef Py_ssize_t n_rows = dep_min.shape[0], n_places = dep_min.shape[1], max_legs = leg_trip.shape[2]
    cdef Py_ssize_t i, p, o, s, n, k, cur, cur_st, end, egress_st, change_st, sk, nxt, sb, sa, target
    cdef double deadline, wait_sum, walk_sum, arrive, a_k, w, egress_min, ride, km, fare
    cdef Py_ssize_t cap = st_stop.shape[0] + 1
    cdef int64_t* chain_b = <int64_t*> malloc(cap * sizeof(int64_t))
    cdef int64_t* chain_a = <int64_t*> malloc(cap * sizeof(int64_t))
    if chain_b == NULL or chain_a == NULL:
        free(chain_b)
        free(chain_a)
        raise MemoryError()
    try:
        with nogil:
            for i in range(n_rows):
                p = p0 + i
                target = targets[p // n_times]
                deadline = t_by[p] + 1e-9
                for o in range(n_places):
                    if not isfinite(best_dep[p, o]):
                        continue
                    s = best_stop[p, o]
                    cur = bd_conn[s, p]
                    cur_st = c_st[cur] if cur >= 0 else -1
                    wait_sum = 0.0
                    walk_sum = access[s, o]
                    arrive = INFINITY
                    n = 0
                    while cur_st >= 0:
                        if n == cap:  # a guard: no journey rides as many legs as there are stop-times
                            with gil:
                                raise RuntimeError("a traced journey rides more legs than there are stop-times")
                        # ride to the first stop with a walk to the target in time, else the first
                        # stop where a change still makes it
                        end = trip_start[st_trip[cur_st] + 1]
                        egress_st = -1
                        change_st = -1
                        for k in range(cur_st + 1, end):
                            if not st_dropoff[k]:
                                continue
                            sk = st_stop[k]
                            a_k = st_arr[k]
                            if a_k + walk_min_to[sk, target] <= deadline:
                                egress_st = k
                                break
                            if change_st < 0 and a_k <= alight[sk, p] + 1e-9 and alight_src[sk, p] >= 0:
                                change_st = k
                        chain_b[n] = cur_st
                        chain_a[n] = egress_st if egress_st >= 0 else change_st
                        n += 1
                        if egress_st >= 0:
                            egress_min = walk_min_to[st_stop[egress_st], target]
                            arrive = st_arr[egress_st] + egress_min
                            walk_sum += egress_min
                            cur_st = -1
                        elif change_st >= 0:
                            nxt = alight_src[st_stop[change_st], p]
                            w = walk_min_to[st_stop[change_st], stop_node[c_from[nxt]]]
                            wait_sum += c_dep[nxt] - st_arr[change_st] - w
                            walk_sum += w
                            cur_st = c_st[nxt]
                        else:
                            cur_st = -1
                    n_legs[i, o] = <int8_t> n
                    if not isfinite(arrive):
                        continue
                    ride = 0.0
                    km = 0.0
                    fare = 0.0
                    for k in range(n):
                        sb = chain_b[k]
                        sa = chain_a[k]
                        ride += st_arr[sa] - st_dep[sb]
                        km += st_km[sa] - st_km[sb]
                        fare += line_fare[trip_line[st_trip[sb]]]
                        if k < max_legs:
                            leg_trip[i, o, k] = <leg_t> st_trip[sb]
                            leg_board[i, o, k] = <leg_t> sb
                            leg_alight[i, o, k] = <leg_t> sa
                    dep_min[i, o] = best_dep[p, o]
                    arr_min[i, o] = arrive
                    first_wait[i, o] = c_board_wait[cur if cur >= 0 else 0]
                    transfer_wait[i, o] = wait_sum
                    walk_min[i, o] = walk_sum
                    ride_min[i, o] = ride
                    ride_km[i, o] = km
                    fare_yuan[i, o] = fare
    finally:
        free(chain_b)
        free(chain_a)


def best_over_stops(
    const double[:, :] value, const double[:, :] walk_min, int32_t[:, :] best, double[:, :] low
):
    """For each (profile, place), the first stop of least ``value[s, p] + walk_min[s, g]`` over
    the stops within walking reach of place ``g`` (finite ``walk_min``): written to ``best`` and
    ``low``, (profiles, places); places out of reach are left as they are."""
    cdef Py_ssize_t n_stops = value.shape[0], n_prof = value.shape[1], n_places = walk_min.shape[1]
    cdef Py_ssize_t g, s, p
    cdef bint first
    cdef double w, total
    cdef double* row_low = <double*> malloc(max(n_prof, 1) * sizeof(double))
    cdef int32_t* row_best = <int32_t*> malloc(max(n_prof, 1) * sizeof(int32_t))
    if row_low == NULL or row_best == NULL:
        free(row_low)
        free(row_best)
        raise MemoryError()
    try:
        with nogil:
            for g in range(n_places):
                first = True
                for s in range(n_stops):
                    if not isfinite(walk_min[s, g]):
                        continue
                    w = walk_min[s, g]
                    if first:
                        for p in range(n_prof):
                            row_low[p] = value[s, p] + w
                            row_best[p] = <int32_t> s
                        first = False
                        continue
                    for p in range(n_prof):
                        total = value[s, p] + w
                        if total < row_low[p]:
                            row_low[p] = total
                            row_best[p] = <int32_t> s
                if first:
                    continue
                for p in range(n_prof):
                    low[p, g] = row_low[p]
                    best[p, g] = row_best[p]
    finally:
        free(row_low)
        free(row_best)


cdef inline double _block_min(const double[:, ::1] a, Py_ssize_t s, Py_ssize_t p0, Py_ssize_t p1) noexcept nogil:
    """``a[s, p0:p1].min()`` as numpy takes it (NaN if any is NaN)."""
    cdef double m = a[s, p0], v
    cdef Py_ssize_t p
    for p in range(p0 + 1, p1):
        v = a[s, p]
        if v < m or v != v:
            m = v
    return m


cdef inline double _block_max(const double[:, ::1] a, Py_ssize_t s, Py_ssize_t p0, Py_ssize_t p1) noexcept nogil:
    """``a[s, p0:p1].max()`` as numpy takes it (NaN if any is NaN)."""
    cdef double m = a[s, p0], v
    cdef Py_ssize_t p
    for p in range(p0 + 1, p1):
        v = a[s, p]
        if v > m or v != v:
            m = v
    return m


def scan_forward(
    conn, const int64_t[::1] foot_start, const int64_t[::1] foot_near, const double[::1] foot_walk,
    double transfer_min, double[:, ::1] board, int32_t[:, ::1] board_src, double[:, ::1] arr,
    int32_t[:, ::1] arr_conn, int32_t[:, ::1] trip_in, Py_ssize_t block,
):
    """``csa._scan_forward``'s loop over connections, ``block`` profiles at a time (a profile's
    column never depends on another's, so each block of columns is scanned on its own while its
    rows stay in cache). Foot links of stop ``s`` are ``foot_start[s]:foot_start[s + 1]``; the
    arrays are filled in place (``board`` holds ``board0`` on entry)."""
    cdef const int64_t[:] c_from = conn.from_stop
    cdef const int64_t[:] c_to = conn.to_stop
    cdef const double[:] c_dep = conn.dep
    cdef const double[:] c_arr = conn.arr
    cdef const int64_t[:] c_trip = conn.trip
    cdef const uint8_t[:] pickup = conn.pickup.view(np.uint8)
    cdef const uint8_t[:] dropoff = conn.dropoff.view(np.uint8)
    cdef Py_ssize_t n_stops = board.shape[0], n_prof = board.shape[1], n_trips = trip_in.shape[0]
    cdef Py_ssize_t n_conn = c_dep.shape[0], p0, p1, c, t, ds, s, n, k, p
    cdef double dep, a, cand
    cdef bint hit
    cdef Py_ssize_t block_step = max(block, 1), i_block
    cdef double* earliest = <double*> malloc(max(n_stops, 1) * sizeof(double))
    cdef uint8_t* reached = <uint8_t*> malloc(max(n_trips, 1))
    cdef uint8_t* better = <uint8_t*> malloc(block_step)
    if earliest == NULL or reached == NULL or better == NULL:
        free(earliest)
        free(reached)
        free(better)
        raise MemoryError()
    try:
        with nogil:
            for i_block in range((n_prof + block_step - 1) // block_step):
                p0 = i_block * block_step
                p1 = min(p0 + block_step, n_prof)
                memset(reached, 0, n_trips)
                for s in range(n_stops):
                    earliest[s] = _block_min(board, s, p0, p1)
                for c in range(n_conn):
                    t, ds, dep = c_trip[c], c_from[c], c_dep[c]
                    if pickup[c] and earliest[ds] <= dep:
                        hit = False
                        for p in range(p0, p1):
                            if board[ds, p] <= dep and trip_in[t, p] < 0:
                                trip_in[t, p] = <int32_t> c
                                hit = True
                        if hit:
                            reached[t] = 1
                    if not (reached[t] and dropoff[c]):
                        continue
                    a, s = c_arr[c], c_to[c]
                    hit = False
                    for p in range(p0, p1):
                        better[p - p0] = trip_in[t, p] >= 0 and a < arr[s, p]
                        if better[p - p0]:
                            arr[s, p] = a
                            arr_conn[s, p] = <int32_t> c
                            hit = True
                    if not hit:
                        continue
                    for k in range(foot_start[s], foot_start[s + 1]):
                        n = foot_near[k]
                        cand = a + foot_walk[k] + transfer_min
                        hit = False
                        for p in range(p0, p1):
                            if better[p - p0] and cand < board[n, p]:
                                board[n, p] = cand
                                board_src[n, p] = <int32_t> c
                                hit = True
                        if hit and cand < earliest[n]:
                            earliest[n] = cand
    finally:
        free(earliest)
        free(reached)
        free(better)


def scan_backward(
    conn, const int64_t[::1] order, const int64_t[::1] foot_start, const int64_t[::1] foot_near,
    const double[::1] foot_walk, double transfer_min, double[:, ::1] alight, int32_t[:, ::1] alight_src,
    double[:, ::1] bd, int32_t[:, ::1] bd_conn, int32_t[:, ::1] trip_out, Py_ssize_t block,
):
    """``csa._scan_backward``'s loop over connections (in ``order``), ``block`` profiles at a time
    (see ``scan_forward``); the arrays are filled in place (``alight`` holds ``alight0`` on entry)."""
    cdef const int64_t[:] c_from = conn.from_stop
    cdef const int64_t[:] c_to = conn.to_stop
    cdef const double[:] c_dep = conn.dep
    cdef const double[:] c_arr = conn.arr
    cdef const int64_t[:] c_trip = conn.trip
    cdef const double[:] c_wait = conn.board_wait
    cdef const uint8_t[:] pickup = conn.pickup.view(np.uint8)
    cdef const uint8_t[:] dropoff = conn.dropoff.view(np.uint8)
    cdef Py_ssize_t n_stops = alight.shape[0], n_prof = alight.shape[1], n_trips = trip_out.shape[0]
    cdef Py_ssize_t n_conn = order.shape[0], p0, p1, i, c, t, ds, s, n, k, p
    cdef double dep, a, cand
    cdef bint hit
    cdef Py_ssize_t block_step = max(block, 1), i_block
    cdef double* latest = <double*> malloc(max(n_stops, 1) * sizeof(double))
    cdef uint8_t* reached = <uint8_t*> malloc(max(n_trips, 1))
    cdef uint8_t* better = <uint8_t*> malloc(block_step)
    if latest == NULL or reached == NULL or better == NULL:
        free(latest)
        free(reached)
        free(better)
        raise MemoryError()
    try:
        with nogil:
            for i_block in range((n_prof + block_step - 1) // block_step):
                p0 = i_block * block_step
                p1 = min(p0 + block_step, n_prof)
                memset(reached, 0, n_trips)
                for s in range(n_stops):
                    latest[s] = _block_max(alight, s, p0, p1)
                for i in range(n_conn):
                    c = order[i]
                    t, s, a = c_trip[c], c_to[c], c_arr[c]
                    if dropoff[c] and latest[s] >= a:
                        hit = False
                        for p in range(p0, p1):
                            if alight[s, p] >= a and trip_out[t, p] < 0:
                                trip_out[t, p] = <int32_t> c
                                hit = True
                        if hit:
                            reached[t] = 1
                    if not (reached[t] and pickup[c]):
                        continue
                    dep, ds = c_dep[c] - c_wait[c], c_from[c]
                    hit = False
                    for p in range(p0, p1):
                        better[p - p0] = trip_out[t, p] >= 0 and dep > bd[ds, p]
                        if better[p - p0]:
                            bd[ds, p] = dep
                            bd_conn[ds, p] = <int32_t> c
                            hit = True
                    if not hit:
                        continue
                    for k in range(foot_start[ds], foot_start[ds + 1]):
                        n = foot_near[k]
                        cand = dep - foot_walk[k] - transfer_min
                        hit = False
                        for p in range(p0, p1):
                            if better[p - p0] and cand > alight[n, p]:
                                alight[n, p] = cand
                                alight_src[n, p] = <int32_t> c
                                hit = True
                        if hit and cand > latest[n]:
                            latest[n] = cand
    finally:
        free(latest)
        free(reached)
        free(better)


ctypedef fused nth_t:
    uint8_t
    uint16_t
    uint32_t


cdef inline uint64_t _word(const uint8_t* at) noexcept nogil:
    """The 8 bytes at ``at`` as one word (any alignment)."""
    cdef uint64_t x
    memcpy(&x, at, 8)
    return x


cdef list _row_bytes(list arrays, Py_ssize_t rows, uint8_t** at, Py_ssize_t* width):
    """``arrays`` (C-contiguous, ``rows`` rows each) as (rows, bytes) uint8 arrays, returned to keep
    alive the data they point into: the first byte of each in ``at``, its bytes per row in ``width``."""
    cdef list views = [a.reshape(rows, -1).view(np.uint8) for a in arrays]
    cdef const uint8_t[:, ::1] view
    cdef Py_ssize_t f
    for f in range(len(views)):
        view = views[f]
        at[f] = <uint8_t*> &view[0, 0]
        width[f] = view.shape[1]
    return views


def new_cells(
    list now, list before, Py_ssize_t p0, Py_ssize_t n_slots, nth_t[:, ::1] nth, int32_t[:, ::1] size,
    int64_t[::1] cells,
):
    """``tables._new_cells_numpy``: the cells of a block of profiles ``p0 ..`` (facility node *
    ``n_slots`` + slot, places) whose journey is new (the first slot of a node, or a field of ``now``
    differing from the profile before; ``before``: the fields of the profile before the first), as
    flat indices into the block written to ``cells``, their number returned; counted into ``size``
    (nodes, places) and numbered in ``nth`` (profiles, places)."""
    cdef Py_ssize_t n_f = len(now), n = nth.shape[0], n_places = nth.shape[1]
    cdef Py_ssize_t f, i, v, k, w, p, node, n_new = 0
    cdef const uint8_t* a
    cdef const uint8_t* b
    cdef list keep
    if n == 0 or n_places == 0:
        return 0
    cdef uint8_t** cur = <uint8_t**> malloc(max(n_f, 1) * sizeof(uint8_t*))
    cdef uint8_t** last = <uint8_t**> malloc(max(n_f, 1) * sizeof(uint8_t*))
    cdef Py_ssize_t* width = <Py_ssize_t*> malloc(max(n_f, 1) * 2 * sizeof(Py_ssize_t))  # bytes per row
    cdef uint64_t* diff = <uint64_t*> malloc(n_places * sizeof(uint64_t))  # nonzero: the cell is new
    if cur == NULL or last == NULL or width == NULL or diff == NULL:
        free(cur)
        free(last)
        free(width)
        free(diff)
        raise MemoryError()
    try:
        # ``keep`` holds the arrays whose data the pointers point into
        keep = [_row_bytes(now, n, cur, width), _row_bytes(before, 1, last, width + n_f)]
        with nogil:
            for i in range(n):
                p = p0 + i
                node = p // n_slots
                memset(diff, p % n_slots == 0, n_places * sizeof(uint64_t))  # a node's first slot: all new
                for f in range(n_f if p % n_slots > 0 else 0):
                    w = width[f] // n_places  # bytes per cell
                    a = cur[f] + i * n_places * w
                    b = a - n_places * w if i > 0 else last[f]
                    if w == 8:  # the loops over places vectorize: bits that differ, or-ed
                        for v in range(n_places):
                            diff[v] |= _word(a + 8 * v) ^ _word(b + 8 * v)
                    elif w == 1:
                        for v in range(n_places):
                            diff[v] |= a[v] ^ b[v]
                    else:
                        for v in range(n_places):
                            for k in range(v * w, v * w + w):
                                diff[v] |= a[k] ^ b[k]
                for v in range(n_places):  # without branches: about half the cells of a block are new
                    cells[n_new] = i * n_places + v
                    n_new += diff[v] != 0
                    size[node, v] += diff[v] != 0
                    nth[i, v] = <nth_t> (size[node, v] - 1)
        return n_new
    finally:
        free(cur)
        free(last)
        free(width)
        free(diff)


def put_rows(
    list src, const int64_t[::1] cells, const int32_t[:, ::1] first, const nth_t[:, ::1] nth,
    Py_ssize_t n_slots, list dst,
):
    """``tables._put_rows``: the fields ``src`` (C-contiguous) of the cells ``cells`` (flat indices
    into the (profiles, places) table) to rows ``first[node, place] + nth[profile, place]`` of the
    fields ``dst`` (C-contiguous, the same dtypes and row shapes)."""
    cdef Py_ssize_t n_f = len(src), m = cells.shape[0], n_places = nth.shape[1], f, k, w, p, v
    cdef const uint8_t* a
    cdef uint8_t* b
    cdef list keep
    if m == 0:
        return
    cdef uint8_t** from_ = <uint8_t**> malloc(max(n_f, 1) * sizeof(uint8_t*))
    cdef uint8_t** to = <uint8_t**> malloc(max(n_f, 1) * sizeof(uint8_t*))
    cdef Py_ssize_t* width = <Py_ssize_t*> malloc(max(n_f, 1) * 2 * sizeof(Py_ssize_t))  # bytes per row
    cdef int64_t* row = <int64_t*> malloc(m * sizeof(int64_t))
    if from_ == NULL or to == NULL or width == NULL or row == NULL:
        free(from_)
        free(to)
        free(width)
        free(row)
        raise MemoryError()
    try:
        # ``keep`` holds the arrays whose data the pointers point into
        keep = [_row_bytes(src, m, from_, width), _row_bytes(dst, len(dst[0]), to, width + n_f)]
        with nogil:
            for k in range(m):
                p = cells[k] // n_places
                v = cells[k] % n_places
                row[k] = first[p // n_slots, v] + nth[p, v]
            for f in range(n_f):
                a = from_[f]
                b = to[f]
                w = width[f]
                if w == 8:
                    for k in range(m):
                        memcpy(b + 8 * row[k], a + 8 * k, 8)
                elif w == 1:
                    for k in range(m):
                        b[row[k]] = a[k]
                else:
                    for k in range(m):
                        memcpy(b + w * row[k], a + w * k, w)
    finally:
        free(from_)
        free(to)
        free(width)
        free(row)
