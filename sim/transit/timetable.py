"""Compact timetable arrays (stops, trips, stop times, connections) and walking links to stops."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.routing.tables import accumulate_along_tree
from sim.scenario.schema import Mode
from sim.world.network import mode_matrices
from sim.world.world import World

__all__ = [
    "Connections",
    "Timetable",
    "TripBuilder",
    "WalkLinks",
    "assemble_timetable",
    "build_walk_links",
    "merge_timetables",
    "round_min",
]


def round_min(x: np.ndarray | float) -> np.ndarray:
    """Round minutes to whole seconds (what GTFS can hold)."""
    return np.round(np.asarray(x, dtype=float) * 60.0) / 60.0


@dataclass(frozen=True)
class Connections:
    """Vehicle hops between consecutive stops of active trips, sorted by departure time.

    ``st`` is the stop-time index of the departing end (the arriving end is ``st + 1``).
    ``pickup`` / ``dropoff``: whether one may board at the departing end / get off at the arriving
    end; ``board_wait`` is the minutes a planned (arrive-by) journey is at the stop before the run
    leaves: headway/2 for frequency trips without exact times (their times are not published), else 0.
    """

    from_stop: np.ndarray
    to_stop: np.ndarray
    dep: np.ndarray
    arr: np.ndarray
    trip: np.ndarray
    st: np.ndarray
    pickup: np.ndarray
    dropoff: np.ndarray
    board_wait: np.ndarray

    def __len__(self) -> int:
        return len(self.dep)


@dataclass(frozen=True)
class Timetable:
    """Every run of every line as flat arrays.

    Stops are network nodes (one stop per node, shared by all lines calling there). The stop times
    of trip ``t`` are rows ``trip_start[t]:trip_start[t + 1]`` of the ``st_*`` arrays, in order.
    Times are minutes after midnight of the service day, rounded to seconds.
    """

    stop_node: np.ndarray  # (stops,) world node index
    line_ids: list[str]
    line_kind: list[str]
    line_fare: np.ndarray
    line_capacity: np.ndarray
    trip_ids: list[str]
    trip_line: np.ndarray
    trip_days: np.ndarray  # (trips, 7) bool
    trip_start: np.ndarray  # (trips + 1,)
    st_stop: np.ndarray
    st_arr: np.ndarray
    st_dep: np.ndarray
    st_km: np.ndarray  # cumulative in-vehicle km from the trip's first stop
    st_pickup: np.ndarray  # bool: boarding allowed (GTFS pickup_type != 1)
    st_dropoff: np.ndarray  # bool: getting off allowed (GTFS drop_off_type != 1)
    trip_board_wait: np.ndarray  # min a planned journey waits before boarding (headway/2, inexact times)
    _conn_cache: dict[bytes, Connections] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_stops(self) -> int:
        """Number of stops."""
        return len(self.stop_node)

    @property
    def n_trips(self) -> int:
        """Number of trips (vehicle runs)."""
        return len(self.trip_ids)

    @property
    def st_trip(self) -> np.ndarray:
        """(stop-times,) int64 trip of each stop-time."""
        return np.repeat(np.arange(self.n_trips, dtype=np.int64), np.diff(self.trip_start))

    def day_patterns(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct sets of trips running on a weekday.

        Returns:
            (patterns, weekday_pattern): (patterns, trips) bool and the pattern index of each weekday.
        """
        if self.n_trips == 0:
            return np.zeros((1, 0), dtype=bool), np.zeros(7, dtype=np.int64)
        cols = np.ascontiguousarray(self.trip_days.T)
        patterns, inverse = np.unique(cols, axis=0, return_inverse=True)
        return patterns, inverse.reshape(-1).astype(np.int64)

    def connections(self, active: np.ndarray | None = None) -> Connections:
        """Connections of the active trips (all trips if None), sorted by departure then arrival."""
        active = np.ones(self.n_trips, dtype=bool) if active is None else np.asarray(active, dtype=bool)
        key = active.tobytes()
        hit = self._conn_cache.get(key)
        if hit is not None:
            return hit
        st_trip = self.st_trip
        last = np.zeros(len(self.st_stop), dtype=bool)
        last[self.trip_start[1:] - 1] = True
        keep = np.flatnonzero(~last & active[st_trip]) if len(self.st_stop) else np.zeros(0, dtype=np.int64)
        dep, arr = self.st_dep[keep], self.st_arr[keep + 1]
        order = np.lexsort((arr, dep))
        keep = keep[order]
        conn = Connections(
            from_stop=self.st_stop[keep].astype(np.int64),
            to_stop=self.st_stop[keep + 1].astype(np.int64),
            dep=self.st_dep[keep],
            arr=self.st_arr[keep + 1],
            trip=st_trip[keep].astype(np.int64),
            st=keep.astype(np.int64),
            pickup=self.st_pickup[keep],
            dropoff=self.st_dropoff[keep + 1],
            board_wait=self.trip_board_wait[st_trip[keep]],
        )
        self._conn_cache[key] = conn
        return conn

    def trip_departure_min(self) -> np.ndarray:
        """Departure minute of each trip from its first stop."""
        return self.st_dep[self.trip_start[:-1]]

    def trip_hours(self) -> np.ndarray:
        """Vehicle hours of each trip (first departure to last arrival)."""
        return (self.st_arr[self.trip_start[1:] - 1] - self.st_dep[self.trip_start[:-1]]) / 60.0


@dataclass(frozen=True)
class WalkLinks:
    """Walking between stops and network nodes, up to the scenario's walking limit.

    ``stop_node_min[s, n]`` is the walk in minutes from stop ``s`` to node ``n`` (inf beyond the
    limit); walking is symmetric. ``foot[s]`` lists (stop, minutes) pairs reachable from stop ``s``
    (including ``s`` itself at 0) for transfers.
    """

    stop_node_min: np.ndarray
    foot: list[tuple[np.ndarray, np.ndarray]]


@dataclass
class TripBuilder:
    """Trips being collected (stop nodes and times, one entry per stop time) for ``assemble_timetable``."""

    stops: list[int] = field(default_factory=list)  # node indices
    ids: list[str] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    days: list[list[bool]] = field(default_factory=list)
    start: list[int] = field(default_factory=lambda: [0])
    node: list[int] = field(default_factory=list)
    arr: list[float] = field(default_factory=list)
    dep: list[float] = field(default_factory=list)
    km: list[float] = field(default_factory=list)
    pickup: list[bool] = field(default_factory=list)
    dropoff: list[bool] = field(default_factory=list)
    board_wait: list[float] = field(default_factory=list)

    def add(
        self,
        trip_id: str,
        line: int,
        days: list[bool],
        nodes: list[int],
        arr: np.ndarray,
        dep: np.ndarray,
        km: np.ndarray,
        *,
        pickup: np.ndarray | None = None,
        dropoff: np.ndarray | None = None,
        board_wait: float = 0.0,
    ) -> None:
        """Append one trip calling at ``nodes`` (minutes ``arr``/``dep``, cumulative ``km``)."""
        n = len(nodes)
        self.pickup.extend(np.ones(n, bool).tolist() if pickup is None else np.asarray(pickup, bool).tolist())
        self.dropoff.extend(
            np.ones(n, bool).tolist() if dropoff is None else np.asarray(dropoff, bool).tolist()
        )
        self.board_wait.append(float(board_wait))
        self.ids.append(trip_id)
        self.line.append(line)
        self.days.append(days)
        self.node.extend(nodes)
        self.arr.extend(round_min(arr).tolist())
        self.dep.extend(round_min(dep).tolist())
        self.km.extend(np.asarray(km, dtype=float).tolist())
        self.start.append(len(self.node))


def assemble_timetable(
    *,
    line_ids: list[str],
    line_kind: list[str],
    line_fare: list[float],
    line_capacity: list[int],
    trips: TripBuilder,
) -> Timetable:
    """Turn collected trips into a Timetable (stops = distinct nodes called at, sorted)."""
    nodes = np.asarray(trips.node, dtype=np.int64)
    stop_node, st_stop = np.unique(nodes, return_inverse=True) if len(nodes) else (np.zeros(0, np.int64),) * 2
    return Timetable(
        stop_node=stop_node.astype(np.int64),
        line_ids=line_ids,
        line_kind=line_kind,
        line_fare=np.asarray(line_fare, dtype=float),
        line_capacity=np.asarray(line_capacity, dtype=np.int64),
        trip_ids=trips.ids,
        trip_line=np.asarray(trips.line, dtype=np.int64),
        trip_days=np.asarray(trips.days, dtype=bool).reshape(len(trips.ids), 7),
        trip_start=np.asarray(trips.start, dtype=np.int64),
        st_stop=np.asarray(st_stop, dtype=np.int64).reshape(-1),
        st_arr=np.asarray(trips.arr, dtype=float),
        st_dep=np.asarray(trips.dep, dtype=float),
        st_km=np.asarray(trips.km, dtype=float),
        st_pickup=np.asarray(trips.pickup, dtype=bool),
        st_dropoff=np.asarray(trips.dropoff, dtype=bool),
        trip_board_wait=np.asarray(trips.board_wait, dtype=float),
    )


def merge_timetables(a: Timetable, b: Timetable) -> Timetable:
    """One timetable holding the lines and trips of both (line ids must differ)."""
    builder = TripBuilder()
    for tt, line_offset in ((a, 0), (b, len(a.line_ids))):
        for t in range(tt.n_trips):
            lo, hi = tt.trip_start[t], tt.trip_start[t + 1]
            builder.add(
                tt.trip_ids[t],
                int(tt.trip_line[t]) + line_offset,
                tt.trip_days[t].tolist(),
                tt.stop_node[tt.st_stop[lo:hi]].tolist(),
                tt.st_arr[lo:hi],
                tt.st_dep[lo:hi],
                tt.st_km[lo:hi],
                pickup=tt.st_pickup[lo:hi],
                dropoff=tt.st_dropoff[lo:hi],
                board_wait=float(tt.trip_board_wait[t]),
            )
    return assemble_timetable(
        line_ids=a.line_ids + b.line_ids,
        line_kind=a.line_kind + b.line_kind,
        line_fare=[*a.line_fare.tolist(), *b.line_fare.tolist()],
        line_capacity=[*a.line_capacity.tolist(), *b.line_capacity.tolist()],
        trips=builder,
    )


def build_walk_links(world: World, timetable: Timetable, *, walk: Mode, walk_max_km: float) -> WalkLinks:
    """Walking minutes (at the speeds of mode ``walk``) from every stop to every node within
    ``walk_max_km`` along the roads."""
    n = len(world.nodes)
    on_foot = world.edges.subset(~world.edges.is_ferry, two_way=True)
    time, length, _ = mode_matrices(on_foot, n, walk)
    length.data = np.maximum(length.data, 1e-9)  # zero-length links still link
    if timetable.n_stops == 0:
        return WalkLinks(stop_node_min=np.zeros((0, n)), foot=[])
    dist, pred = dijkstra(
        length,
        directed=False,
        indices=timetable.stop_node,
        limit=walk_max_km + 1e-9,
        return_predecessors=True,
    )
    safe = np.where(pred < 0, 0, pred)
    cols_b = np.broadcast_to(np.arange(n), pred.shape)
    edge_t = np.asarray(time[safe.ravel(), cols_b.ravel()]).reshape(pred.shape)
    walk_min = accumulate_along_tree(pred, edge_t)
    walk_min = np.where(np.isfinite(dist), walk_min, np.inf)
    foot = []
    to_stops = walk_min[:, timetable.stop_node]
    for s in range(timetable.n_stops):
        near = np.flatnonzero(np.isfinite(to_stops[s]))
        foot.append((near.astype(np.int64), to_stops[s, near]))
    return WalkLinks(stop_node_min=walk_min, foot=foot)
