"""Road + ferry network: build it (generated or from a file), snap points, export CSR matrices."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.spatial import Delaunay, QhullError

from sim.errors import ScenarioError
from sim.scenario.schema import Ferry, Mode, RoadGenerate

__all__ = [
    "FERRY",
    "add_ferries",
    "add_generated_roads",
    "edge_matrices",
    "read_road_file",
]

FERRY = "ferry"


def _triangulation_edges(xy: np.ndarray) -> set[tuple[int, int]]:
    """Index pairs of a Delaunay triangulation; a path for 2 points, nothing for 1."""
    n = len(xy)
    if n < 2:
        return set()
    if n == 2:
        return {(0, 1)}
    try:
        tri = Delaunay(xy)
    except QhullError:  # collinear points: chain them in order along the line
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return {(int(a), int(b)) for a, b in itertools.pairwise(order)}
    edges: set[tuple[int, int]] = set()
    for simplex in tri.simplices:
        for i in range(3):
            a, b = int(simplex[i]), int(simplex[(i + 1) % 3])
            edges.add((min(a, b), max(a, b)))
    return edges


def add_generated_roads(graph: nx.Graph, *, params: RoadGenerate, seats: Iterable[str]) -> nx.Graph:
    """Add synthetic roads per island: trunk roads triangulate the seats, rural roads all points.

    Rural edges longer than ``max_rural_edge_km`` (straight line) are dropped unless needed to keep
    the island connected (the minimum spanning tree is always kept). Edge ``length_km`` is the
    straight-line distance times ``detour_factor``.
    """
    seat_set = set(seats)
    by_island: dict[str, list[str]] = {}
    for node, data in graph.nodes(data=True):
        by_island.setdefault(data["island"], []).append(node)
    for nodes in by_island.values():
        nodes.sort()
        xy = np.array([[graph.nodes[n]["x_km"], graph.nodes[n]["y_km"]] for n in nodes])
        rural = nx.Graph()
        for a, b in _triangulation_edges(xy):
            rural.add_edge(a, b, straight=float(np.hypot(*(xy[a] - xy[b]))))
        keep = set(nx.minimum_spanning_tree(rural, weight="straight").edges()) if len(rural) else set()
        for a, b, data in rural.edges(data=True):
            if data["straight"] <= params.max_rural_edge_km or (a, b) in keep or (b, a) in keep:
                graph.add_edge(
                    nodes[a], nodes[b], length_km=data["straight"] * params.detour_factor, road_class="rural"
                )
        seat_idx = [i for i, n in enumerate(nodes) if n in seat_set]
        for a, b in _triangulation_edges(xy[seat_idx]):
            ia, ib = seat_idx[a], seat_idx[b]
            straight = float(np.hypot(*(xy[ia] - xy[ib])))
            graph.add_edge(
                nodes[ia], nodes[ib], length_km=straight * params.detour_factor, road_class="trunk"
            )
    return graph


def add_ferries(graph: nx.Graph, ferries: dict[str, Ferry]) -> nx.Graph:
    """Add fixed ferry edges (crossing + mean pier wait, fare)."""
    for fid, ferry in ferries.items():
        graph.add_edge(
            ferry.from_node,
            ferry.to_node,
            road_class=FERRY,
            ferry_id=fid,
            time_min=ferry.crossing_min + ferry.wait_min,
            fare_yuan=ferry.fare_yuan,
            length_km=0.0,
        )
    return graph


def read_road_file(graph: nx.Graph, file: Path) -> nx.Graph:
    """Add roads from a GraphML file or an edge CSV (columns u, v, length_km, road_class).

    Node ids in the file must be village ids or ``seat:<unit>``.
    """
    if not file.is_file():
        raise ScenarioError(str(file), "roads.file", "expected an existing GraphML or CSV file")
    rows: list[tuple[Any, Any, Any, Any]] = []
    if file.suffix.lower() == ".graphml":
        loaded = nx.read_graphml(file)
        for u, v, data in loaded.edges(data=True):
            rows.append((str(u), str(v), data.get("length_km"), data.get("road_class")))
    else:
        with file.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.append((row.get("u"), row.get("v"), row.get("length_km"), row.get("road_class")))
    for line, (u, v, length, road_class) in enumerate(rows, start=2):
        for name, node in (("u", u), ("v", v)):
            if node not in graph:
                raise ScenarioError(
                    str(file), f"edge {line - 1}.{name}", f"expected a known node id, got '{node}'"
                )
        try:
            length_km = float(length)
        except (TypeError, ValueError):
            raise ScenarioError(
                str(file), f"edge {line - 1}.length_km", f"expected a number, got {length!r}"
            ) from None
        if length_km < 0 or not road_class:
            raise ScenarioError(str(file), f"edge {line - 1}", "expected length_km >= 0 and a road_class")
        graph.add_edge(u, v, length_km=length_km, road_class=str(road_class))
    return graph


def edge_matrices(
    graph: nx.Graph, nodes: list[str], mode: Mode
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, sparse.csr_matrix]:
    """CSR matrices (time_min, length_km, fare_yuan) of one mode over ``nodes`` order.

    Raises:
        KeyError: the mode has no speed for a road class of the graph (checked at load).
    """
    index = {n: i for i, n in enumerate(nodes)}
    rows, cols, times, lengths, fares = [], [], [], [], []
    for u, v, data in graph.edges(data=True):
        if data["road_class"] == FERRY:
            time_min = data["time_min"]
        else:
            time_min = 60.0 * data["length_km"] / mode.speed_kph[data["road_class"]]
        for a, b in ((u, v), (v, u)):
            rows.append(index[a])
            cols.append(index[b])
            times.append(max(time_min, 1e-6))  # csgraph treats explicit 0 as no edge
            lengths.append(data["length_km"])
            fares.append(data.get("fare_yuan", 0.0))
    shape = (len(nodes), len(nodes))
    return tuple(
        sparse.csr_matrix((np.asarray(vals, dtype=float), (rows, cols)), shape=shape)
        for vals in (times, lengths, fares)
    )
