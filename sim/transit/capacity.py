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
numbers as without the rule). :func:`board_fifo` is the engine; tests check it against a
brute-force event simulation of one line.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, fields

import numpy as np

from sim.transit.plan import BusLeg
from sim.transit.tables import BusTables
from sim.transit.timetable import Timetable

__all__ = ["Boarding", "CapacityDay", "VehicleLoads", "board_fifo", "take_leg"]

_EPS = 1e-9


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


@dataclass(frozen=True)
class _Runs:
    """Runs serving one leg (stop A to stop B) on one day, by departure.

    Attributes:
        dep: (runs,) departure minutes at A (for ``searchsorted``); ``dep_list`` the same as floats.
        trip, board, alight: trip index and the stop-times of boarding at A and alighting at B.
        k_of: position of each run by its boarding stop-time.
    """

    dep: np.ndarray
    dep_list: list[float]
    trip: list[int]
    board: list[int]
    alight: list[int]
    k_of: dict[int, int]


class _Candidates:
    """Runs serving a leg from stop A to stop B on one day (cached per stop pair)."""

    def __init__(self, tt: Timetable, running: np.ndarray) -> None:
        self.tt = tt
        self.st_trip = np.repeat(np.arange(tt.n_trips), np.diff(tt.trip_start))
        self.running = running
        self._cache: dict[tuple[int, int], _Runs] = {}

    def of(self, a: int, b: int) -> _Runs:
        hit = self._cache.get((a, b))
        if hit is None:
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
            order = np.argsort(np.asarray(deps, dtype=float), kind="stable").tolist()
            dep = np.asarray(deps, dtype=float)[order]
            board = [boards[i] for i in order]
            hit = _Runs(
                dep,
                dep.tolist(),
                [trips[i] for i in order],
                board,
                [alights[i] for i in order],
                {st: k for k, st in enumerate(board)},
            )
            self._cache[(a, b)] = hit
        return hit

    def of_legs(
        self, legs_board: np.ndarray, legs_alight: np.ndarray, used: np.ndarray
    ) -> tuple[list[_Runs], list[list[int]]]:
        """The runs serving each distinct stop pair of the used legs, and (riders, legs) each leg's
        position in that list (-1 where unused), as nested lists."""
        n_stops = self.tt.n_stops
        pair = self.tt.st_stop[legs_board[used]] * n_stops + self.tt.st_stop[legs_alight[used]]
        pairs, inverse = np.unique(pair, return_inverse=True)
        runs = [self.of(*divmod(x, n_stops)) for x in pairs.tolist()]
        index = np.full(legs_board.shape, -1)
        index[used] = inverse.reshape(-1)
        return runs, index.tolist()


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
    n, n_legs = legs_trip.shape
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
    runs, which = candidates.of_legs(legs_board, legs_alight, used)  # runs[which[row][leg]]
    board_l, alight_l = legs_board.tolist(), legs_alight.tolist()
    st_dep, st_arr, cap_l = tt.st_dep.tolist(), tt.st_arr.tolist(), cap.tolist()
    onboard = loads.onboard.tolist()  # persons per segment, written back at the end
    heap: list[tuple[float, float, int, int, int]] = []  # (departure, ready, row, leg, candidate k)

    def offer(row: int, leg: int, r: _Runs, ready: float, k: int, now: float) -> bool:
        """Queue the rider for candidate run k of ``r``; False if they give up or are stranded instead."""
        dep = r.dep_list
        first = st_dep[board_l[row][0]]
        if k >= len(dep) or (leg == 0 and dep[k] - first > max_wait_min + _EPS):
            if leg == 0:
                out.gave_up[row] = True
                out.first_wait_min[row] = now - first  # waited until told the bus was full
            else:
                out.stranded[row] = True
            for legs in (out.legs_trip, out.legs_board, out.legs_alight):
                legs[row, leg:] = -1
            return False
        heapq.heappush(heap, (dep[k], ready, row, leg, k))
        return True

    for row in np.flatnonzero(used[:, 0]).tolist():  # the planned run first
        st, r = board_l[row][0], runs[which[row][0]]
        offer(row, 0, r, float(ready_min[row]), r.k_of[st], st_dep[st])
    while heap:
        dep_t, ready, row, leg, k = heapq.heappop(heap)
        r = runs[which[row][leg]]
        trip, st_b, st_a = r.trip[k], r.board[k], r.alight[k]
        if max(onboard[st_b:st_a]) + weight > cap_l[trip] + _EPS:  # no room on a segment: left behind
            loads.left_behind[trip] += weight
            if offer(row, leg, r, ready, k + 1, dep_t):
                loads.extra_wait_min[trip] += weight * (r.dep_list[k + 1] - dep_t)
            continue
        for st in range(st_b, st_a):
            onboard[st] += weight
        out.legs_trip[row, leg], out.legs_board[row, leg], out.legs_alight[row, leg] = trip, st_b, st_a
        planned_arr = st_arr[alight_l[row][leg]]
        actual_arr = st_arr[st_a]
        if leg == 0:
            out.first_wait_min[row] = dep_t - st_dep[board_l[row][0]]
        out.delay_min[row] = actual_arr - planned_arr
        if leg + 1 < n_legs and which[row][leg + 1] >= 0:
            nxt = runs[which[row][leg + 1]]
            gap = st_dep[board_l[row][leg + 1]] - planned_arr
            if actual_arr == planned_arr:  # on time: the planned connection
                k = nxt.k_of[board_l[row][leg + 1]]
            else:  # late: the first run serving the next leg after walking and changing as planned
                k = int(np.searchsorted(nxt.dep, actual_arr + gap - _EPS, side="left"))
            offer(row, leg + 1, nxt, actual_arr + gap, k, actual_arr + gap)
    loads.onboard[:] = onboard
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
        fare = np.where(ok, tt.line_fare[tt.trip_line[np.where(ok, trip, 0)]], 0.0).sum(axis=1)
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
        out["label"][moved] = [self._label(row) for row in trip]
        out["legs_trip"][moved], out["legs_board"][moved], out["legs_alight"][moved] = trip, board, alight
        return BusLeg(**out), got

    def _ride_km(self, leg: BusLeg, rows: np.ndarray) -> np.ndarray:
        ok = leg.legs_trip[rows] >= 0
        board, alight = np.where(ok, leg.legs_board[rows], 0), np.where(ok, leg.legs_alight[rows], 0)
        return np.where(ok, self.tt.st_km[alight] - self.tt.st_km[board], 0.0).sum(axis=1)

    def _label(self, trips: np.ndarray) -> int:
        text = ">".join(self.tt.line_ids[self.tt.trip_line[t]] for t in trips.tolist() if t >= 0)
        code = self._label_code.get(text)
        if code is None:
            code = len(self.bus.labels)
            self.bus.labels.append(text)
            self._label_code[text] = code
        return code


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
