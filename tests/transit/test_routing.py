"""Connection scan equals a brute-force time-expanded search; more service never makes arrivals later."""

from __future__ import annotations

import shutil
from dataclasses import fields

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.transit import csa
from sim.transit.csa import Journeys, earliest_arrival, latest_departure
from sim.transit.timetable import Timetable, TripBuilder, WalkLinks, assemble_timetable

TRANSFER = 2.0


# line, stops, arrivals, departures, pickup allowed, drop-off allowed, board wait (min)
Spec = list[tuple[int, list[int], np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]]


def build(spec: Spec, walk: np.ndarray, n_lines: int) -> tuple[Timetable, WalkLinks]:
    """Timetable of the given trips and walking links from a full (nodes, nodes) walk matrix."""
    builder = TripBuilder()
    for t, (line, stops, arr, dep, pickup, dropoff, wait) in enumerate(spec):
        builder.add(
            f"t{t}",
            line,
            [True] * 7,
            stops,
            arr,
            dep,
            np.zeros(len(stops)),
            pickup=pickup,
            dropoff=dropoff,
            board_wait=wait,
        )
    tt = assemble_timetable(
        line_ids=[f"L{i}" for i in range(n_lines)],
        line_kind=["bus"] * n_lines,
        line_fare=[1.0] * n_lines,
        line_capacity=[10] * n_lines,
        trips=builder,
    )
    stop_node_min = walk[tt.stop_node]
    foot = []
    for s in range(tt.n_stops):
        to = stop_node_min[s, tt.stop_node]
        near = np.flatnonzero(np.isfinite(to))
        foot.append((near.astype(np.int64), to[near]))
    return tt, WalkLinks(stop_node_min=stop_node_min, foot=foot)


@st.composite
def specs(draw: st.DrawFn) -> tuple[Spec, np.ndarray, int]:
    """Random small networks: direct walking links between nodes, a few trips of a few lines."""
    n = draw(st.integers(3, 6))
    walk = np.full((n, n), np.inf)
    np.fill_diagonal(walk, 0.0)
    for a in range(n):
        for b in range(a + 1, n):
            if draw(st.booleans()) and draw(st.booleans()):
                walk[a, b] = walk[b, a] = float(draw(st.integers(1, 8)))
    n_lines = draw(st.integers(1, 3))
    spec: Spec = []
    for t in range(draw(st.integers(1, 7))):
        stops = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=min(4, n), unique=True))
        now = float(draw(st.integers(0, 60)))
        arr, dep = [], []
        for k in range(len(stops)):
            if k > 0:
                now += float(draw(st.integers(1, 15)))
            arr.append(now)
            if 0 < k < len(stops) - 1:
                now += float(draw(st.integers(0, 2)))
            dep.append(now)
        # GTFS pickup_type / drop_off_type 1 at some stops; frequency trips without exact times
        pickup = np.array([draw(st.integers(0, 4)) > 0 for _ in stops])
        dropoff = np.array([draw(st.integers(0, 4)) > 0 for _ in stops])
        wait = float(draw(st.sampled_from([0, 0, 0, 5])))
        spec.append((t % n_lines, stops, np.array(arr), np.array(dep), pickup, dropoff, wait))
    return spec, walk, n_lines


@st.composite
def networks(draw: st.DrawFn) -> tuple[Timetable, WalkLinks]:
    spec, walk, n_lines = draw(specs())
    return build(spec, walk, n_lines)


def _event_graph(
    tt: Timetable, walk: WalkLinks, *, planned: bool
) -> tuple[nx.DiGraph, dict[int, tuple[int, int, float, float]]]:
    """Time-expanded graph: ride nodes per connection, off nodes per alighting, transfer edges.

    ``planned``: departures are when a planned journey must be at the stop (the run's departure
    minus its board wait), as in arrive-by queries.
    """
    conn = tt.connections()
    info = {
        c: (
            int(conn.from_stop[c]),
            int(conn.to_stop[c]),
            float(tt.st_dep[conn.st[c]] - planned * tt.trip_board_wait[conn.trip[c]]),
            float(tt.st_arr[conn.st[c] + 1]),
        )
        for c in range(len(conn))
    }
    boardable = {c for c in info if tt.st_pickup[conn.st[c]]}
    g = nx.DiGraph()
    g.add_nodes_from(("ride", c) for c in info)
    by_st = {int(conn.st[c]): c for c in range(len(conn))}
    for c, (_, to, _, arr) in info.items():
        if tt.st_dropoff[conn.st[c] + 1]:
            g.add_edge(("ride", c), ("off", c))
        nxt = by_st.get(int(conn.st[c]) + 1)
        if nxt is not None and int(conn.trip[nxt]) == int(conn.trip[c]):
            g.add_edge(("ride", c), ("ride", nxt))
        if ("off", c) not in g:
            continue
        for c2 in boardable:
            fr2, _, dep2, _ = info[c2]
            w = walk.stop_node_min[to, tt.stop_node[fr2]]
            if np.isfinite(w) and arr + w + TRANSFER <= dep2:
                g.add_edge(("off", c), ("ride", c2))
    g.graph["boardable"] = boardable
    return g, info


def _brute_ea(tt: Timetable, walk: WalkLinks, origin: int, t0: float, target: int) -> float:
    g, info = _event_graph(tt, walk, planned=False)
    g.add_node("S")
    for c in g.graph["boardable"]:
        fr, _, dep, _ = info[c]
        if t0 + walk.stop_node_min[fr, origin] <= dep:
            g.add_edge("S", ("ride", c))
    best = np.inf
    for node in nx.descendants(g, "S"):
        if node[0] == "off":
            _, to, _, arr = info[node[1]]
            best = min(best, arr + walk.stop_node_min[to, target])
    return best


def _brute_ld(tt: Timetable, walk: WalkLinks, target: int, by: float, origin: int) -> float:
    g, info = _event_graph(tt, walk, planned=True)
    g.add_node("T")
    for c, (_, to, _, arr) in info.items():
        if ("off", c) in g and arr + walk.stop_node_min[to, target] <= by:
            g.add_edge(("off", c), "T")
    best = -np.inf
    for node in nx.ancestors(g, "T"):
        if node[0] == "ride" and node[1] in g.graph["boardable"]:
            fr, _, dep, _ = info[node[1]]
            best = max(best, dep - walk.stop_node_min[fr, origin])
    return best


@settings(max_examples=40, deadline=None)
@given(networks(), st.integers(0, 70))
def test_earliest_arrival_equals_brute_force(net: tuple[Timetable, WalkLinks], t0: int) -> None:
    tt, walk = net
    n = walk.stop_node_min.shape[1]
    nodes = np.arange(n)
    j = earliest_arrival(
        tt, walk, origins=nodes, times=np.array([float(t0)]), targets=nodes, transfer_min=TRANSFER
    )
    for o in range(n):
        for g in range(n):
            expect = _brute_ea(tt, walk, o, float(t0), g)
            assert j.arr_min[o, g] == expect, (o, g)
            if np.isfinite(expect):
                assert j.dep_min[o, g] == t0
                assert j.n_legs[o, g] >= 1
                # the recorded parts add up to the whole journey
                total = (
                    j.first_wait_min[o, g] + j.transfer_wait_min[o, g] + j.walk_min[o, g] + j.ride_min[o, g]
                )
                assert abs(total - (j.arr_min[o, g] - j.dep_min[o, g])) < 1e-6


@settings(max_examples=40, deadline=None)
@given(networks(), st.integers(0, 120))
def test_latest_departure_equals_brute_force(net: tuple[Timetable, WalkLinks], by: int) -> None:
    tt, walk = net
    n = walk.stop_node_min.shape[1]
    nodes = np.arange(n)
    j = latest_departure(
        tt, walk, targets=nodes, times=np.array([float(by)]), origins=nodes, transfer_min=TRANSFER
    )
    for g in range(n):
        for o in range(n):
            expect = _brute_ld(tt, walk, g, float(by), o)
            got = j.dep_min[g, o]
            assert (got == expect) or (not np.isfinite(got) and not np.isfinite(expect)), (g, o)
            if np.isfinite(expect):
                assert j.arr_min[g, o] <= by + 1e-9
                assert j.arr_min[g, o] >= got
                total = (
                    j.first_wait_min[g, o] + j.transfer_wait_min[g, o] + j.walk_min[g, o] + j.ride_min[g, o]
                )
                assert abs(total - (j.arr_min[g, o] - got)) < 1e-6


@settings(max_examples=40, deadline=None)
@given(specs(), st.data(), st.integers(0, 60))
def test_more_service_never_makes_arrival_later(
    net: tuple[Spec, np.ndarray, int], data: st.DataObject, t0: int
) -> None:
    """Removing trips (a line, or departures) never makes an earliest arrival earlier, i.e. adding never
    makes one later."""
    spec, walk, n_lines = net
    keep = data.draw(st.lists(st.booleans(), min_size=len(spec), max_size=len(spec)))
    fewer = [trip for trip, k in zip(spec, keep, strict=True) if k]
    n = walk.shape[0]
    nodes = np.arange(n)
    times = np.array([float(t0)])
    full = build(spec, walk, n_lines)
    after = earliest_arrival(*full, origins=nodes, times=times, targets=nodes, transfer_min=TRANSFER)
    if not fewer:
        assert True
        return
    before = earliest_arrival(
        *build(fewer, walk, n_lines), origins=nodes, times=times, targets=nodes, transfer_min=TRANSFER
    )
    assert np.all(after.arr_min <= before.arr_min)


def _both_traces(tt: Timetable, walk: WalkLinks, times: np.ndarray) -> list[list[np.ndarray]]:
    """Earliest-arrival and latest-departure tables of every node pair, traced by the compiled loops
    and by numpy, in blocks of a few profiles (so that blocks start inside the table)."""
    nodes = np.arange(walk.stop_node_min.shape[1])
    tables = []
    compiled, block = csa._compiled, csa._BLOCK_CELLS
    try:
        csa._BLOCK_CELLS = 3 * len(nodes)
        for ext in (compiled, None):
            csa._compiled = ext
            ea = earliest_arrival(tt, walk, origins=nodes, times=times, targets=nodes, transfer_min=TRANSFER)
            ld = latest_departure(tt, walk, targets=nodes, times=times, origins=nodes, transfer_min=TRANSFER)
            tables.append([getattr(j, f.name) for j in (ea, ld) for f in fields(Journeys)])
    finally:
        csa._compiled, csa._BLOCK_CELLS = compiled, block
    return tables


@settings(max_examples=60, deadline=None)
@given(networks(), st.lists(st.integers(0, 120), min_size=1, max_size=5))
def test_the_compiled_traces_give_the_numpy_journeys(
    net: tuple[Timetable, WalkLinks], times: list[int]
) -> None:
    """``sim/transit/_trace.pyx`` (built at install where a C compiler is present) and the numpy
    tracing: every field of every journey byte for byte (times, waits, walks, rides, fares, legs and
    the legs counted of journeys that do not arrive)."""
    if csa._compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.transit._trace was not built"
        pytest.skip("installed without a C compiler: only the numpy tracing exists")
    fast, slow = _both_traces(*net, np.array(times, dtype=float))
    for a, b in zip(fast, slow, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=60, deadline=None)
@given(networks(), st.lists(st.integers(0, 120), min_size=1, max_size=12), st.sampled_from([1, 2, 5, 4096]))
def test_the_compiled_scans_give_the_numpy_arrays(
    net: tuple[Timetable, WalkLinks], times: list[int], block: int
) -> None:
    """The compiled connection scans (``_trace.scan_forward`` / ``scan_backward``, scanning ``block``
    profiles at a time) and the Python loops: every array of both scans byte for byte, with blocks
    of one profile, blocks that split the profiles unevenly and one block of all of them."""
    if csa._compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.transit._trace was not built"
        pytest.skip("installed without a C compiler: only the numpy scans exist")
    tt, walk = net
    nodes = np.arange(walk.stop_node_min.shape[1])
    conn = tt.connections(None)
    t = np.array(times, dtype=float)
    compiled, scan_block = csa._compiled, csa._SCAN_BLOCK
    scans = []
    try:
        csa._SCAN_BLOCK = block
        for ext in (compiled, None):
            csa._compiled = ext
            fwd = csa._forward_scan(tt, walk, conn, nodes, t, nodes, TRANSFER)
            bwd = csa._backward_scan(tt, walk, conn, nodes, t, nodes, TRANSFER)
            scans.append([getattr(s, f.name) for s in (fwd, bwd) for f in fields(s)])
    finally:
        csa._compiled, csa._SCAN_BLOCK = compiled, scan_block
    assert len(scans[0]) == len(scans[1]) > 0
    for a, b in zip(*scans, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
