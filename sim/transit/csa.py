"""Connection scan over compact arrays: earliest arrival and latest departure, many queries at once.

Every query ("profile") is one origin (or destination) node and one time; the scan keeps one column
per profile, so a Python loop over connections does numpy work over all profiles together.
Journeys use at least one vehicle: walk to a stop (access), ride, change (walk between stops within
the walking limit plus ``transfer_min`` of slack), ride, walk to the destination (egress). Two walks
never follow each other without a ride between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np

from sim.compiled import optional_extension
from sim.transit.timetable import Connections, Timetable, WalkLinks

__all__ = [
    "MAX_LEGS",
    "Journeys",
    "earliest_arrival",
    "earliest_arrival_blocks",
    "first_wait_min",
    "latest_departure",
    "latest_departure_blocks",
]

MAX_LEGS = 4
_BLOCK_CELLS = 1 << 16  # (profile, place) cells traced at once
_SCAN_BLOCK = 256  # profiles scanned at once by the compiled scans (their stop and trip rows stay in cache)
_compiled = optional_extension("sim.transit._trace")  # None without a C compiler (sim/compiled.py)


@dataclass(frozen=True)
class Journeys:
    """Best journeys, arrays shaped (profiles, places); inf / -1 where there is none.

    Attributes:
        dep_min: when the traveller leaves the origin (forward: the asked time; backward: latest).
        arr_min: arrival at the destination.
        first_wait_min: wait at the first stop (forward queries; 0 for latest-departure queries).
        transfer_wait_min: waits at changes, including the transfer slack.
        walk_min, ride_min, ride_km: walking and in-vehicle totals.
        fare_yuan: sum of the fares of the lines boarded.
        n_legs: vehicles used.
        leg_trip, leg_board, leg_alight: (profiles, places, MAX_LEGS) trip index and stop-time
            indices of boarding and alighting, in travel order (first MAX_LEGS legs); int16 when
            the timetable has fewer than 32,767 stop-times (``_leg_dtype``), else int32.
    """

    dep_min: np.ndarray
    arr_min: np.ndarray
    first_wait_min: np.ndarray
    transfer_wait_min: np.ndarray
    walk_min: np.ndarray
    ride_min: np.ndarray
    ride_km: np.ndarray
    fare_yuan: np.ndarray
    n_legs: np.ndarray
    leg_trip: np.ndarray
    leg_board: np.ndarray
    leg_alight: np.ndarray

    @property
    def found(self) -> np.ndarray:
        """Whether a journey exists."""
        return np.isfinite(self.arr_min) & np.isfinite(self.dep_min)


def _lists(conn: Connections) -> tuple[list, ...]:
    """Connection columns as Python lists (fast scalar access in the scan loops)."""
    return (
        conn.from_stop.tolist(),
        conn.to_stop.tolist(),
        conn.dep.tolist(),
        conn.arr.tolist(),
        conn.trip.tolist(),
        conn.pickup.tolist(),
        conn.dropoff.tolist(),
        conn.board_wait.tolist(),
    )


def _foot_links(foot: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The walking links between stops as flat arrays: stop ``s``'s are ``start[s]:start[s + 1]`` of
    ``near`` (stops, int64) and ``walk`` (minutes)."""
    start = np.zeros(len(foot) + 1, dtype=np.int64)
    start[1:] = np.cumsum([len(near) for near, _ in foot])
    near = np.concatenate([np.zeros(0, np.int64)] + [n.astype(np.int64) for n, _ in foot])
    walk = np.concatenate([np.zeros(0)] + [w.astype(float) for _, w in foot])
    return start, near, walk


def _scan_forward(
    conn: Connections,
    n_stops: int,
    n_trips: int,
    foot: list[tuple[np.ndarray, np.ndarray]],
    board0: np.ndarray,
    transfer_min: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Earliest-arrival scan. board0: (stops, profiles) time ready to board via access walk.

    Returns (arr, arr_conn, trip_in, board_src): earliest arrival at each stop and its alighting
    connection (stops, profiles), the boarding connection of each trip (trips, profiles) and the
    connection whose change set each stop's boarding time (stops, profiles); -1 where none.
    A trip is boarded only where pickup is allowed and left only where drop-off is allowed. A rider
    who leaves at a given time takes the next run (``board_wait`` plays no part: turning up at a
    random time costs headway/2 on average whether or not times are published). Compiled
    (``sim/transit/_trace.pyx``, ``_SCAN_BLOCK`` profiles at a time) where it was built, else
    ``_scan_forward_numpy``; the same arrays.
    """
    n_prof = board0.shape[1]
    board = np.array(board0, dtype=float, order="C")
    board_src = np.full((n_stops, n_prof), -1, dtype=np.int32)
    arr = np.full((n_stops, n_prof), np.inf)
    arr_conn = np.full((n_stops, n_prof), -1, dtype=np.int32)
    trip_in = np.full((n_trips, n_prof), -1, dtype=np.int32)
    args = (conn, *_foot_links(foot), transfer_min, board, board_src, arr, arr_conn, trip_in)
    if _compiled is None:
        _scan_forward_numpy(*args)
    else:
        _compiled.scan_forward(*args, _SCAN_BLOCK)
    return arr, arr_conn, trip_in, board_src


def _scan_forward_numpy(
    conn: Connections,
    foot_start: np.ndarray,
    foot_near: np.ndarray,
    foot_walk: np.ndarray,
    transfer_min: float,
    board: np.ndarray,
    board_src: np.ndarray,
    arr: np.ndarray,
    arr_conn: np.ndarray,
    trip_in: np.ndarray,
) -> None:
    """``_scan_forward``'s loop in Python over connections, numpy over all profiles; fills the arrays
    in place as ``_trace.scan_forward`` does (``board`` holds ``board0`` on entry)."""
    earliest = board.min(axis=1) if board.shape[1] else np.zeros(len(board))
    reached_trip = np.zeros(len(trip_in), dtype=bool)
    fs, ts, deps, arrs, trips, picks, drops, _ = _lists(conn)
    starts, nears, walks = foot_start.tolist(), foot_near.tolist(), foot_walk.tolist()
    for c in range(len(deps)):
        t, ds, dep = trips[c], fs[c], deps[c]
        ti = trip_in[t]
        if picks[c] and earliest[ds] <= dep:
            newly = board[ds] <= dep
            if reached_trip[t]:
                newly &= ti < 0
            if newly.any():
                ti[newly] = c
                reached_trip[t] = True
        if not (reached_trip[t] and drops[c]):
            continue
        a, s = arrs[c], ts[c]
        arr_s = arr[s]
        better = (ti >= 0) & (a < arr_s)
        if not better.any():
            continue
        arr_s[better] = a
        arr_conn[s][better] = c
        for k in range(starts[s], starts[s + 1]):
            n, cand = nears[k], a + walks[k] + transfer_min
            board_n = board[n]
            upd = better & (cand < board_n)
            if upd.any():
                board_n[upd] = cand
                board_src[n][upd] = c
                if cand < earliest[n]:
                    earliest[n] = cand


def _scan_backward(
    conn: Connections,
    n_stops: int,
    n_trips: int,
    foot: list[tuple[np.ndarray, np.ndarray]],
    alight0: np.ndarray,
    transfer_min: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latest-departure scan. alight0: (stops, profiles) latest vehicle arrival that still makes it.

    Returns (bd, bd_conn, alight, alight_src): latest departure from each stop and its boarding
    connection (stops, profiles), and each stop's latest arrival that still makes it with the
    connection whose change set it (stops, profiles); -1 where none.
    Boarding needs pickup, getting off needs drop-off; a planned journey is at the stop
    ``board_wait`` minutes before a run of unpublished times (GTFS frequencies, exact_times=0).
    Compiled like ``_scan_forward`` where it was built, else ``_scan_backward_numpy``.
    """
    n_prof = alight0.shape[1]
    alight = np.array(alight0, dtype=float, order="C")
    alight_src = np.full((n_stops, n_prof), -1, dtype=np.int32)
    bd = np.full((n_stops, n_prof), -np.inf)
    bd_conn = np.full((n_stops, n_prof), -1, dtype=np.int32)
    trip_out = np.full((n_trips, n_prof), -1, dtype=np.int32)
    order = np.lexsort((-conn.dep, -conn.arr))
    args = (conn, order, *_foot_links(foot), transfer_min, alight, alight_src, bd, bd_conn, trip_out)
    if _compiled is None:
        _scan_backward_numpy(*args)
    else:
        _compiled.scan_backward(*args, _SCAN_BLOCK)
    return bd, bd_conn, alight, alight_src


def _scan_backward_numpy(
    conn: Connections,
    order: np.ndarray,
    foot_start: np.ndarray,
    foot_near: np.ndarray,
    foot_walk: np.ndarray,
    transfer_min: float,
    alight: np.ndarray,
    alight_src: np.ndarray,
    bd: np.ndarray,
    bd_conn: np.ndarray,
    trip_out: np.ndarray,
) -> None:
    """``_scan_backward``'s loop in Python over connections (in ``order``), numpy over all profiles;
    fills the arrays in place as ``_trace.scan_backward`` does (``alight`` holds ``alight0`` on entry)."""
    latest = alight.max(axis=1) if alight.shape[1] else np.zeros(len(alight))
    reached_trip = np.zeros(len(trip_out), dtype=bool)
    fs, ts, deps, arrs, trips, picks, drops, waits = _lists(conn)
    starts, nears, walks = foot_start.tolist(), foot_near.tolist(), foot_walk.tolist()
    for c in order.tolist():
        t, s, a = trips[c], ts[c], arrs[c]
        to = trip_out[t]
        if drops[c] and latest[s] >= a:
            newly = alight[s] >= a
            if reached_trip[t]:
                newly &= to < 0
            if newly.any():
                to[newly] = c
                reached_trip[t] = True
        if not (reached_trip[t] and picks[c]):
            continue
        dep, ds = deps[c] - waits[c], fs[c]
        bd_s = bd[ds]
        better = (to >= 0) & (dep > bd_s)
        if not better.any():
            continue
        bd_s[better] = dep
        bd_conn[ds][better] = c
        for k in range(starts[ds], starts[ds + 1]):
            n, cand = nears[k], dep - walks[k] - transfer_min
            al_n = alight[n]
            upd = better & (cand > al_n)
            if upd.any():
                al_n[upd] = cand
                alight_src[n][upd] = c
                if cand > latest[n]:
                    latest[n] = cand


def _best_over_stops(value: np.ndarray, walk_min: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """argmin over stops of value[s, p] + walk_min[s, g] -> (best stop (int32), minimum), both (P, G).

    Only stops within walking reach of each place are looked at (compiled where it was built, the
    same floats as numpy's argmin below).
    """
    n_prof, n_places = value.shape[1], walk_min.shape[1]
    best = np.zeros((n_prof, n_places), dtype=np.int32)
    low = np.full((n_prof, n_places), np.inf)
    if _compiled is not None:
        _compiled.best_over_stops(value, walk_min, best, low)
        return best, low
    for g in range(n_places):
        near = np.flatnonzero(np.isfinite(walk_min[:, g]))
        if len(near) == 0:
            continue
        total = value[near] + walk_min[near, g][:, None]
        pick = np.argmin(total, axis=0)
        best[:, g] = near[pick]
        low[:, g] = total[pick, np.arange(n_prof)]
    return best, low


def _leg_dtype(tt: Timetable) -> type[np.signedinteger]:
    """Integer type of stored legs: int16 if every stop-time (and trip) index fits, else int32."""
    return np.int16 if len(tt.st_stop) < np.iinfo(np.int16).max else np.int32


def _empty(shape: tuple[int, int], legs_dtype: type[np.signedinteger]) -> Journeys:
    """No journeys: inf times and totals, no legs (-1)."""
    inf = np.full(shape, np.inf)
    legs = np.full((*shape, MAX_LEGS), -1, dtype=legs_dtype)
    return Journeys(
        inf,
        inf.copy(),
        inf.copy(),
        inf.copy(),
        inf.copy(),
        inf.copy(),
        inf.copy(),
        inf.copy(),
        np.zeros(shape, dtype=np.int8),
        legs,
        legs.copy(),
        legs.copy(),
    )


def _fill_legs(
    tt: Timetable, legs_b: list[np.ndarray], legs_a: list[np.ndarray], ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Leg arrays (cells, MAX_LEGS) in travel order (trip, stop-time indices of boarding and alighting;
    ``_leg_dtype``) and ride/fare totals (cells,) of traced cells; -1 / inf where not ``ok``."""
    n = ok.size
    st_trip = tt.st_trip
    trip = np.full((n, MAX_LEGS), -1, dtype=_leg_dtype(tt))
    board = np.full((n, MAX_LEGS), -1, dtype=_leg_dtype(tt))
    alight = np.full((n, MAX_LEGS), -1, dtype=_leg_dtype(tt))
    ride = np.zeros(n)
    km = np.zeros(n)
    fare = np.zeros(n)
    for k, (b, a) in enumerate(zip(legs_b, legs_a, strict=True)):
        has = b >= 0
        bs, as_ = np.where(has, b, 0), np.where(has, a, 0)
        t = st_trip[bs]
        ride += np.where(has, tt.st_arr[as_] - tt.st_dep[bs], 0.0)
        km += np.where(has, tt.st_km[as_] - tt.st_km[bs], 0.0)
        fare += np.where(has, tt.line_fare[tt.trip_line[t]], 0.0)
        if k < MAX_LEGS:
            trip[:, k] = np.where(has, t, -1)
            board[:, k] = np.where(has, bs, -1)
            alight[:, k] = np.where(has, as_, -1)
    for arr in (trip, board, alight):
        arr[~ok] = -1
    for total in (ride, km, fare):
        total[~ok] = np.inf
    return trip, board, alight, ride, km, fare


def earliest_arrival(
    tt: Timetable,
    walk: WalkLinks,
    *,
    origins: np.ndarray,
    times: np.ndarray,
    targets: np.ndarray,
    transfer_min: float,
    active: np.ndarray | None = None,
) -> Journeys:
    """Earliest arrival at each target node leaving each origin node at each time.

    Args:
        origins: origin node indices (O,); times: departure minutes (K,); profiles are (O * K)
            ordered origin-major (profile = o * K + k).
        targets: destination node indices (G,).
        active: trips running (all if None).

    Returns:
        Journeys shaped (O * K, G).
    """
    shape = (len(origins) * len(times), len(targets))
    blocks = earliest_arrival_blocks(
        tt, walk, origins=origins, times=times, targets=targets, transfer_min=transfer_min, active=active
    )
    return _assemble(shape, _leg_dtype(tt), blocks)


def earliest_arrival_blocks(
    tt: Timetable,
    walk: WalkLinks,
    *,
    origins: np.ndarray,
    times: np.ndarray,
    targets: np.ndarray,
    transfer_min: float,
    active: np.ndarray | None = None,
) -> Iterator[tuple[slice, Journeys]]:
    """``earliest_arrival`` block by block: (profile range, its Journeys) covering the (O * K) profiles
    in order, so that callers can keep what they need without the whole (O * K, G) table."""
    origins = np.asarray(origins, dtype=np.int64)
    times = np.asarray(times, dtype=float)
    targets = np.asarray(targets, dtype=np.int64)
    shape = (len(origins) * len(times), len(targets))
    if tt.n_stops == 0 or shape[0] == 0 or shape[1] == 0:
        yield from _empty_blocks(shape, _leg_dtype(tt))
        return
    conn = tt.connections(active)
    scan = _forward_scan(tt, walk, conn, origins, times, targets, transfer_min)
    for rows in _row_blocks(shape):
        yield rows, _trace_forward(tt, walk, conn, scan, rows, len(times))


def _forward_scan(
    tt: Timetable,
    walk: WalkLinks,
    conn: Connections,
    origins: np.ndarray,
    times: np.ndarray,
    targets: np.ndarray,
    transfer_min: float,
) -> _ForwardScan:
    """The earliest-arrival scan of profiles (origin * time) and the best egress stop per place (the
    scan's other arrays are dropped on return, before journeys are traced)."""
    access = walk.stop_node_min[:, origins]  # (S, O)
    t0 = np.repeat(np.zeros(len(origins)), len(times)) + np.tile(times, len(origins))  # (P,)
    board0 = np.repeat(access, len(times), axis=1) + t0[None, :]
    arr, arr_conn, trip_in, board_src = _scan_forward(
        conn, tt.n_stops, tt.n_trips, walk.foot, board0, transfer_min
    )
    egress = walk.stop_node_min[:, targets]  # (S, G)
    best_stop, arr_min = _best_over_stops(arr, egress)  # (P, G)
    return _ForwardScan(arr_conn, trip_in, board_src, best_stop, arr_min, egress, t0, origins)


@dataclass(frozen=True)
class _ForwardScan:
    """What the forward scan leaves for tracing journeys back: arrays over stops/trips x profiles,
    the best egress stop and arrival per (profile, place), egress minutes (S, G), profile start
    minutes (P,) and origin nodes (O,)."""

    arr_conn: np.ndarray
    trip_in: np.ndarray
    board_src: np.ndarray
    best_stop: np.ndarray
    arr_min: np.ndarray
    egress: np.ndarray
    t0: np.ndarray
    origins: np.ndarray


def _row_blocks(shape: tuple[int, int]) -> list[slice]:
    """Profile ranges of about ``_BLOCK_CELLS`` cells: journeys are traced block by block so that
    the temporaries stay small (and reused) instead of a dozen (profiles, places) arrays at once."""
    step = max(1, _BLOCK_CELLS // max(shape[1], 1))
    return [slice(p0, min(p0 + step, shape[0])) for p0 in range(0, shape[0], step)]


def _empty_blocks(
    shape: tuple[int, int], legs_dtype: type[np.signedinteger]
) -> Iterator[tuple[slice, Journeys]]:
    """Blocks of a table without journeys."""
    for rows in _row_blocks(shape):
        yield rows, _empty((rows.stop - rows.start, shape[1]), legs_dtype)


def _assemble(
    shape: tuple[int, int], legs_dtype: type[np.signedinteger], blocks: Iterator[tuple[slice, Journeys]]
) -> Journeys:
    """The whole (profiles, places) table from its blocks."""
    out = _empty(shape, legs_dtype)
    for rows, block in blocks:
        for f in fields(Journeys):
            getattr(out, f.name)[rows] = getattr(block, f.name)
    return out


def _scatter(ok: np.ndarray, traced: Journeys, legs_dtype: type[np.signedinteger]) -> Journeys:
    """A block's Journeys (``ok.shape``) from those of its traced cells (where ``ok``, in order)."""
    out = _empty(ok.shape, legs_dtype)
    at = np.flatnonzero(ok)
    for f in fields(Journeys):
        cells = getattr(out, f.name)
        cells.reshape(ok.size, *cells.shape[2:])[at] = getattr(traced, f.name)
    return out


def first_wait_min(
    tt: Timetable, walk: WalkLinks, board_st: np.ndarray, leave_min: np.ndarray, origin: np.ndarray
) -> np.ndarray:
    """Wait at the first stop, minutes, of a journey leaving node ``origin`` at ``leave_min`` and
    boarding at stop-time ``board_st`` (its first leg's ``leg_board``)."""
    return tt.st_dep[board_st] - leave_min - walk.stop_node_min[tt.st_stop[board_st], origin]


def _trace_forward(
    tt: Timetable, walk: WalkLinks, conn: Connections, scan: _ForwardScan, rows: slice, n_times: int
) -> Journeys:
    """Journeys of profiles ``rows`` of an earliest-arrival scan, walked back from the destination
    (only cells with a journey are traced): compiled (``sim/transit/_trace.pyx``) where it was built,
    else ``_trace_forward_numpy``; the same floats."""
    if _compiled is None:
        return _trace_forward_numpy(tt, walk, conn, scan, rows, n_times)
    out = _empty((rows.stop - rows.start, scan.arr_min.shape[1]), _leg_dtype(tt))
    _compiled.trace_forward(tt, walk, conn, scan, rows.start, n_times, out, *_legs(out))
    return out


def _legs(j: Journeys) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The leg arrays of ``j``."""
    return j.leg_trip, j.leg_board, j.leg_alight


def _trace_forward_numpy(
    tt: Timetable, walk: WalkLinks, conn: Connections, scan: _ForwardScan, rows: slice, n_times: int
) -> Journeys:
    """``_trace_forward`` with numpy over all the block's traced cells at once, leg by leg."""
    ok = np.isfinite(scan.arr_min[rows])
    pf, g = np.nonzero(ok)
    pf += rows.start
    best_stop = scan.best_stop[pf, g]
    arr_min = scan.arr_min[pf, g]
    # walk back from the destination: alighting connection, its trip's boarding connection, ...
    cur = scan.arr_conn[best_stop, pf].astype(np.int64)
    legs_b: list[np.ndarray] = []
    legs_a: list[np.ndarray] = []
    transfer_wait = np.zeros(cur.size)
    walk_total = scan.egress[best_stop, g]
    first_board = np.full(cur.size, -1)
    while (cur >= 0).any():
        has = cur >= 0
        safe = np.where(has, cur, 0)
        b = np.where(has, scan.trip_in[conn.trip[safe], pf], -1)
        legs_b.append(b)
        legs_a.append(np.where(has, cur, -1))
        bstop = conn.from_stop[np.where(has, b, 0)]
        prev = np.where(has, scan.board_src[bstop, pf], -1)
        chg = prev >= 0
        sp = np.where(chg, prev, 0)
        w = walk.stop_node_min[conn.to_stop[sp], tt.stop_node[bstop]]
        wait = conn.dep[np.where(has, b, 0)] - conn.arr[sp] - w
        transfer_wait += np.where(chg, wait, 0.0)
        walk_total += np.where(chg, w, 0.0)
        cur = np.where(chg, prev, -1)
        first_b = np.where(has & ~chg, b, -1)
        first_board = first_b if len(legs_b) == 1 else np.where(first_b >= 0, first_b, first_board)
    n_legs = np.zeros(cur.size, dtype=np.int8)
    for b in legs_b:
        n_legs += (b >= 0).astype(np.int8)
    if not legs_b:
        return _empty(ok.shape, _leg_dtype(tt))
    # legs were collected last-first: put them in travel order
    order_b, order_a = _travel_order(legs_b, legs_a, n_legs)
    st_b = [np.where(b >= 0, conn.st[np.where(b >= 0, b, 0)], -1) for b in order_b]
    st_a = [np.where(a >= 0, conn.st[np.where(a >= 0, a, 0)] + 1, -1) for a in order_a]
    leg_trip, leg_board, leg_alight, ride, km, fare = _fill_legs(tt, st_b, st_a, np.ones(cur.size, bool))
    fb = np.where(first_board >= 0, first_board, 0)
    origin = scan.origins[pf // n_times]
    t_leave = scan.t0[pf]
    traced = Journeys(
        dep_min=t_leave,
        arr_min=arr_min,
        first_wait_min=first_wait_min(tt, walk, conn.st[fb], t_leave, origin),
        transfer_wait_min=transfer_wait,
        walk_min=walk_total + walk.stop_node_min[conn.from_stop[fb], origin],
        ride_min=ride,
        ride_km=km,
        fare_yuan=fare,
        n_legs=n_legs,
        leg_trip=leg_trip,
        leg_board=leg_board,
        leg_alight=leg_alight,
    )
    return _scatter(ok, traced, _leg_dtype(tt))


def _travel_order(
    legs_b: list[np.ndarray], legs_a: list[np.ndarray], n_legs: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Reverse per-entry leg lists collected last leg first."""
    depth = len(legs_b)
    lb = np.stack(legs_b, axis=1)
    la = np.stack(legs_a, axis=1)
    rows = np.arange(len(n_legs))[:, None]
    k = np.arange(depth)[None, :]
    src = n_legs[:, None].astype(np.int64) - 1 - k
    valid = src >= 0
    src = np.where(valid, src, 0)
    ob = np.where(valid, lb[rows, src], -1)
    oa = np.where(valid, la[rows, src], -1)
    return [ob[:, i] for i in range(depth)], [oa[:, i] for i in range(depth)]


def _alight_stops(
    tt: Timetable,
    walk: WalkLinks,
    alight: np.ndarray,
    alight_src: np.ndarray,
    b: np.ndarray,
    g_node: np.ndarray,
    deadline: np.ndarray,
    pf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For riders boarded at stop-times ``b``: the first later stop-time from which they walk to
    their target node ``g_node`` by ``deadline``, and the first where a change still makes it
    (profile ``pf``); -1 where none (the change stop is left -1 where the walk is found: unused).
    Riders leave the scan once their trip ends or their walk is found."""
    end = tt.trip_start[tt.st_trip[b] + 1]
    egress_st = np.full(len(b), -1)
    change_st = np.full(len(b), -1)
    live = np.arange(len(b))
    for j in range(1, int(np.diff(tt.trip_start).max(initial=1))):
        k = b[live] + j
        live, k = live[k < end[live]], k[k < end[live]]
        if not len(live):
            break
        s_k = tt.st_stop[k]
        a_k = tt.st_arr[k]
        off = tt.st_dropoff[k]
        eg = off & (a_k + walk.stop_node_min[s_k, g_node[live]] <= deadline[live])
        egress_st[live[eg]] = k[eg]
        p = pf[live]
        ch = off & ~eg & (change_st[live] < 0) & (a_k <= alight[s_k, p] + 1e-9) & (alight_src[s_k, p] >= 0)
        change_st[live[ch]] = k[ch]
        live = live[~eg]
    return egress_st, change_st


def latest_departure(
    tt: Timetable,
    walk: WalkLinks,
    *,
    targets: np.ndarray,
    times: np.ndarray,
    origins: np.ndarray,
    transfer_min: float,
    active: np.ndarray | None = None,
) -> Journeys:
    """Latest departure from each origin node that reaches each target node by each time.

    Args:
        targets: destination node indices (G,); times: arrive-by minutes (K,); profiles are
            (G * K) ordered target-major (profile = g * K + k).
        origins: origin node indices (O,).

    Returns:
        Journeys shaped (G * K, O); ``arr_min`` is when that journey actually arrives (<= the time).
    """
    shape = (len(targets) * len(times), len(origins))
    blocks = latest_departure_blocks(
        tt, walk, targets=targets, times=times, origins=origins, transfer_min=transfer_min, active=active
    )
    return _assemble(shape, _leg_dtype(tt), blocks)


def latest_departure_blocks(
    tt: Timetable,
    walk: WalkLinks,
    *,
    targets: np.ndarray,
    times: np.ndarray,
    origins: np.ndarray,
    transfer_min: float,
    active: np.ndarray | None = None,
) -> Iterator[tuple[slice, Journeys]]:
    """``latest_departure`` block by block: (profile range, its Journeys) covering the (G * K)
    profiles in order."""
    targets = np.asarray(targets, dtype=np.int64)
    times = np.asarray(times, dtype=float)
    origins = np.asarray(origins, dtype=np.int64)
    shape = (len(targets) * len(times), len(origins))
    if tt.n_stops == 0 or shape[0] == 0 or shape[1] == 0:
        yield from _empty_blocks(shape, _leg_dtype(tt))
        return
    conn = tt.connections(active)
    scan = _backward_scan(tt, walk, conn, targets, times, origins, transfer_min)
    for rows in _row_blocks(shape):
        yield rows, _trace_backward(tt, walk, conn, scan, rows, len(times))


def _backward_scan(
    tt: Timetable,
    walk: WalkLinks,
    conn: Connections,
    targets: np.ndarray,
    times: np.ndarray,
    origins: np.ndarray,
    transfer_min: float,
) -> _BackwardScan:
    """The latest-departure scan of profiles (target * time) and the best access stop per place (the
    scan's other arrays are dropped on return, before journeys are traced)."""
    egress = walk.stop_node_min[:, targets]  # (S, G)
    t_by = np.tile(times, len(targets))
    alight0 = t_by[None, :] - np.repeat(egress, len(times), axis=1)
    alight0 = np.where(np.isfinite(alight0), alight0, -np.inf)
    bd, bd_conn, alight, alight_src = _scan_backward(
        conn, tt.n_stops, tt.n_trips, walk.foot, alight0, transfer_min
    )
    access = walk.stop_node_min[:, origins]  # (S, O)
    best_stop, dep_min = _best_over_stops(np.negative(bd, out=bd), access)
    np.negative(dep_min, out=dep_min)  # the latest departure
    return _BackwardScan(bd_conn, alight, alight_src, best_stop, dep_min, access, t_by, targets)


@dataclass(frozen=True)
class _BackwardScan:
    """What the backward scan leaves for following journeys forward: arrays over stops x profiles,
    the best access stop and latest departure per (profile, place), access minutes (S, O),
    arrive-by minutes per profile (P,) and target nodes (G,)."""

    bd_conn: np.ndarray
    alight: np.ndarray
    alight_src: np.ndarray
    best_stop: np.ndarray
    dep_min: np.ndarray
    access: np.ndarray
    t_by: np.ndarray
    targets: np.ndarray


def _trace_backward(
    tt: Timetable, walk: WalkLinks, conn: Connections, scan: _BackwardScan, rows: slice, n_times: int
) -> Journeys:
    """Journeys of profiles ``rows`` of a latest-departure scan, followed from the origin (only cells
    with a latest departure are traced): compiled (``sim/transit/_trace.pyx``) where it was built,
    else ``_trace_backward_numpy``; the same floats."""
    if _compiled is None:
        return _trace_backward_numpy(tt, walk, conn, scan, rows, n_times)
    out = _empty((rows.stop - rows.start, scan.dep_min.shape[1]), _leg_dtype(tt))
    _compiled.trace_backward(tt, walk, conn, scan, rows.start, n_times, out, *_legs(out))
    return out


def _trace_backward_numpy(
    tt: Timetable, walk: WalkLinks, conn: Connections, scan: _BackwardScan, rows: slice, n_times: int
) -> Journeys:
    """``_trace_backward`` with numpy over all the block's traced cells at once, leg by leg."""
    ok = np.isfinite(scan.dep_min[rows])
    pf, o = np.nonzero(ok)
    pf += rows.start
    best_stop = scan.best_stop[pf, o]
    dep_min = scan.dep_min[pf, o]
    g_node = scan.targets[pf // n_times]
    deadline = scan.t_by[pf] + 1e-9
    cur = scan.bd_conn[best_stop, pf].astype(np.int64)
    cur_st = np.where(cur >= 0, conn.st[np.where(cur >= 0, cur, 0)], -1)
    first_wait = conn.board_wait[np.where(cur >= 0, cur, 0)]
    legs_b: list[np.ndarray] = []
    legs_a: list[np.ndarray] = []
    transfer_wait = np.zeros(cur.size)
    walk_total = scan.access[best_stop, o]
    arr_min = np.full(cur.size, np.inf)
    while (cur_st >= 0).any():
        # ride the boarded trip to the first stop from which one can walk to the target in time;
        # failing that, to the first stop where a change still makes it
        has = cur_st >= 0
        b = np.where(has, cur_st, 0)
        egress_st = np.full(cur.size, -1)
        change_st = np.full(cur.size, -1)
        on = np.flatnonzero(has)  # only the cells riding a trip
        egress_st[on], change_st[on] = _alight_stops(
            tt, walk, scan.alight, scan.alight_src, b[on], g_node[on], deadline[on], pf[on]
        )
        a_st = np.where(egress_st >= 0, egress_st, change_st)
        legs_b.append(np.where(has, b, -1))
        legs_a.append(np.where(has, a_st, -1))
        done = has & (egress_st >= 0)
        e_st = np.where(done, egress_st, 0)
        egress_min = walk.stop_node_min[tt.st_stop[e_st], g_node]
        arr_min = np.where(done, tt.st_arr[e_st] + egress_min, arr_min)
        walk_total += np.where(done, egress_min, 0.0)
        chg = has & ~done & (change_st >= 0)
        c_st = np.where(chg, change_st, 0)
        nxt = np.where(chg, scan.alight_src[tt.st_stop[c_st], pf], -1)
        sn = np.where(nxt >= 0, nxt, 0)
        w = walk.stop_node_min[tt.st_stop[c_st], tt.stop_node[conn.from_stop[sn]]]
        transfer_wait += np.where(chg, conn.dep[sn] - tt.st_arr[c_st] - w, 0.0)
        walk_total += np.where(chg, w, 0.0)
        cur_st = np.where(chg, conn.st[sn], -1)
    if not legs_b:
        return _empty(ok.shape, _leg_dtype(tt))
    arrives = np.isfinite(arr_min)
    n_legs = np.zeros(cur.size, dtype=np.int8)
    for lb in legs_b:
        n_legs += (lb >= 0).astype(np.int8)
    leg_trip, leg_board, leg_alight, ride, km, fare = _fill_legs(tt, legs_b, legs_a, arrives)
    traced = Journeys(
        dep_min=np.where(arrives, dep_min, np.inf),
        arr_min=arr_min,
        first_wait_min=np.where(arrives, first_wait, np.inf),
        transfer_wait_min=np.where(arrives, transfer_wait, np.inf),
        walk_min=np.where(arrives, walk_total, np.inf),
        ride_min=ride,
        ride_km=km,
        fare_yuan=fare,
        n_legs=n_legs,
        leg_trip=leg_trip,
        leg_board=leg_board,
        leg_alight=leg_alight,
    )
    return _scatter(ok, traced, _leg_dtype(tt))
