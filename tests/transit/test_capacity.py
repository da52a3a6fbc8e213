"""Vehicle capacity: the FIFO boarding engine against a brute-force event simulation of one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.runner import run_scenario
from sim.transit import capacity
from sim.transit.capacity import Boarding, VehicleLoads, board_fifo
from sim.transit.timetable import Timetable

STOPS, RUNS, HEADWAY, HOP = 5, 12, 10.0, 5.0
FIRST = 420.0
MAX_WAIT = 25.0


def _line(capacity: int) -> Timetable:
    """One line of STOPS stops, RUNS runs HEADWAY min apart, HOP min between stops."""
    st_stop = np.tile(np.arange(STOPS), RUNS)
    times = (FIRST + HEADWAY * np.repeat(np.arange(RUNS), STOPS) + HOP * st_stop).astype(float)
    return Timetable(
        stop_node=np.arange(STOPS),
        line_ids=["L"],
        line_kind=["bus"],
        line_fare=np.array([2.0]),
        line_capacity=np.array([capacity]),
        trip_ids=[f"r{i}" for i in range(RUNS)],
        trip_line=np.zeros(RUNS, dtype=np.int64),
        trip_days=np.ones((RUNS, 7), dtype=bool),
        trip_start=np.arange(RUNS + 1) * STOPS,
        st_stop=st_stop,
        st_arr=times,
        st_dep=times,
        st_km=st_stop.astype(float),
        st_pickup=np.ones(RUNS * STOPS, dtype=bool),
        st_dropoff=np.ones(RUNS * STOPS, dtype=bool),
        trip_board_wait=np.zeros(RUNS),
    )


def _riders(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = rng.integers(0, STOPS - 1, n)
    b = a + 1 + (rng.random(n) * (STOPS - 1 - a)).astype(np.int64)
    ready = FIRST + rng.random(n) * HEADWAY * (RUNS - 4) + HOP * a
    return a, b, np.round(ready, 3)


def _brute_force(capacity: int, a: np.ndarray, b: np.ndarray, ready: np.ndarray) -> dict[str, np.ndarray]:
    """Run by run, stop by stop in time order: alight, then board the waiting riders FIFO while room."""
    n = len(a)
    run_of = np.full(n, -1)
    gave_up = np.zeros(n, dtype=bool)
    boardings = np.zeros(RUNS)
    left = np.zeros(RUNS)
    dep = lambda r, s: FIRST + HEADWAY * r + HOP * s  # noqa: E731
    planned = np.array([int(np.ceil((ready[i] - dep(0, a[i])) / HEADWAY - 1e-9)) for i in range(n)])
    events = sorted((dep(r, s), r, s) for r in range(RUNS) for s in range(STOPS))
    onboard = {r: [] for r in range(RUNS)}
    for _t, r, s in events:
        onboard[r] = [i for i in onboard[r] if b[i] != s]
        waiting = [i for i in range(n) if a[i] == s and run_of[i] < 0 and not gave_up[i] and planned[i] <= r]
        for i in sorted(waiting, key=lambda i: (ready[i], i)):
            if len(onboard[r]) < capacity:
                onboard[r].append(i)
                run_of[i] = r
                boardings[r] += 1
            else:
                left[r] += 1
                if r + 1 >= RUNS or dep(r + 1, s) - dep(planned[i], s) > MAX_WAIT:
                    gave_up[i] = True
    wait = np.array([dep(run_of[i], a[i]) - ready[i] if run_of[i] >= 0 else np.nan for i in range(n)])
    return {"run": run_of, "gave_up": gave_up, "boardings": boardings, "left": left, "wait": wait}


@pytest.mark.parametrize("capacity", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fifo_boarding_equals_a_brute_force_event_simulation(capacity: int, seed: int) -> None:
    tt = _line(capacity)
    a, b, ready = _riders(np.random.default_rng(seed), 70)
    planned = np.ceil((ready - (FIRST + HOP * a)) / HEADWAY - 1e-9).astype(np.int64)
    legs_trip = np.full((len(a), 2), -1, dtype=np.int64)
    legs_board, legs_alight = legs_trip.copy(), legs_trip.copy()
    legs_trip[:, 0] = planned
    legs_board[:, 0] = planned * STOPS + a
    legs_alight[:, 0] = planned * STOPS + b
    loads = VehicleLoads.empty(tt)
    got = board_fifo(
        tt,
        np.ones(RUNS, dtype=bool),
        loads,
        legs_trip,
        legs_board,
        legs_alight,
        ready,
        weight=1.0,
        max_wait_min=MAX_WAIT,
    )
    ref = _brute_force(capacity, a, b, ready)
    assert ref["left"].sum() > 0  # capacity binds in every case
    run = np.where(got.gave_up, -1, got.legs_trip[:, 0])
    np.testing.assert_array_equal(run, ref["run"])
    np.testing.assert_array_equal(got.gave_up, ref["gave_up"])
    np.testing.assert_array_equal(np.bincount(run[run >= 0], minlength=RUNS), ref["boardings"])
    np.testing.assert_array_equal(loads.left_behind, ref["left"])
    boarded = run >= 0
    wait = tt.st_dep[got.legs_board[boarded, 0]] - ready[boarded]
    np.testing.assert_allclose(wait, ref["wait"][boarded])
    np.testing.assert_allclose(
        got.first_wait_min[boarded], wait - (tt.st_dep[legs_board[boarded, 0]] - ready[boarded])
    )
    assert (loads.onboard <= capacity).all()


def test_nobody_moves_when_capacity_is_never_reached() -> None:
    tt = _line(1000)
    a, b, ready = _riders(np.random.default_rng(4), 70)
    planned = np.ceil((ready - (FIRST + HOP * a)) / HEADWAY - 1e-9).astype(np.int64)
    legs = np.full((len(a), 1), -1, dtype=np.int64)
    trip, board, alight = legs.copy(), legs.copy(), legs.copy()
    trip[:, 0], board[:, 0], alight[:, 0] = planned, planned * STOPS + a, planned * STOPS + b
    loads = VehicleLoads.empty(tt)
    got = board_fifo(
        tt, np.ones(RUNS, bool), loads, trip, board, alight, ready, weight=1.0, max_wait_min=MAX_WAIT
    )
    assert (got.delay_min == 0).all() and not got.gave_up.any() and (got.legs_trip == trip).all()
    assert loads.left_behind.sum() == 0 and loads.onboard.sum() > 0


def test_a_late_first_leg_takes_the_next_run_of_the_second_leg() -> None:
    """Two legs on the same line (a change at stop 2): refused on the first run,
    the rider takes the next first-leg run and the first second-leg run after arriving + the gap."""
    tt = _line(1)
    # rider 0 fills run 0 from stop 0 to 4; rider 1 plans run 0: stop 1 -> 2, then run 1: stop 2 -> 4
    trip = np.array([[0, -1], [0, 1]])
    board = np.array([[0, -1], [1, STOPS + 2]])
    alight = np.array([[4, -1], [2, STOPS + 4]])
    ready = np.array([FIRST, FIRST + HOP])
    loads = VehicleLoads.empty(tt)
    got = board_fifo(
        tt, np.ones(RUNS, bool), loads, trip, board, alight, ready, weight=1.0, max_wait_min=MAX_WAIT
    )
    assert got.legs_trip[1, 0] == 1  # next run for the first leg
    # at stop 2 at 440 (run 1), + the planned 10-min gap (arrival 430, next run 440): run 2 at 450
    assert got.legs_trip[1, 1] == 2
    assert got.delay_min[1] == pytest.approx(HEADWAY)
    assert loads.left_behind[0] == 1


def test_candidates_shared_by_batches_give_the_same_boarding() -> None:
    """Runs of the stop pairs met so far are kept for later batches (new pairs added as met):
    each batch boards as with candidates built for it alone."""
    from sim.transit.capacity import _Candidates

    tt, running = _line(2), np.ones(RUNS, dtype=bool)
    shared = _Candidates(tt, running)
    loads_shared, loads_fresh = VehicleLoads.empty(tt), VehicleLoads.empty(tt)
    for seed, n in ((5, 30), (6, 50), (7, 40)):
        a, b, ready = _riders(np.random.default_rng(seed), n)
        if seed == 5:  # the first batch meets only some of the stop pairs
            b = np.minimum(b, 2)
            a = np.minimum(a, b - 1)
        planned = np.ceil((ready - (FIRST + HOP * a)) / HEADWAY - 1e-9).astype(np.int64)
        trip = planned[:, None]
        board, alight = trip * STOPS + a[:, None], trip * STOPS + b[:, None]
        args = (tt, running)
        kw = {"weight": 1.0, "max_wait_min": MAX_WAIT}
        got = board_fifo(*args, loads_shared, trip, board, alight, ready, candidates=shared, **kw)
        ref = board_fifo(*args, loads_fresh, trip, board, alight, ready, **kw)
        for name in ("delay_min", "first_wait_min", "gave_up", "stranded", "legs_trip", "legs_board"):
            np.testing.assert_array_equal(getattr(got, name), getattr(ref, name))
        assert got.gave_up.any() or (got.delay_min > 0).any()  # capacity binds
    np.testing.assert_array_equal(loads_shared.onboard, loads_fresh.onboard)
    np.testing.assert_array_equal(loads_shared.left_behind, loads_fresh.left_behind)


def _chained_riders(
    rng: np.random.Generator, n: int, max_legs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Riders of 1 to ``max_legs`` legs along the line, changing onto a later run at each change;
    ready up to one headway before the planned run (tenths of a minute: ties happen)."""
    trip = np.full((n, max_legs), -1, dtype=np.int64)
    board, alight = trip.copy(), trip.copy()
    ready = np.zeros(n)
    for i in range(n):
        stops = np.sort(rng.choice(STOPS, int(rng.integers(2, max_legs + 2)), replace=False))
        run = int(rng.integers(0, RUNS - 1))
        ready[i] = FIRST + HEADWAY * run + HOP * stops[0] - np.round(rng.random() * HEADWAY, 1)
        for leg in range(len(stops) - 1):
            if run >= RUNS:
                break
            trip[i, leg], board[i, leg], alight[i, leg] = (
                run,
                run * STOPS + stops[leg],
                run * STOPS + stops[leg + 1],
            )
            run += int(rng.integers(1, 3))
    return trip, board, alight, ready


def assert_same_boardings(
    fast: list[Boarding], slow: list[Boarding], fast_loads: VehicleLoads, slow_loads: VehicleLoads
) -> list[Boarding]:
    """Assert two boardings of the same batches equal byte for byte (every field of every batch, and
    the vehicle loads); the first's batches, for counting what happened in them."""
    for a, b in zip(fast, slow, strict=True):
        for name in Boarding.__dataclass_fields__:
            x, y = getattr(a, name), getattr(b, name)
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    for name in ("onboard", "left_behind", "extra_wait_min"):
        assert getattr(fast_loads, name).tobytes() == getattr(slow_loads, name).tobytes(), name
    return fast


def _board_both(
    monkeypatch: pytest.MonkeyPatch, capacity_: int, batches: list[tuple[np.ndarray, ...]], weight: float
) -> list[tuple[list[Boarding], VehicleLoads]]:
    """The batches boarded one after the other (sharing the day's loads), by the compiled loop and
    by the Python loop."""
    tt, running = _line(capacity_), np.ones(RUNS, dtype=bool)
    results = []
    for compiled in (capacity._compiled, None):
        monkeypatch.setattr(capacity, "_compiled", compiled)
        loads = VehicleLoads.empty(tt)
        got = [board_fifo(tt, running, loads, *b, weight=weight, max_wait_min=MAX_WAIT) for b in batches]
        results.append((got, loads))
    return results


def test_the_compiled_boarding_events_give_the_python_loops_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sim/transit/_capacity.pyx`` (built at install where a C compiler is present) and the Python
    loop: the same riders' outcomes and vehicle loads byte for byte, over capacities 1-5, riders of up
    to three legs, give-ups and strandings, batches meeting the loads of earlier ones."""
    if capacity._compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.transit._capacity was not built"
        pytest.skip("installed without a C compiler: only the Python loop exists")
    rng = np.random.default_rng(17)
    seen = {"gave_up": 0, "stranded": 0, "delayed": 0}
    for trial in range(66):
        cap = int(rng.integers(1, 6)) if trial < 60 else 1000  # the last ones fit: nobody moves
        weight = 1.0 if trial % 3 else 0.7
        batches = []
        for _ in range(int(rng.integers(1, 4))):
            trip, board, alight, ready = _chained_riders(rng, int(rng.integers(1, 90)), 3)
            dtype = np.int32 if trial % 2 else np.int64  # the loop's int64 copies written back
            batches.append((trip.astype(dtype), board.astype(dtype), alight.astype(dtype), ready))
        (fast, fast_loads), (slow, slow_loads) = _board_both(monkeypatch, cap, batches, weight)
        for a in assert_same_boardings(fast, slow, fast_loads, slow_loads):
            seen["gave_up"] += int(a.gave_up.sum())
            seen["stranded"] += int(a.stranded.sum())
            seen["delayed"] += int((a.delay_min > 0).sum())
    assert min(seen.values()) > 0, seen  # every way out of the loop was taken


def test_the_compiled_checks_and_lookups_give_the_python_versions_results() -> None:
    """The fits-already check (loads added only when everyone fits) and the candidate runs' lookup
    (spans, legs of pairs not met yet counted, a boarding serving no run refused): compiled and
    Python versions byte for byte."""
    if capacity._compiled is None:
        pytest.skip("installed without a C compiler: only the Python versions exist")
    from sim.transit.capacity import _Candidates

    rng = np.random.default_rng(3)
    tt, running = _line(2), np.ones(RUNS, dtype=bool)
    outcomes = set()
    for trial in range(40):
        trip, board, alight, _ = _chained_riders(rng, int(rng.integers(1, 40)), 3)
        legs = (trip, board, alight)
        room = rng.integers(0, 30, len(tt.st_stop)).astype(float) + 1e-9
        onboard = np.round(rng.random(len(tt.st_stop)) * 5, 1) if trial % 2 else np.zeros(len(tt.st_stop))
        weight = 1.0 if trial % 3 else 0.7
        fast_on, slow_on = onboard.copy(), onboard.copy()
        fits = capacity._compiled.add_if_fits(fast_on, room, legs, weight)
        assert fits == capacity._add_if_fits(slow_on, room, legs, weight)
        assert fast_on.tobytes() == slow_on.tobytes()
        outcomes.add(("fits", bool(fits)))
        known = _Candidates(tt, running)
        if trial % 4:  # some pairs met already, the rest not
            used = trip >= 0
            code = capacity._pair_code(known.st_stop, tt.n_stops, board[used], alight[used])
            known._add(np.unique(code[: max(1, len(code) // (trial % 4))]))
        results = []
        for lookup in (capacity._compiled.lookup_spans, capacity._lookup_spans):
            spans = tuple(np.full(trip.shape, -1, dtype=np.int64) for _ in range(3))
            missing = lookup(known._tables(), known.st_stop, tt.n_stops, legs, spans)
            results.append((missing, [x.tobytes() for x in spans] if missing == 0 else None))
        assert results[0] == results[1]
        outcomes.add(("missing", results[0][0] > 0))
        used = trip >= 0
        if used.any():  # a leg's planned run not running that day: its pair known, no run there
            off = running.copy()
            off[trip[used][0]] = False
            cands = _Candidates(tt, off)
            cands._add(np.unique(capacity._pair_code(cands.st_stop, tt.n_stops, board[used], alight[used])))
            for lookup in (capacity._compiled.lookup_spans, capacity._lookup_spans):
                spans = tuple(np.full(trip.shape, -1, dtype=np.int64) for _ in range(3))
                with pytest.raises(KeyError):
                    lookup(cands._tables(), cands.st_stop, tt.n_stops, legs, spans)
    assert outcomes == {("fits", True), ("fits", False), ("missing", True), ("missing", False)}


def _overlay(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


TINY_BUSES = Path(__file__).resolve().parents[2] / "scenarios" / "tiny" / "buses.yaml"


def test_a_capacity_never_reached_changes_no_table(tmp_path: Path) -> None:
    from sim.cli import main
    from sim.results.result import TABLES

    _, off = run_scenario(TINY_BUSES, days=20, seed=3)
    on_file = _overlay(tmp_path, "on", "transit:\n  capacity: {max_wait_min: 60}\n")
    _, on = run_scenario(TINY_BUSES, overlays=[on_file], days=20, seed=3)
    assert len(on.line_loads) and (on.line_loads["peak_load"] > 0).any()  # buses ran and carried riders
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(off, name), getattr(on, name))
    argv = ["run", str(TINY_BUSES), "--days", "20", "--seed", "3", "--quiet", "--out"]
    assert main([*argv, str(tmp_path / "off")]) == 0
    assert main([*argv, str(tmp_path / "on_run"), "--overlay", str(on_file)]) == 0
    tables = sorted((tmp_path / "off").glob("*.parquet"))
    assert {t.stem for t in tables} >= {"line_loads", "trips", "errands"}
    for table in tables:  # the files too, byte for byte
        assert table.read_bytes() == (tmp_path / "on_run" / table.name).read_bytes(), table.name


def test_full_vehicles_move_riders_and_keep_every_minute(tmp_path: Path) -> None:
    low = _overlay(
        tmp_path,
        "low",
        "transit:\n  capacity: {max_wait_min: 60}\n  lines:\n    b1: {capacity: 1}\n    f1: {capacity: 2}\n",
    )
    _, run = run_scenario(TINY_BUSES, overlays=[low], days=28, seed=3)
    loads = run.line_loads
    assert loads["left_behind"].sum() > 0 and loads["extra_wait_min"].sum() > 0
    assert (loads["peak_load"] <= loads["capacity"]).all()  # nobody rides beyond capacity
    trips, errands = run.trips, run.errands
    # burden identity: each errand's burden is the sum of its trips' there + wait + home (measured trips)
    per = (trips["travel_min"] + trips["wait_min"] + trips["return_min"]).groupby(trips["errand"]).sum()
    late = errands.set_index("errand").loc[per.index]
    whole = late["trips"].to_numpy() == trips.groupby("errand").size().reindex(per.index).to_numpy()
    np.testing.assert_allclose(late["burden_min"].to_numpy()[whole], per.to_numpy()[whole])


PINGTAN = Path(__file__).resolve().parents[2] / "scenarios" / "pingtan"


def test_riders_with_no_road_alternative_never_get_infinite_times() -> None:
    """Pingtan's health tiers fill the buses; islanders refused at the first stop who own no road
    mode that reaches the facility pay the no-way fallback both ways, never an infinite time."""
    overlays = [PINGTAN / "merged_2021_buses.yaml", PINGTAN / "elderly.yaml", PINGTAN / "capacity.yaml"]
    _, run = run_scenario(PINGTAN / "merged_2021_health.yaml", overlays=overlays, days=3, seed=2021)
    assert (run.line_loads["left_behind"] > 0).any()  # vehicles did fill
    for name in ("trips", "errands"):
        values = getattr(run, name).select_dtypes("number").to_numpy(float)
        assert np.isfinite(values).all(), name
    assert run.checked_summary().burden_min.mean is not None
