"""Vehicle capacity enforced: riders who do not fit wait at the stop for the next run that serves them.

A day's bus riders are placed in the vehicles in two batches (journeys there, then journeys home,
which therefore find the vehicles already holding the riders going out). Within a batch the
boarding events are taken in time order: a rider waiting at a stop boards a run that serves
their leg's destination (any line) if every segment they would ride has room for them (``weight``
places: the persons a sampled rider stands for); riders ready earlier board first (FIFO). A rider
refused is left behind on that run and waits for the next one; once the wait at the first stop
would exceed ``max_wait_min`` the rider gives up (and takes another mode, decided by the caller);
at a change, riders wait for the next run however long, and a rider with no later run that day
is stranded. A later leg starts as planned after the previous leg's actual arrival (the planned
gap of walking and changing is kept).

When no segment of any run would exceed its capacity, nobody is moved (the fast path, the same
numbers as without the rule). :func:`board_fifo` is the engine; its fits-already check, lookup of
the candidate runs and event loop are compiled with Cython as an optional extension
(``sim/transit/_capacity.pyx``, built at install where a C compiler is present; the Python versions
:func:`_add_if_fits`, :func:`_lookup_spans` and :func:`_board_events` otherwise, the same floats).
Tests check the engine against a brute-force event simulation of one line, and the two versions
against each other.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, fields

import numpy as np

from sim.compiled import optional_extension
from sim.transit.plan import BusLeg
from sim.transit.tables import BusTables
from sim.transit.timetable import Timetable

__all__ = ["Boarding", "CapacityDay", "VehicleLoads", "board_fifo", "take_leg"]

_EPS = 1e-9

_compiled = optional_extension("sim.transit._capacity")  # None without a C compiler (sim/compiled.py)


@dataclass
class VehicleLoads:
    """Persons on board per stop-time segment (leaving each stop-time of each run) on one day.

    Attributes:
        onboard: (stop-times,) persons on board when the run leaves that stop-time.
        left_behind: (trips,) persons refused by each run for lack of room.
        extra_wait_min: (trips,) person-minutes those refused waited longer than planned, per run refused on.
    """

    onboard: np.ndarray
    left_behind: np.ndarray
    extra_wait_min: np.ndarray

    @classmethod
    def empty(cls, tt: Timetable) -> VehicleLoads:
        """No one on board: zero loads for every stop time and trip of ``tt``."""
        return cls(np.zeros(len(tt.st_stop)), np.zeros(tt.n_trips), np.zeros(tt.n_trips))


@dataclass(frozen=True)
class Boarding:
    """What capacity did to each rider of a batch (one row per rider).

    Attributes:
        delay_min: minutes the rider reaches the end of the bus part later than planned.
        first_wait_min: extra minutes waited at the first stop (part of ``delay_min``).
        gave_up: the wait at the first stop would exceed the limit (the rider takes another mode;
            ``first_wait_min`` is the time spent waiting before giving up).
        stranded: refused at a change with no later run that day.
        legs_trip, legs_board, legs_alight: (riders, legs) the runs actually taken (-1 padded).
    """

    delay_min: np.ndarray
    first_wait_min: np.ndarray
    gave_up: np.ndarray
    stranded: np.ndarray
    legs_trip: np.ndarray
    legs_board: np.ndarray
    legs_alight: np.ndarray


def _segments_load(n_st: int, board: np.ndarray, alight: np.ndarray, weight: float) -> np.ndarray:
    """(n_st,) persons added on each stop-time's segment by legs boarding at ``board`` and leaving
    at ``alight``."""
    diff = np.zeros(n_st + 1)
    np.add.at(diff, board, weight)
    np.add.at(diff, alight, -weight)
    return np.cumsum(diff[:-1])


def _add_if_fits(
    onboard: np.ndarray,
    room: np.ndarray,
    legs: tuple[np.ndarray, np.ndarray, np.ndarray],
    weight: float,
) -> bool:
    """Whether every planned leg fits (each segment's ``onboard`` plus the batch's load at most
    ``room``, persons); if so the load is added to ``onboard`` in place (the Python version;
    ``sim.transit._capacity.add_if_fits`` takes the same arguments and gives the same floats).

    Args:
        onboard: (stop-times,) persons on board so far.
        room: (stop-times,) places of the run leaving each stop-time, plus the tolerance.
        legs: (riders, legs) planned runs, boarding and alighting stop-times (int64, -1 padded).
        weight: places one rider takes.
    """
    trip, board, alight = legs
    used = trip >= 0
    planned = _segments_load(len(onboard), board[used], alight[used], weight)
    if used.any() and not np.all(onboard + planned <= room):
        return False
    onboard += planned
    return True


def _find(table: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each value is in ``table`` (ascending, then a -1 matching no value) and whether it is there."""
    at = np.searchsorted(table[:-1], values)
    return at, table[at] == values


def _pair_code(st_stop: np.ndarray, n_stops: int, board: np.ndarray, alight: np.ndarray) -> np.ndarray:
    """Stop pair of legs boarding at stop-times ``board`` and alighting at ``alight``: stop A *
    stops + stop B."""
    return st_stop[board] * n_stops + st_stop[alight]


def _lookup_spans(
    tables: tuple[np.ndarray, ...],
    st_stop: np.ndarray,
    n_stops: int,
    legs: tuple[np.ndarray, np.ndarray, np.ndarray],
    spans: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> int:
    """Write each used leg's ``lo``, ``hi`` and ``plan`` (see :meth:`_Candidates.spans`) unless some
    stop pair is not in the tables yet: the number of legs of such pairs (the Python version;
    ``sim.transit._capacity.lookup_spans`` takes the same arguments and gives the same results).

    Args:
        tables: a :class:`_Candidates`' sorted codes (then -1); runs' keys (boarding stop-time *
            stops + stop B) sorted (then -1) and the runs in that order; where each boarding
            stop-time's keys begin (used by the compiled search); each run's pair; pairs' starts.
        legs: (riders, legs) runs, boarding and alighting stop-times (int64, -1 padded).
        spans: (riders, legs) ``lo``, ``hi``, ``plan`` written in place (int64).

    Raises:
        KeyError: a planned boarding stop-time is not a run serving its leg on these days.
    """
    codes, keys, key_order, _, run_pair, start = tables
    trip, board, alight = legs
    used = trip >= 0
    on, stop_b = board[used], st_stop[alight[used]]
    at, known = _find(keys, on * n_stops + stop_b)
    if not known.all():
        new = ~_find(codes, st_stop[on[~known]] * n_stops + stop_b[~known])[1]
        if not new.any():
            raise KeyError("a planned leg boards at a stop-time that serves no run of its stop pair")
        return int(np.count_nonzero(new))
    row = key_order[at]
    pair = run_pair[row]
    lo, hi, plan = spans
    lo[used], hi[used], plan[used] = start[pair], start[pair + 1], row
    return 0


class _Candidates:
    """Runs serving legs from stop A to stop B on days running ``running``, flat over the stop pairs
    met so far (pairs are added as batches need them).

    Pair p's runs are rows ``start[p]:start[p + 1]`` of ``dep`` (departure minutes at A, ascending),
    ``trip``, ``board`` and ``alight`` (the stop-times of boarding at A and alighting at B).
    """

    def __init__(self, tt: Timetable, running: np.ndarray) -> None:
        self.tt = tt
        self.st_trip = tt.st_trip
        self.st_stop = np.ascontiguousarray(tt.st_stop, dtype=np.int64)
        self.running = running
        self.cap = tt.line_capacity[tt.trip_line].astype(float)  # (trips,) places per run
        self.room = self.cap[self.st_trip] + _EPS  # (stop-times,) places leaving each, plus the tolerance
        self.codes = np.zeros(0, dtype=np.int64)  # per pair: stop A * stops + stop B
        self.start = np.zeros(1, dtype=np.int64)
        self.dep = np.zeros(0)
        self.trip, self.board, self.alight = (np.zeros(0, dtype=np.int64) for _ in range(3))
        self._codes = np.full(1, -1, dtype=np.int64)  # the codes ascending, then -1 (matches nothing)
        self._key_order = np.zeros(0, dtype=np.int64)  # runs by (boarding stop-time, stop B)
        self._keys = np.full(1, -1, dtype=np.int64)  # those keys (stop-time * stops + B) ascending, then -1
        self._st_keys = np.zeros(len(self.st_stop) + 1, dtype=np.int64)  # each boarding stop-time's keys
        self._run_pair = np.zeros(0, dtype=np.int64)  # (runs,) the pair of each

    def _runs(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Departure (min), trip, boarding and alighting stop-times of the runs from a to b, by departure."""
        tt = self.tt
        boards = np.flatnonzero((tt.st_stop == a) & tt.st_pickup & self.running[self.st_trip])
        stops_b = np.flatnonzero((tt.st_stop == b) & tt.st_dropoff)
        # the first stop-time at b after each boarding one: a run if on its trip (trips are contiguous)
        after = np.searchsorted(stops_b, boards, side="right")
        alights = np.append(stops_b, -1)[after]
        trips = self.st_trip[boards]
        run = (alights >= 0) & (self.st_trip[alights] == trips)
        boards, alights, trips = boards[run], alights[run], trips[run]
        dep = np.asarray(tt.st_dep[boards], dtype=float)
        order = np.argsort(dep, kind="stable")
        as_int = [np.asarray(x, dtype=np.int64)[order] for x in (trips, boards, alights)]
        return dep[order], as_int[0], as_int[1], as_int[2]

    def _add(self, codes: np.ndarray) -> None:
        """Append the runs of the new stop pairs ``codes`` and re-sort the lookups."""
        n_stops, n_st = self.tt.n_stops, len(self.st_stop)
        runs = [self._runs(*divmod(code, n_stops)) for code in codes.tolist()]
        lengths = np.array([len(r[0]) for r in runs], dtype=np.int64)
        self.start = np.concatenate([self.start, self.start[-1] + np.cumsum(lengths)])
        self.dep, self.trip, self.board, self.alight = (
            np.concatenate([old, *(r[i] for r in runs)])
            for i, old in enumerate((self.dep, self.trip, self.board, self.alight))
        )
        self.codes = np.concatenate([self.codes, codes])
        self._codes = np.append(np.sort(self.codes), -1)
        self._run_pair = np.repeat(np.arange(len(self.codes)), np.diff(self.start))
        keys = self.board * n_stops + self.st_stop[self.alight]
        self._key_order = np.argsort(keys, kind="stable")
        self._keys = np.append(keys[self._key_order], -1)
        self._st_keys = np.searchsorted(self._keys[:-1], np.arange(n_st + 1) * n_stops)

    def spans(
        self, legs: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(riders, legs) for each used leg of ``legs`` (runs, boarding and alighting stop-times,
        int64, -1 padded): its stop pair's runs are rows ``lo:hi``, the planned one (boarding at the
        planned stop-time) row ``plan``; -1 where unused.

        Raises:
            KeyError: a planned boarding stop-time is not a run serving its leg on these days.
        """
        tt = self.tt
        lookup = _lookup_spans if _compiled is None else _compiled.lookup_spans
        lo, hi, plan = np.full((3, *legs[0].shape), -1, dtype=np.int64)
        spans = (lo, hi, plan)
        if lookup(self._tables(), self.st_stop, tt.n_stops, legs, spans):
            trip, board, alight = legs
            used = trip >= 0
            code = _pair_code(self.st_stop, tt.n_stops, board[used], alight[used])
            self._add(np.unique(code[~_find(self._codes, code)[1]]))
            lookup(self._tables(), self.st_stop, tt.n_stops, legs, spans)
        return spans

    def _tables(self) -> tuple[np.ndarray, ...]:
        """The lookups of :func:`_lookup_spans`."""
        return self._codes, self._keys, self._key_order, self._st_keys, self._run_pair, self.start


def _board_events(
    lo: np.ndarray,
    hi: np.ndarray,
    plan: np.ndarray,
    ready_min: np.ndarray,
    plan_dep: np.ndarray,
    plan_arr: np.ndarray,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    st_arr: np.ndarray,
    cap: np.ndarray,
    loads: tuple[np.ndarray, np.ndarray, np.ndarray],
    out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    weight: float,
    max_wait_min: float,
) -> None:
    """The FIFO boarding events of :func:`board_fifo`, writing ``loads`` and ``out`` in place (the
    Python loop; ``sim.transit._capacity.board_events`` takes the same arguments and gives the same
    results where it was built).

    Args:
        lo, hi, plan: (riders, legs) runs serving each leg (rows ``lo:hi`` of ``runs``) and the
            planned one (-1 where unused), from :meth:`_Candidates.spans`.
        plan_dep, plan_arr: (riders, legs) planned boarding departure and alighting arrival (min).
        runs: candidate runs' departure (min), trip, boarding and alighting stop-times.
        st_arr: (stop-times,) arrival minutes; ``cap``: (trips,) places per run.
        loads: onboard (stop-times,), left_behind and extra_wait_min (trips,) of :class:`VehicleLoads`.
        out: delay, first wait, gave up, stranded, legs trip, board, alight of :class:`Boarding`.
    """
    dep, trip, board, alight = runs
    onboard, left_behind, extra_wait_min = loads
    delay, first_wait, gave_up, stranded, legs_trip, legs_board, legs_alight = out
    n, n_legs = plan.shape
    heap: list[tuple[float, float, int, int, int]] = []  # (departure, ready, row, leg, run)
    seeded = 0
    while True:  # each pass offers one rider a run: first the planned runs, then the events
        if seeded < n:  # the planned run first, row by row
            row, leg, j, refused = seeded, 0, plan[seeded, 0], -1
            seeded += 1
            if j < 0:
                continue
            ready, now = ready_min[row], plan_dep[row, 0]
        elif heap:
            dep_t, ready, row, leg, j = heapq.heappop(heap)
            t, st_b, st_a = trip[j], board[j], alight[j]
            if onboard[st_b:st_a].max() + weight > cap[t] + _EPS:  # no room on a segment: left behind
                left_behind[t] += weight
                j, now, refused = j + 1, dep_t, t
            else:
                onboard[st_b:st_a] += weight
                legs_trip[row, leg], legs_board[row, leg], legs_alight[row, leg] = t, st_b, st_a
                actual_arr = st_arr[st_a]
                if leg == 0:
                    first_wait[row] = dep_t - plan_dep[row, 0]
                delay[row] = actual_arr - plan_arr[row, leg]
                leg += 1
                if leg == n_legs or plan[row, leg] < 0:
                    continue
                gap = plan_dep[row, leg] - plan_arr[row, leg - 1]
                ready = now = actual_arr + gap
                refused = -1
                j = plan[row, leg]  # on time: the planned connection; late: the first run after the gap
                if actual_arr != plan_arr[row, leg - 1]:
                    j = lo[row, leg] + np.searchsorted(
                        dep[lo[row, leg] : hi[row, leg]], actual_arr + gap - _EPS
                    )
        else:
            return
        if j >= hi[row, leg] or (leg == 0 and dep[j] - plan_dep[row, 0] > max_wait_min + _EPS):
            if leg == 0:
                gave_up[row] = True
                first_wait[row] = now - plan_dep[row, 0]  # waited until told the bus was full
            else:
                stranded[row] = True
            legs_trip[row, leg:] = legs_board[row, leg:] = legs_alight[row, leg:] = -1
            continue
        heapq.heappush(heap, (dep[j], ready, row, leg, j))
        if refused >= 0:
            extra_wait_min[refused] += weight * (dep[j] - now)


def board_fifo(
    tt: Timetable,
    running: np.ndarray,
    loads: VehicleLoads,
    legs_trip: np.ndarray,
    legs_board: np.ndarray,
    legs_alight: np.ndarray,
    ready_min: np.ndarray,
    *,
    weight: float,
    max_wait_min: float,
    candidates: _Candidates | None = None,
) -> Boarding:
    """Place a batch of riders in today's vehicles, updating ``loads`` in place.

    Args:
        tt: the timetable.
        running: (trips,) bool, runs of the day.
        loads: the day's loads so far (earlier batches).
        legs_trip, legs_board, legs_alight: (riders, legs) planned runs and stop-times (-1 padded;
            a rider without legs is left as planned).
        ready_min: time each rider is at the first stop (FIFO order; ties by row).
        weight: places one rider takes (persons it stands for).
        max_wait_min: longest extra wait at the first stop before giving up.
        candidates: the runs serving each stop pair on days running ``running`` (built if None;
            pass the same one to every batch of a day pattern to reuse it).

    Returns:
        per rider: delay, extra first-stop wait, gave up, stranded, and the legs actually ridden.
    """
    n = len(legs_trip)
    candidates = _Candidates(tt, running) if candidates is None else candidates
    given = (legs_trip, legs_board, legs_alight)
    trip, board, alight = (np.array(x, dtype=np.int64) for x in given)  # the loops' types (copies)
    legs = (trip, board, alight)
    delay, first_wait, gave_up, stranded = np.zeros(n), np.zeros(n), np.zeros(n, bool), np.zeros(n, bool)
    kept = (loads.onboard, loads.left_behind, loads.extra_wait_min)
    onboard, left, extra = (np.ascontiguousarray(x, dtype=float) for x in kept)  # (copied back below)
    fits = _add_if_fits if _compiled is None else _compiled.add_if_fits
    if not fits(onboard, candidates.room, legs, float(weight)):  # someone does not fit: riders move
        lo, hi, plan = candidates.spans(legs)
        events = _board_events if _compiled is None else _compiled.board_events
        events(
            lo,
            hi,
            plan,
            np.ascontiguousarray(ready_min, dtype=float),
            np.ascontiguousarray(tt.st_dep.take(board), dtype=float),
            np.ascontiguousarray(tt.st_arr.take(alight), dtype=float),
            (candidates.dep, candidates.trip, candidates.board, candidates.alight),
            np.ascontiguousarray(tt.st_arr, dtype=float),
            candidates.cap,
            (onboard, left, extra),
            (delay, first_wait, gave_up, stranded, trip, board, alight),
            float(weight),
            float(max_wait_min),
        )
    for got, into in zip((onboard, left, extra), kept, strict=True):
        if got is not into:
            into[...] = got
    ridden = (got.astype(x.dtype, copy=False) for got, x in zip(legs, given, strict=True))  # the given types
    return Boarding(delay, first_wait, gave_up, stranded, *ridden)


_LEG_FIELDS = tuple(f.name for f in fields(BusLeg))


def take_leg(leg: BusLeg, rows: np.ndarray) -> BusLeg:
    """Rows ``rows`` (index or mask) of a :class:`BusLeg`."""
    rows = np.asarray(rows)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    return BusLeg(**{name: getattr(leg, name).take(rows, axis=0) for name in _LEG_FIELDS})


def _any_in_row(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=1)`` of a (rows, columns) bool array (4 or 8 columns: each row read as one number)."""
    if mask.flags.c_contiguous and mask.shape[1] in (4, 8) and mask.dtype == bool:
        return np.not_equal(mask.view(np.uint32 if mask.shape[1] == 4 else np.uint64).reshape(-1), 0)
    return np.asarray(mask.any(axis=1))


class CapacityDay:
    """Capacity enforced in the model's day: loads of the day's runs, journeys moved, loads per run kept.

    Args:
        bus: the model's bus tables (their timetable; new line combinations are added to ``labels``).
        max_wait_min: longest extra wait at the first stop before a rider takes another mode.
        weight: places one simulated rider takes (1 / sample fraction).
    """

    def __init__(self, bus: BusTables, *, max_wait_min: float, weight: float) -> None:
        self.bus = bus
        self.tt = bus.timetable
        self.max_wait_min = max_wait_min
        self.weight = weight
        self._day: int | None = None
        self.loads = VehicleLoads.empty(self.tt)
        self.log: dict[int, VehicleLoads] = {}  # measured day -> the day's loads
        self._label_code = {text: i for i, text in enumerate(bus.labels)}
        self._key_code: dict[int, int] = {}  # row of lines ridden (see _labels) -> label code
        self._candidates: dict[int, _Candidates] = {}  # day pattern -> runs serving each stop pair

    def _loads(self, day: int) -> VehicleLoads:
        if self._day != day:
            self._day = day
            self.loads = VehicleLoads.empty(self.tt)
            if day >= 0:
                self.log[day] = self.loads
        return self.loads

    def board(self, day: int, pattern: int, leg: BusLeg, ready_min: np.ndarray) -> tuple[BusLeg, Boarding]:
        """Place one batch (journeys there, or home) in today's runs; the legs as actually ridden.

        Riders who were delayed arrive later (waits at the first stop and at changes grow); fares
        and km follow the runs ridden. Riders who gave up or were stranded are returned flagged; the
        caller decides their way (their legs are cut where they left the bus).
        """
        tt = self.tt
        running = self.bus.patterns[pattern] if len(self.bus.patterns) else np.zeros(tt.n_trips, bool)
        if pattern not in self._candidates:
            self._candidates[pattern] = _Candidates(tt, running)
        got = board_fifo(
            tt,
            running,
            self._loads(day),
            leg.legs_trip,
            leg.legs_board,
            leg.legs_alight,
            ready_min,
            weight=self.weight,
            max_wait_min=self.max_wait_min,
            candidates=self._candidates[pattern],
        )
        moved = np.flatnonzero(_any_in_row(got.legs_trip != leg.legs_trip) & ~got.gave_up & ~got.stranded)
        if len(moved) == 0:
            return leg, got
        trip, board, alight = got.legs_trip[moved], got.legs_board[moved], got.legs_alight[moved]
        ok = trip >= 0
        line = tt.trip_line[np.where(ok, trip, 0)]
        fare = np.where(ok, tt.line_fare[line], 0.0).sum(axis=1)
        ride = tt.st_km[np.where(ok, alight, 0)] - tt.st_km[np.where(ok, board, 0)]
        km = np.where(ok, ride, 0.0).sum(axis=1)
        out = {name: getattr(leg, name).copy() for name in _LEG_FIELDS}
        delay, first = got.delay_min[moved], got.first_wait_min[moved]
        out["arr_min"][moved] += delay
        out["travel_min"][moved] += delay
        out["stop_wait_min"][moved] += first
        out["transfer_wait_min"][moved] += delay - first
        out["fare_yuan"][moved] = fare
        out["km"][moved] = km + (leg.km[moved] - self._ride_km(leg, moved))  # walks unchanged
        out["label"][moved] = self._labels(np.where(ok, line, -1))
        out["legs_trip"][moved], out["legs_board"][moved], out["legs_alight"][moved] = trip, board, alight
        return BusLeg(**out), got

    def _ride_km(self, leg: BusLeg, rows: np.ndarray) -> np.ndarray:
        ok = leg.legs_trip[rows] >= 0
        board, alight = np.where(ok, leg.legs_board[rows], 0), np.where(ok, leg.legs_alight[rows], 0)
        return np.where(ok, self.tt.st_km[alight] - self.tt.st_km[board], 0.0).sum(axis=1)

    def _labels(self, lines: np.ndarray) -> np.ndarray:
        """Label code of each row of (riders, legs) lines ridden (-1 padded); new labels are added
        in the order their first rider comes."""
        n_lines = len(self.tt.line_ids)
        key = np.zeros(len(lines), dtype=np.int64)  # one number per distinct row
        known: dict[int, int]  # key -> label code
        digits = (n_lines + 1) ** lines.shape[1] < 2**62
        if digits:  # the row's digits in base lines + 1: the same key in later batches
            for column in lines.T:
                key = key * (n_lines + 1) + column + 1
            known = self._key_code
        else:  # renumbered column by column to stay small: this batch's numbers
            for column in lines.T:
                key = np.unique(key * (n_lines + 1) + column + 1, return_inverse=True)[1].reshape(-1)
            known = {}
        distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        got = [known.get(k) for k in distinct.tolist()]
        if None in got:  # rows not met yet, in the order their first rider comes
            for c in np.argsort(first).tolist():
                if got[c] is not None:
                    continue
                text = ">".join(self.tt.line_ids[x] for x in lines[first[c]].tolist() if x >= 0)
                code = self._label_code.get(text)
                if code is None:
                    code = len(self.bus.labels)
                    self.bus.labels.append(text)
                    self._label_code[text] = code
                known[int(distinct[c])] = got[c] = code
        codes = np.array(got, dtype=np.int64)
        return codes[inverse.reshape(-1)]


def fastest_road_mode(
    time_min: np.ndarray, owns: np.ndarray, village: np.ndarray, fac: np.ndarray, bus_mode: int
) -> np.ndarray:
    """Fastest mode other than the bus each rider has (walk at least), to their facility.

    Args:
        time_min: (modes, villages, facilities) one-way minutes.
        owns: (modes, riders) bool, the riders' modes.
        village, fac: per rider.
        bus_mode: index of the bus mode (never chosen).
    """
    t = time_min[:, village, fac]  # (modes, riders)
    allowed = owns.copy()
    allowed[bus_mode] = False
    return np.argmin(np.where(allowed, t, np.inf), axis=0)
