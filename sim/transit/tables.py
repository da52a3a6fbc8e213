"""Bus travel tables: arrive-by journeys to each facility and depart-at journeys home, by time slot.

The model asks two timetable questions per bus trip: "leaving as late as possible, how do I get to
facility f by time T?" (latest departure, one backward scan per facility node and arrive-by slot)
and "leaving f at time t, when am I home?" (earliest arrival, one forward scan per facility node
and departure slot). Both are precomputed on a slot grid (``transit.slot_min``); a trip home
leaving between two slots uses the next slot (so it waits at most one slot longer than needed).
Successive slots mostly repeat a journey until the next run, so each table stores its distinct
journeys once and, per (facility node, slot, village) cell, the row of its journey.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from functools import partial
from itertools import pairwise

import numpy as np

from sim.compiled import optional_extension
from sim.memory import release_free_memory
from sim.routing.tables import TravelTables
from sim.scenario.load import LoadedScenario
from sim.scenario.transit import NoWayHome
from sim.transit.csa import (
    MAX_LEGS,
    Journeys,
    earliest_arrival,
    earliest_arrival_blocks,
    latest_departure_blocks,
)
from sim.transit.lines import build_timetable
from sim.transit.timetable import Timetable, WalkLinks, build_walk_links
from sim.world.world import World

__all__ = [
    "BUS_MODE",
    "BusTables",
    "SlotRows",
    "add_bus_mode",
    "build_bus_tables",
    "depart_at_tables",
    "slot_grid",
]

BUS_MODE = "bus"
_compiled = optional_extension("sim.transit._trace")  # None without a C compiler (sim/compiled.py)
_TABLE_KEYS = 1 << 24  # largest lookup table of line-sequence keys (entries)
_BY_SLOT = ("dep_min", "first_wait_min")  # fields of a depart-at journey that follow the leaving slot


def slot_grid(first_min: float, last_min: float, step_min: float) -> np.ndarray:
    """Minutes first, first + step, ... up to and including last."""
    n = int(np.floor((last_min - first_min) / step_min + 1e-9)) + 1
    return first_min + step_min * np.arange(max(n, 1))


@dataclass(frozen=True)
class SlotRows:
    """Journey row of each (facility node, slot, place) cell of a slot table.

    A facility node's and place's journeys are rows ``first[node, place]`` on (int32), one per run of
    slots repeating a journey, and ``nth[node * slots + slot, place]`` (uint8, wider past 256 slots)
    counts the journeys before that of the cell.
    """

    first: np.ndarray
    nth: np.ndarray

    def row(self, node: np.ndarray, slot: np.ndarray, place: np.ndarray) -> np.ndarray:
        """Journey rows of cells (facility-node columns, slot and place indices; broadcast)."""
        n_slots = len(self.nth) // len(self.first)
        return self.first[node, place] + self.nth[node * n_slots + slot, place]


@dataclass(frozen=True)
class BusTables:
    """Timetable journeys by slot, per day pattern (distinct set of trips running).

    ``out[p]`` holds the distinct latest-departure journeys of pattern ``p`` (one row each: fields
    shaped (rows,), legs (rows, MAX_LEGS)) and ``out_row[p]`` the row of each (facility node,
    out_slot, village) cell. ``home[p]`` and ``home_row[p]`` are the same for the
    earliest-arrival journeys home over ``home_slots``; there a row's ``dep_min`` and
    ``first_wait_min`` are those of its first slot (a cell leaves at its own slot, and waits
    ``csa.first_wait_min`` for its first vehicle). ``fac_col`` maps facility index -> facility-node
    column; ``labels[label]`` is the "line>line" text of a journey and ``out_label``/``home_label``
    hold the label code of each row.
    """

    timetable: Timetable
    walk: WalkLinks
    patterns: np.ndarray
    weekday_pattern: np.ndarray
    fac_nodes: np.ndarray
    fac_col: np.ndarray
    out_slots: np.ndarray
    home_slots: np.ndarray
    out: list[Journeys]
    home: list[Journeys]
    out_row: list[SlotRows]
    home_row: list[SlotRows]
    out_first_ok: np.ndarray  # (patterns, facility nodes, villages) first slot with a journey, K if none
    labels: list[str]
    out_label: list[np.ndarray]
    home_label: list[np.ndarray]

    def without_journeys(self) -> BusTables:
        """These tables without the journeys (timetable, walking links, slots and labels kept): what
        a finished run's tables and summary read."""
        return replace(self, out=[], home=[], out_row=[], home_row=[], out_label=[], home_label=[])

    @property
    def slot_min(self) -> float:
        """Slot width, minutes."""
        return float(self.out_slots[1] - self.out_slots[0]) if len(self.out_slots) > 1 else 1.0

    def out_index(
        self, pattern: int, fac: np.ndarray, village: np.ndarray, arrive_by: np.ndarray
    ) -> np.ndarray:
        """Row of ``out[pattern]`` for arriving at ``fac`` from ``village`` by ``arrive_by``.

        When no journey arrives by that time, the earliest-arriving journey of the day is used.
        """
        col = self.fac_col[fac]
        k_n = len(self.out_slots)
        k = np.floor((arrive_by - self.out_slots[0]) / self.slot_min + 1e-9).astype(np.int64)
        k = np.clip(k, 0, k_n - 1)
        k = np.maximum(k, np.minimum(self.out_first_ok[pattern, col, village], k_n - 1))
        return self.out_row[pattern].row(col, k, village)

    def home_index(
        self, pattern: int, fac: np.ndarray, village: np.ndarray, leave: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row of ``home[pattern]`` for leaving ``fac`` for ``village`` at ``leave``, and the slot
        time used (minutes). Rows past the last slot are -1 (no journey).
        """
        col = self.fac_col[fac]
        k_n = len(self.home_slots)
        k = np.ceil((leave - self.home_slots[0]) / self.slot_min - 1e-9).astype(np.int64)
        k = np.maximum(k, 0)
        past = k >= k_n
        k = np.minimum(k, k_n - 1)
        return np.where(past, -1, self.home_row[pattern].row(col, k, village)), self.home_slots[k]

    def feasible(self, pattern: int, world: World, latest_arrival: np.ndarray) -> np.ndarray:
        """(villages, facilities) bool: a journey arrives by each facility's latest arrival time."""
        k_n = len(self.out_slots)
        k_last = np.floor((latest_arrival - self.out_slots[0]) / self.slot_min + 1e-9).astype(np.int64)
        first = self.out_first_ok[pattern][self.fac_col]  # (F, V)
        return (first <= np.minimum(k_last, k_n - 1)[:, None]).T & (k_last >= 0)[None, :]

    def feasible_by_day_kind(self, world: World, latest_wd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bus feasibility per kind of day: weekdays with the same timetable pattern and the same
        latest arrival minutes share one (villages, facilities) table.

        Args:
            world: the world the tables were built on.
            latest_wd: (facilities, 7) latest arrival minute at each facility per weekday.

        Returns:
            ``(day_kind, feasible)``: the day kind of each weekday (7,), and per day kind whether a
            journey arrives by each facility's latest arrival, (day kinds, villages, facilities) bool.
        """
        day_kind = [(int(self.weekday_pattern[d]), latest_wd[:, d].tobytes()) for d in range(7)]
        kinds = list(dict.fromkeys(day_kind))
        first_day = [day_kind.index(k) for k in kinds]
        feasible = np.stack(
            [self.feasible(int(self.weekday_pattern[d]), world, latest_wd[:, d]) for d in first_day]
        )
        return np.array([kinds.index(k) for k in day_kind]), feasible

    def bus_hours_per_week(self) -> float:
        """Vehicle hours of service in a week (each trip times the days it runs)."""
        tt = self.timetable
        return float((tt.trip_hours() * tt.trip_days.sum(axis=1)).sum())


def _codes(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for keys in [0, n_keys): by a lookup table (no sort)
    when it has at most ``_TABLE_KEYS`` entries."""
    if n_keys > _TABLE_KEYS:
        return np.unique(keys, return_inverse=True)
    present = np.zeros(n_keys, dtype=bool)
    present[keys] = True
    return np.flatnonzero(present), (np.cumsum(present) - 1)[keys]


def _labels(tt: Timetable, journeys: list[Journeys]) -> tuple[list[str], list[np.ndarray]]:
    """Distinct line sequences of the journeys as "line>line" texts, and each cell's code into them.

    A sequence is keyed by one integer (digit k: line of leg k plus one, base lines + 1), so that no
    (cells, legs) array is built.
    """
    if not journeys:
        return [""], []
    base = len(tt.line_ids) + 1
    line_of = np.concatenate([[0], tt.trip_line + 1])  # trip + 1 -> line + 1 (0: no leg)
    keys = []
    for j in journeys:
        trip = j.leg_trip.reshape(-1, MAX_LEGS)
        key = np.zeros(len(trip), dtype=np.int64)
        for k in range(MAX_LEGS):
            key += line_of[trip[:, k] + 1] * base**k
        keys.append(key)
    uniq, inverse = _codes(np.concatenate(keys), base**MAX_LEGS)
    digits = uniq[:, None] // base ** np.arange(MAX_LEGS)[None, :] % base - 1
    labels = [">".join(tt.line_ids[x] for x in row if x >= 0) for row in digits.tolist()]
    out, at = [], 0
    for j, key in zip(journeys, keys, strict=True):
        out.append(inverse[at : at + len(key)].reshape(j.dep_min.shape).astype(np.int32))
        at += len(key)
    return labels, out


def _cell_words(a: np.ndarray) -> np.ndarray:
    """A (profiles, places, ...) field as (profiles, places * w) integers to compare bit for bit: w
    8-byte words per cell where a cell's bytes are a multiple of 8, else w bytes."""
    words = a.itemsize * int(np.prod(a.shape[2:])) % 8 == 0
    return np.ascontiguousarray(a).reshape(a.shape[0], -1).view(np.uint64 if words else np.uint8)


def _new_cells(
    now: list[np.ndarray], before: list[np.ndarray], p0: int, n_slots: int, nth: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """Cells of a block of profiles ``p0 ..`` (facility node * ``n_slots`` + slot, places) whose journey
    is new: the first slot of a node, or a field of ``now`` (``_cell_words``) not bit for bit that of
    the profile before (``before``: the fields of the profile before the first, (1, places * w)).

    Returns their flat (profile * places + place) indices into the block, in order; counts them into
    ``size`` (nodes, places; int32) and writes ``nth`` (profiles, places): the journeys of the cell's
    node and place before its own. Compiled (``sim/transit/_trace.pyx``, without the GIL) where it was
    built, else ``_new_cells_numpy``; the same arrays.
    """
    if _compiled is None:
        return _new_cells_numpy(now, before, p0, n_slots, nth, size)
    cells = np.empty(nth.size, dtype=np.int64)
    return cells[: _compiled.new_cells(now, before, p0, n_slots, nth, size, cells)]


def _new_cells_numpy(
    now: list[np.ndarray], before: list[np.ndarray], p0: int, n_slots: int, nth: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """``_new_cells`` by numpy."""
    n, n_places = nth.shape
    new = np.zeros(nth.shape, dtype=bool)
    for cur, last in zip(now, before, strict=True):
        stacked = np.concatenate([last, cur]).reshape(n + 1, n_places, -1)
        new |= (stacked[1:] != stacked[:-1]).any(axis=2)
    slot = (p0 + np.arange(n)) % n_slots
    new[slot == 0] = True
    starts = np.flatnonzero(slot == 0)
    bounds = [0, *starts[starts > 0], n]  # the block's runs of profiles of one node
    for a, b in pairwise(bounds):
        node = (p0 + a) // n_slots
        count = size[node] + np.cumsum(new[a:b], axis=0, dtype=np.int32)
        nth[a:b] = count - 1
        size[node] = count[-1]
    return np.flatnonzero(new)


def _put_rows(
    src: list[np.ndarray],
    cells: np.ndarray,
    first: np.ndarray,
    nth: np.ndarray,
    n_slots: int,
    dst: list[np.ndarray],
) -> None:
    """Write the fields ``src`` of the new journeys of ``cells`` (flat indices into the (profiles,
    places) table) to their rows of the fields ``dst``: ``first[node, place] + nth[profile, place]``.
    Compiled (without the GIL) where it was built, else by numpy; the same arrays."""
    if _compiled is not None:
        _compiled.put_rows(src, cells, first, nth, n_slots, dst)
        return
    profile, place = np.divmod(cells, nth.shape[1])
    row = first[profile // n_slots, place] + nth.reshape(-1)[cells]
    for a, b in zip(src, dst, strict=True):
        b[row] = a


def _slot_rows(
    blocks: Iterator[tuple[slice, Journeys]], shape: tuple[int, int], n_slots: int, by_slot: tuple[str, ...]
) -> tuple[Journeys, SlotRows]:
    """Distinct journeys of a slot table and the row of each cell, block by block.

    Profiles are (facility node * slot); a cell that repeats the journey of the slot before at the same
    facility node and place (every field but ``by_slot``, bit for bit) shares its row. Each block's new
    journeys are found (``_new_cells``) and kept; once all are counted, they go to their rows
    (``_put_rows``).

    Returns:
        ``(rows, cells)``: the journeys (fields (rows,), legs (rows, MAX_LEGS); ``by_slot`` fields those
        of the first cell), in order of facility node, place and slot, and the row of each of the
        ``shape`` cells.
    """
    names = [f.name for f in fields(Journeys)]
    keyed = [name for name in names if name not in by_slot]
    n_places = shape[1]
    size = np.zeros((shape[0] // n_slots, n_places), dtype=np.int32)  # journeys of each (node, place)
    nth = np.empty(shape, dtype=np.min_scalar_type(n_slots - 1))
    found = []  # per block: the cells of its new journeys (flat indices into the table) and their fields
    before = None
    for rows, block in blocks:
        now = [_cell_words(getattr(block, name)) for name in keyed]
        cells = _new_cells(now, before or [w[:1] for w in now], rows.start, n_slots, nth[rows], size)
        journeys = [getattr(block, name) for name in names]
        journeys = [a.reshape(-1, *a.shape[2:]).take(cells, axis=0) for a in journeys]
        found.append((rows.start * n_places + cells, journeys))
        before = [w[-1:] for w in now]
    first = (np.cumsum(size) - size.reshape(-1)).astype(np.int32).reshape(size.shape)
    out = [np.empty((int(size.sum()), *a.shape[1:]), dtype=a.dtype) for a in found[0][1]]
    while found:  # each block's journeys freed once written
        cells, src = found.pop()
        _put_rows(src, cells, first, nth, n_slots, out)
    return Journeys(*out), SlotRows(first, nth)


def _slot_table(
    blocks: Callable[..., Iterator[tuple[slice, Journeys]]],
    slots: np.ndarray,
    shape: tuple[int, int],
    by_slot: tuple[str, ...],
) -> tuple[Journeys, SlotRows]:
    """``_slot_rows`` of the journeys ``blocks(times=slots)`` over (facility nodes, places) ``shape``."""
    return _slot_rows(blocks(times=slots), (shape[0] * len(slots), shape[1]), len(slots), by_slot)


def build_bus_tables(loaded: LoadedScenario, world: World, *, slot_min: float | None = None) -> BusTables:
    """Timetable, walking links and slot tables of a scenario with transit."""
    transit = loaded.scenario.transit
    assert transit is not None, "build_bus_tables needs a scenario with transit"
    step = transit.slot_min if slot_min is None else slot_min
    tt = build_timetable(loaded, world)
    walk = build_walk_links(world, tt, walk=loaded.scenario.modes["walk"], walk_max_km=transit.walk_max_km)
    patterns, weekday_pattern = tt.day_patterns()
    fac_nodes, fac_col = np.unique(world.fac_node, return_inverse=True)
    hours = world.fac_days & (world.fac_close_wd > world.fac_open_wd)  # every weekday's own hours
    open_min = float(world.fac_open_wd[hours].min()) if hours.any() else 480.0
    close_min = float(world.fac_close_wd[hours].max()) if hours.any() else 1020.0
    first = np.floor(open_min / step) * step
    out_slots = slot_grid(first, close_min, step)
    home_slots = slot_grid(first, close_min + 180.0, step)
    out, home, out_row, home_row = [], [], [], []
    n_v = len(world.village_ids)
    shape = (len(fac_nodes), n_v)  # facility nodes, villages
    first_ok = np.zeros((len(patterns), len(fac_nodes), n_v), dtype=np.int64)
    for p, active in enumerate(patterns):
        common = {"transfer_min": transit.transfer_min, "active": active}
        out_blocks = partial(latest_departure_blocks, tt, walk, targets=fac_nodes, origins=world.village_node)
        home_blocks = partial(
            earliest_arrival_blocks, tt, walk, origins=fac_nodes, targets=world.village_node
        )
        with ThreadPoolExecutor(max_workers=2) as pool:  # side by side: the compiled tracing frees the GIL
            job_out = pool.submit(_slot_table, partial(out_blocks, **common), out_slots, shape, ())
            job_home = pool.submit(_slot_table, partial(home_blocks, **common), home_slots, shape, _BY_SLOT)
            (j_out, row), (j_home, row_h) = job_out.result(), job_home.result()
        cell = np.ix_(np.arange(len(fac_nodes)), np.arange(len(out_slots)), np.arange(n_v))
        found = j_out.found[row.row(*cell)]
        first_ok[p] = np.where(found.any(axis=1), np.argmax(found, axis=1), len(out_slots))
        out.append(j_out)
        out_row.append(row)
        home.append(j_home)
        home_row.append(row_h)
    release_free_memory()  # what the scans and tracing freed (sim/memory.py)
    labels, coded = _labels(tt, out + home)
    return BusTables(
        timetable=tt,
        walk=walk,
        patterns=patterns,
        weekday_pattern=weekday_pattern,
        fac_nodes=fac_nodes,
        fac_col=fac_col.reshape(-1),
        out_slots=out_slots,
        home_slots=home_slots,
        out=out,
        home=home,
        out_row=out_row,
        home_row=home_row,
        out_first_ok=first_ok,
        labels=labels,
        out_label=coded[: len(out)],
        home_label=coded[len(out) :],
    )


def depart_at_tables(
    bus: BusTables, world: World, *, slots: np.ndarray, transfer_min: float, pattern: int = 0
) -> Journeys:
    """Earliest-arrival journeys from every village to every facility node, leaving at each slot.

    Shaped (villages * slots, facility nodes): the "all population points x facilities x departure
    slots" table (used by benchmarks and access analyses; the model itself uses arrive-by tables).
    """
    return earliest_arrival(
        bus.timetable,
        bus.walk,
        origins=world.village_node,
        times=slots,
        targets=bus.fac_nodes,
        transfer_min=transfer_min,
        active=bus.patterns[pattern],
    )


def _representative(
    bus: BusTables, world: World, road: TravelTables, latest: np.ndarray, no_way_home: NoWayHome
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Typical bus values per (village, facility): mean over the opening hours of the usual day pattern.

    Time is (planned trip there + trip home) / 2, money the mean fares there and back / 2, so that
    the model's round-trip cost (2 x one way) counts both legs. A day with no way home counts the
    scenario's no-way-home minutes and cost.
    """
    pattern = int(np.bincount(bus.weekday_pattern).argmax())
    n_v, n_f = len(world.village_ids), len(world.fac_ids)
    k_out, k_home = len(bus.out_slots), len(bus.home_slots)
    j_out, j_home = bus.out[pattern], bus.home[pattern]
    with np.errstate(invalid="ignore"):
        out_t = np.where(j_out.found, j_out.arr_min - j_out.dep_min, np.inf)  # per journey row
    village = np.arange(n_v)[None, :]
    walk_i = road.modes.index("walk")
    time = np.full((n_v, n_f), np.inf)
    money = np.full((n_v, n_f), np.inf)
    dist = np.full((n_v, n_f), np.inf)
    for f in range(n_f):
        col = bus.fac_col[f]
        o_open, o_close = world.fac_open_min[f], latest[f]
        ks = np.flatnonzero((bus.out_slots >= o_open) & (bus.out_slots <= o_close))
        if len(ks) == 0:
            ks = np.arange(k_out)
        with np.errstate(invalid="ignore"):
            rows_o = bus.out_row[pattern].row(col, ks[:, None], village)
            t_o = out_t[rows_o]
            fin = np.isfinite(t_o)
            cnt = fin.sum(axis=0)
            mean_o = np.where(cnt > 0, np.where(fin, t_o, 0).sum(axis=0) / np.maximum(cnt, 1), np.inf)
            fare_o = np.where(
                cnt > 0, np.where(fin, j_out.fare_yuan[rows_o], 0).sum(axis=0) / np.maximum(cnt, 1), np.inf
            )
            km_o = np.where(
                cnt > 0, np.where(fin, j_out.ride_km[rows_o], 0).sum(axis=0) / np.maximum(cnt, 1), np.inf
            )
            kh = np.flatnonzero(
                (bus.home_slots >= world.fac_open_min[f]) & (bus.home_slots <= world.fac_close_min[f])
            )
            if len(kh) == 0:
                kh = np.arange(k_home)
            rows_h = bus.home_row[pattern].row(col, kh[:, None], village)
            arr_h = j_home.arr_min[rows_h]
            home_t = np.where(np.isfinite(arr_h), arr_h - bus.home_slots[kh][:, None], np.inf)
            home_fare = j_home.fare_yuan[rows_h]
            walk_home = road.time_min[walk_i, :, f]
            t_h = np.minimum(home_t, walk_home[None, :])
            fin_h = np.isfinite(t_h)
            t_h = np.where(fin_h, t_h, no_way_home.extra_min)
            fare_h = np.where(np.isfinite(home_fare) & (home_t <= walk_home[None, :]), home_fare, 0.0)
            fare_h = np.where(fin_h, fare_h, no_way_home.cost_yuan)
        time[:, f] = (mean_o + t_h.mean(axis=0)) / 2
        money[:, f] = (fare_o + fare_h.mean(axis=0)) / 2
        dist[:, f] = km_o
    return time, money, dist


def add_bus_mode(
    road: TravelTables, bus: BusTables, world: World, latest_arrival: np.ndarray, no_way_home: NoWayHome
) -> TravelTables:
    """Road tables plus a ``bus`` mode (walk + bus + walk) with typical values (see ``_representative``;
    a day without a way home counts ``no_way_home``'s minutes and cost)."""
    time, money, dist = _representative(bus, world, road, latest_arrival, no_way_home)
    return TravelTables(
        modes=[*road.modes, BUS_MODE],
        time_min=np.concatenate([road.time_min, time[None]]),
        distance_km=np.concatenate([road.distance_km, dist[None]]),
        money_yuan=np.concatenate([road.money_yuan, money[None]]),
    )
