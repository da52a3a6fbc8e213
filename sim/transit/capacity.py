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
numbers as without the rule). :func:`board_fifo` is the engine; its event loop is compiled with
Cython as an optional extension (``sim/transit/_capacity.pyx``, built at install where a C compiler
is present; the Python loop :func:`_board_events` otherwise, the same floats). Tests check the
engine against a brute-force event simulation of one line, and the two loops against each other.
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


def _segments_load(tt: Timetable, board: np.ndarray, alight: np.ndarray, weight: float) -> np.ndarray:
    """(stop-times,) persons added on each segment by legs boarding at ``board`` and leaving at ``alight``."""
    diff = np.zeros(len(tt.st_stop) + 1)
    np.add.at(diff, board, weight)
    np.add.at(diff, alight, -weight)
    return np.cumsum(diff[:-1])


def _find(table: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each value is in ``table`` (ascending, then a -1 matching no value) and whether it is there."""
    at = np.searchsorted(table[:-1], values)
    return at, table[at] == values


class _Candidates:
    """Runs serving legs from stop A to stop B on days running ``running``, flat over the stop pairs
    met so far (pairs are added as batches need them).

    Pair p's runs are rows ``start[p]:start[p + 1]`` of ``dep`` (departure minutes at A, ascending),
    ``trip``, ``board`` and ``alight`` (the stop-times of boarding at A and alighting at B).
    """

    def __init__(self, tt: Timetable, running: np.ndarray) -> None:
        self.tt = tt
        self.st_trip = np.repeat(np.arange(tt.n_trips), np.diff(tt.trip_start))
        self.running = running
        self.codes = np.zeros(0, dtype=np.int64)  # per pair: stop A * stops + stop B
        self.start = np.zeros(1, dtype=np.int64)
        self.dep = np.zeros(0)
        self.trip, self.board, self.alight = (np.zeros(0, dtype=np.int64) for _ in range(3))
        self._code_order = np.zeros(0, dtype=np.int64)  # pairs by code
        self._codes = np.full(1, -1, dtype=np.int64)  # the codes ascending, then -1 (matches nothing)
        self._key_order = np.zeros(0, dtype=np.int64)  # runs by (pair, boarding stop-time)
        self._keys = np.full(1, -1, dtype=np.int64)  # those keys ascending, then -1

    def _runs(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Departure (min), trip, boarding and alighting stop-times of the runs from a to b, by departure."""
        tt = self.tt
        deps, trips, boards, alights = [], [], [], []
        for st in np.flatnonzero((tt.st_stop == a) & tt.st_pickup & self.running[self.st_trip]).tolist():
            trip = int(self.st_trip[st])
            end = int(tt.trip_start[trip + 1])
            later = np.flatnonzero((tt.st_stop[st + 1 : end] == b) & tt.st_dropoff[st + 1 : end])
            if len(later):
                deps.append(tt.st_dep[st])
                trips.append(trip)
                boards.append(st)
                alights.append(st + 1 + int(later[0]))
        dep = np.asarray(deps, dtype=float)
        order = np.argsort(dep, kind="stable")
        as_int = [np.asarray(x, dtype=np.int64)[order] for x in (trips, boards, alights)]
        return dep[order], as_int[0], as_int[1], as_int[2]

    def _add(self, codes: np.ndarray) -> None:
        """Append the runs of the new stop pairs ``codes`` and re-sort the lookups."""
        n_stops, n_st = self.tt.n_stops, len(self.tt.st_stop)
        runs = [self._runs(*divmod(code, n_stops)) for code in codes.tolist()]
        lengths = np.array([len(r[0]) for r in runs], dtype=np.int64)
        self.start = np.concatenate([self.start, self.start[-1] + np.cumsum(lengths)])
        self.dep, self.trip, self.board, self.alight = (
            np.concatenate([old, *(r[i] for r in runs)])
            for i, old in enumerate((self.dep, self.trip, self.board, self.alight))
        )
        self.codes = np.concatenate([self.codes, codes])
        self._code_order = np.argsort(self.codes, kind="stable")
        self._codes = np.append(self.codes[self._code_order], -1)
        keys = np.repeat(np.arange(len(self.codes)), np.diff(self.start)) * n_st + self.board
        self._key_order = np.argsort(keys, kind="stable")
        self._keys = np.append(keys[self._key_order], -1)

    def spans(
        self, legs_board: np.ndarray, legs_alight: np.ndarray, used: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(riders, legs) for each used leg: its stop pair's runs are rows ``lo:hi``, the planned one
        (boarding at the planned stop-time) row ``plan``; -1 where unused.

        Raises:
            KeyError: a planned boarding stop-time is not a run serving its leg on these days.
        """
        tt = self.tt
        board = legs_board[used]
        code = tt.st_stop[board] * tt.n_stops + tt.st_stop[legs_alight[used]]
        at, known = _find(self._codes, code)
        if not known.all():
            self._add(np.unique(code[~known]))
            at = _find(self._codes, code)[0]
        pair = self._code_order[at]
        at, known = _find(self._keys, pair * len(tt.st_stop) + board)
        if not known.all():
            raise KeyError("a planned leg boards at a stop-time that serves no run of its stop pair")
        lo, hi, plan = (np.full(legs_board.shape, -1, dtype=np.int64) for _ in range(3))
        lo[used], hi[used], plan[used] = self.start[pair], self.start[pair + 1], self._key_order[at]
        return lo, hi, plan


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
    cap = tt.line_capacity[tt.trip_line].astype(float)
    st_trip = np.repeat(np.arange(tt.n_trips), np.diff(tt.trip_start))
    used = legs_trip >= 0
    planned = _segments_load(tt, legs_board[used], legs_alight[used], weight)
    out = Boarding(
        delay_min=np.zeros(n),
        first_wait_min=np.zeros(n),
        gave_up=np.zeros(n, dtype=bool),
        stranded=np.zeros(n, dtype=bool),
        legs_trip=legs_trip.copy(),
        legs_board=legs_board.copy(),
        legs_alight=legs_alight.copy(),
    )
    if not used.any() or np.all(loads.onboard + planned <= cap[st_trip] + _EPS):
        loads.onboard += planned  # everyone fits: nobody moves
        return out
    candidates = _Candidates(tt, running) if candidates is None else candidates
    lo, hi, plan = candidates.spans(legs_board, legs_alight, used)
    events = _board_events if _compiled is None else _compiled.board_events
    kept = (
        out.legs_trip,
        out.legs_board,
        out.legs_alight,
        loads.onboard,
        loads.left_behind,
        loads.extra_wait_min,
    )
    trip, board, alight = (np.ascontiguousarray(x, dtype=np.int64) for x in kept[:3])  # the loop's types
    onboard, left, extra = (np.ascontiguousarray(x, dtype=float) for x in kept[3:])  # (copied back below)
    events(
        lo,
        hi,
        plan,
        np.ascontiguousarray(ready_min, dtype=float),
        np.ascontiguousarray(tt.st_dep[legs_board], dtype=float),
        np.ascontiguousarray(tt.st_arr[legs_alight], dtype=float),
        (candidates.dep, candidates.trip, candidates.board, candidates.alight),
        np.ascontiguousarray(tt.st_arr, dtype=float),
        cap,
        (onboard, left, extra),
        (out.delay_min, out.first_wait_min, out.gave_up, out.stranded, trip, board, alight),
        float(weight),
        float(max_wait_min),
    )
    for got, into in zip((trip, board, alight, onboard, left, extra), kept, strict=True):
        if got is not into:
            into[...] = got
    return out


def take_leg(leg: BusLeg, rows: np.ndarray) -> BusLeg:
    """Rows ``rows`` (index or mask) of a :class:`BusLeg`."""
    return BusLeg(**{f.name: getattr(leg, f.name)[rows] for f in fields(BusLeg)})


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
        moved = np.flatnonzero((got.legs_trip != leg.legs_trip).any(axis=1) & ~got.gave_up & ~got.stranded)
        if len(moved) == 0:
            return leg, got
        trip, board, alight = got.legs_trip[moved], got.legs_board[moved], got.legs_alight[moved]
        ok = trip >= 0
        line = tt.trip_line[np.where(ok, trip, 0)]
        fare = np.where(ok, tt.line_fare[line], 0.0).sum(axis=1)
        ride = tt.st_km[np.where(ok, alight, 0)] - tt.st_km[np.where(ok, board, 0)]
        km = np.where(ok, ride, 0.0).sum(axis=1)
        out = {f.name: getattr(leg, f.name).copy() for f in fields(BusLeg)}
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
        key = np.zeros(len(lines), dtype=np.int64)  # one number per distinct row, column by column
        for column in lines.T:
            key = np.unique(key * (len(self.tt.line_ids) + 1) + column + 1, return_inverse=True)[1].reshape(
                -1
            )
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        codes = np.empty(len(first), dtype=np.int64)
        for c in np.argsort(first).tolist():
            text = ">".join(self.tt.line_ids[x] for x in lines[first[c]].tolist() if x >= 0)
            code = self._label_code.get(text)
            if code is None:
                code = len(self.bus.labels)
                self.bus.labels.append(text)
                self._label_code[text] = code
            codes[c] = code
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
