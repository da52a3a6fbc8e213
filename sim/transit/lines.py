"""The scenario's timetable: its lines expanded to trips along the roads, plus its GTFS feed."""

from __future__ import annotations

import itertools

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from sim.errors import ScenarioError
from sim.scenario.fields import WEEKDAYS
from sim.scenario.load import LoadedScenario
from sim.scenario.transit import Line, Transit
from sim.transit.gtfs import read_gtfs_timetable
from sim.transit.timetable import Timetable, TripBuilder, assemble_timetable, merge_timetables
from sim.world.network import road_km_matrix
from sim.world.world import World

__all__ = ["build_timetable", "resolve_stop", "timetable_from_lines"]


def resolve_stop(
    loaded: LoadedScenario, world: World, ref: str | tuple[float, float], field_path: str
) -> int:
    """Node index of a stop reference (village id, ``seat:<unit>``, facility id or [x_km, y_km])."""
    if isinstance(ref, str):
        node = world.node_index.get(ref)
        if node is not None:
            return node
        fac = loaded.scenario.facilities.get(ref)
        if fac is not None:
            return resolve_stop(loaded, world, fac.at, field_path)
        raise ScenarioError(
            loaded.origin(field_path),
            field_path,
            f"expected a village id, 'seat:<unit>', a facility id or [x_km, y_km], got '{ref}'",
        )
    d = np.hypot(world.node_xy[:, 0] - ref[0], world.node_xy[:, 1] - ref[1])
    return int(np.argmin(d))


class _Shapes:
    """Shortest road paths (km) between stops: over all roads, or village roads (not trunk) first."""

    def __init__(self, world: World) -> None:
        n = len(world.nodes)
        self.km = road_km_matrix(world.edges, n)
        self.graphs = {False: self.km, True: road_km_matrix(world.edges, n, skip_classes=("trunk",))}
        self._pred: dict[tuple[bool, int], np.ndarray] = {}

    def path(self, a: int, b: int, *, rural: bool) -> list[int] | None:
        """Nodes of the shortest path a -> b (None if there is none)."""
        key = (rural, a)
        if key not in self._pred:
            graph = self.graphs[rural].copy()
            graph.data = np.maximum(graph.data, 1e-12)  # csgraph drops explicit zeros
            _, pred = dijkstra(graph, directed=True, indices=a, return_predecessors=True)
            self._pred[key] = pred
        pred = self._pred[key]
        if pred[b] < 0:
            return None
        out = [b]
        while out[-1] != a:
            out.append(int(pred[out[-1]]))
        return out[::-1]

    def hop_km(self, path: list[int]) -> list[float]:
        """Km of each hop of a path (the shortest road between its two nodes)."""
        km: sparse.csr_matrix = self.km
        return [float(km[u, v]) for u, v in itertools.pairwise(path)]


def _line_geometry(
    loaded: LoadedScenario, world: World, shapes: _Shapes, lid: str, line: Line
) -> tuple[list[int], np.ndarray]:
    """Stop nodes of a line and the km between consecutive stops."""
    at = f"transit.lines.{lid}"
    listed = [resolve_stop(loaded, world, ref, f"{at}.stops[{i}]") for i, ref in enumerate(line.stops)]
    names = world.nodes
    nodes: list[int] = [listed[0]]
    km: list[float] = []
    for k, (a, b) in enumerate(itertools.pairwise(listed)):
        if a == b:
            raise ScenarioError(
                loaded.origin(f"{at}.stops"),
                f"{at}.stops[{k + 1}]",
                f"expected a stop other than the one before it ('{names[a]}')",
            )
        path = None
        for rural in (True, False) if line.along_road else (False,):
            path = shapes.path(a, b, rural=rural)
            if path is not None:
                break
        if path is None:
            if line.kind == "bus":
                raise ScenarioError(
                    loaded.origin(f"{at}.stops"),
                    f"{at}.stops[{k + 1}]",
                    f"expected a road from '{names[a]}' to '{names[b]}' (a bus line needs one; "
                    "use kind: ferry to cross water)",
                )
            km.append(float(np.hypot(*(world.node_xy[a] - world.node_xy[b]))))
            nodes.append(b)
            continue
        hops = shapes.hop_km(path)
        if line.along_road:
            nodes.extend(path[1:])
            km.extend(hops)
        else:
            nodes.append(b)
            km.append(float(sum(hops)))
    return nodes, np.asarray(km)


def timetable_from_lines(loaded: LoadedScenario, world: World, transit: Transit) -> Timetable:
    """Expand the scenario's lines (and their mirror runs) to trips with stop times."""
    shapes = _Shapes(world)
    builder = TripBuilder()
    line_ids = list(transit.lines)
    for li, (lid, line) in enumerate(transit.lines.items()):
        nodes, km = _line_geometry(loaded, world, shapes, lid, line)
        if line.travel_min is not None:
            run = np.asarray(line.travel_min, dtype=float)
        else:
            assert line.speed_kph is not None
            run = np.maximum(km * 60.0 / line.speed_kph, 1.0 / 60.0)
        days = [d in line.days for d in WEEKDAYS]
        directions = [(nodes, run, km)]
        if line.both_directions:
            directions.append((nodes[::-1], run[::-1], km[::-1]))
        for direction, (dir_nodes, dir_run, dir_km) in enumerate(directions):
            n = len(dir_nodes)
            dwell = np.full(n, line.dwell_min)
            dwell[0] = dwell[-1] = 0.0
            offset_arr = np.concatenate([[0.0], np.cumsum(dir_run + dwell[:-1])])
            offset_dep = offset_arr + dwell
            cum_km = np.concatenate([[0.0], np.cumsum(dir_km)])
            seen: dict[str, int] = {}
            for start in line.departure_min():
                clock = f"{int(start // 60):02d}{int(start % 60):02d}"
                seen[clock] = seen.get(clock, 0) + 1
                suffix = "" if seen[clock] == 1 else f"_{seen[clock]}"
                builder.add(
                    f"{lid}:{direction}:{clock}{suffix}",
                    li,
                    days,
                    list(dir_nodes),
                    start + offset_arr,
                    start + offset_dep,
                    cum_km,
                )
    return assemble_timetable(
        line_ids=line_ids,
        line_kind=[transit.lines[lid].kind for lid in line_ids],
        line_fare=[transit.lines[lid].fare_yuan for lid in line_ids],
        line_capacity=[transit.lines[lid].capacity for lid in line_ids],
        trips=builder,
    )


def build_timetable(loaded: LoadedScenario, world: World) -> Timetable:
    """The scenario's timetable: its lines, or its GTFS feed for the chosen service date, or both."""
    transit = loaded.scenario.transit
    assert transit is not None, "build_timetable needs a scenario with transit"
    own = timetable_from_lines(loaded, world, transit)
    if transit.gtfs is None:
        return own
    feed = read_gtfs_timetable(
        loaded.data_path("transit.gtfs.path", transit.gtfs.path),
        world=world,
        transit=transit,
        date=transit.gtfs.date,
    )
    return merge_timetables(own, feed)
