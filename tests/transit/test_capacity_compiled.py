"""Vehicle capacity on random timetables: the compiled boarding (``sim/transit/_capacity.pyx``) and
the Python loops of :mod:`sim.transit.capacity` give the same boardings, left-behind riders, waits,
give-ups and strandings byte for byte.

The timetables have several lines sharing stops (a leg may be served by runs of more than one
line), departures on whole minutes (ties between lines, and waits exactly at the limit); riders are
ready on whole minutes (ties in the first-come order), ride up to three legs with changes between
lines, and come in batches sharing the day's loads.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sim.transit import capacity
from sim.transit.capacity import Boarding, VehicleLoads, board_fifo
from sim.transit.timetable import Timetable
from tests.transit.test_capacity import assert_same_boardings

MAX_WAIT = 10.0  # departures 5 min apart: the second run after the planned one is exactly at the limit


def _timetable(rng: np.random.Generator, capacity_: int) -> Timetable:
    """3 to 5 lines over 8 stops, each along 3 to 6 distinct stops with 4 to 12 runs on a 5-minute grid."""
    n_stops = 8
    st_stop, times, trip_line, trip_start = [], [], [], [0]
    n_lines = int(rng.integers(3, 6))
    for line in range(n_lines):
        stops = rng.choice(n_stops, int(rng.integers(3, 7)), replace=False)
        hops = rng.integers(1, 4, len(stops) - 1) * 5.0
        offsets = np.concatenate([[0.0], np.cumsum(hops)])
        first = 420.0 + 5.0 * int(rng.integers(0, 4))
        for run in range(int(rng.integers(4, 13))):
            start = first + 5.0 * run * int(rng.integers(1, 3))
            st_stop.extend(stops.tolist())
            times.extend((start + offsets).tolist())
            trip_line.append(line)
            trip_start.append(len(st_stop))
    n_trips = len(trip_line)
    stop = np.array(st_stop, dtype=np.int64)
    time = np.array(times)
    return Timetable(
        stop_node=np.arange(n_stops),
        line_ids=[f"L{i}" for i in range(n_lines)],
        line_kind=["bus"] * n_lines,
        line_fare=np.full(n_lines, 2.0),
        line_capacity=rng.integers(max(1, capacity_ - 1), capacity_ + 1, n_lines),
        trip_ids=[f"t{i}" for i in range(n_trips)],
        trip_line=np.array(trip_line, dtype=np.int64),
        trip_days=np.ones((n_trips, 7), dtype=bool),
        trip_start=np.array(trip_start, dtype=np.int64),
        st_stop=stop,
        st_arr=time,
        st_dep=time,
        st_km=time / 10.0,
        st_pickup=np.ones(len(stop), dtype=bool),
        st_dropoff=np.ones(len(stop), dtype=bool),
        trip_board_wait=np.zeros(n_trips),
    )


def _riders(
    rng: np.random.Generator, tt: Timetable, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Up to three legs each: a random run between two of its stop-times, then a change onto a
    later run (any line) leaving the stop alighted at, while one exists; ready 0 to 10 whole
    minutes before the first departure."""
    trip = np.full((n, 3), -1, dtype=np.int64)
    board, alight = trip.copy(), trip.copy()
    ready = np.zeros(n)
    n_legs = rng.integers(1, 4, n)
    for i in range(n):
        t = int(rng.integers(0, tt.n_trips))
        lo, hi = int(tt.trip_start[t]), int(tt.trip_start[t + 1])
        b = int(rng.integers(lo, hi - 1))
        for leg in range(int(n_legs[i])):
            a = int(rng.integers(b + 1, hi))
            trip[i, leg], board[i, leg], alight[i, leg] = t, b, a
            # a later run picking up at the stop alighted at, with a stop after it
            at = np.flatnonzero(
                (tt.st_stop == tt.st_stop[a])
                & (tt.st_dep >= tt.st_arr[a])
                & (np.arange(len(tt.st_stop)) + 1 < tt.trip_start[tt.st_trip + 1])
            )
            if len(at) == 0:
                break
            b = int(at[rng.integers(0, min(len(at), 4))])
            t = int(tt.st_trip[b])
            lo, hi = int(tt.trip_start[t]), int(tt.trip_start[t + 1])
        ready[i] = tt.st_dep[board[i, 0]] - float(rng.integers(0, 11))
    return trip, board, alight, ready


def _board(
    monkeypatch: pytest.MonkeyPatch, compiled: object, tt: Timetable, batches: list, weight: float
) -> tuple[list[Boarding], VehicleLoads]:
    monkeypatch.setattr(capacity, "_compiled", compiled)
    running = np.ones(tt.n_trips, dtype=bool)
    loads = VehicleLoads.empty(tt)
    shared = capacity._Candidates(tt, running)
    got = [
        board_fifo(tt, running, loads, *b, weight=weight, max_wait_min=MAX_WAIT, candidates=shared)
        for b in batches
    ]
    return got, loads


@pytest.mark.parametrize("capacity_", [1, 2, 3, 4, 5])
def test_compiled_and_python_boarding_agree_on_random_timetables(
    monkeypatch: pytest.MonkeyPatch, capacity_: int
) -> None:
    if capacity._compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.transit._capacity was not built"
        pytest.skip("installed without a C compiler: only the Python loop exists")
    compiled = capacity._compiled
    rng = np.random.default_rng(100 + capacity_)
    seen = {"gave_up": 0, "stranded": 0, "delayed": 0, "left": 0, "at_limit": 0}
    for trial in range(12):
        tt = _timetable(rng, capacity_)
        weight = 1.0 if trial % 3 else 0.7
        # batch sizes from a few riders to some hundreds (the compiled sort merges runs of 16)
        batches = [_riders(rng, tt, int(rng.integers(1, 300))) for _ in range(int(rng.integers(1, 4)))]
        fast, fast_loads = _board(monkeypatch, compiled, tt, batches, weight)
        slow, slow_loads = _board(monkeypatch, None, tt, batches, weight)
        for a in assert_same_boardings(fast, slow, fast_loads, slow_loads):
            seen["gave_up"] += int(a.gave_up.sum())
            seen["stranded"] += int(a.stranded.sum())
            seen["delayed"] += int((a.delay_min > 0).sum())
            seen["at_limit"] += int((~a.gave_up & (a.first_wait_min == MAX_WAIT)).sum())
        seen["left"] += int(fast_loads.left_behind.sum() > 0)
    assert min(seen.values()) > 0, seen  # full runs, give-ups, strandings and boardings at the limit


def test_ties_in_readiness_board_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Riders ready at the same minute for the same run board in row order, by both versions."""
    rng = np.random.default_rng(7)
    tt = _timetable(rng, 2)
    n = 40
    t = 0
    lo = int(tt.trip_start[t])
    trip = np.full((n, 1), t, dtype=np.int64)
    board, alight = np.full((n, 1), lo, dtype=np.int64), np.full((n, 1), lo + 1, dtype=np.int64)
    ready = np.full(n, tt.st_dep[lo] - 3.0)
    results = []
    for compiled in [capacity._compiled, None]:
        got, _ = _board(monkeypatch, compiled, tt, [(trip, board, alight, ready)], 1.0)
        cap = tt.line_capacity[tt.trip_line[t]]
        assert (got[0].legs_trip[:cap, 0] == t).all() and (got[0].delay_min[:cap] == 0).all()
        assert (got[0].legs_trip[cap:, 0] != t).all()
        results.append([getattr(got[0], name).tobytes() for name in Boarding.__dataclass_fields__])
    assert results[0] == results[-1]
