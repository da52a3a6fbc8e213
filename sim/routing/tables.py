"""Uncongested road travel-time tables: village x facility per mode (scipy csgraph Dijkstra)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.world.network import edge_matrices
from sim.world.world import World

__all__ = ["TravelTables", "accumulate_along_tree", "build_travel_tables"]


@dataclass(frozen=True)
class TravelTables:
    """One-way door-to-door values from each village to each facility, per mode.

    Arrays have shape (modes, villages, facilities); unreachable pairs are ``inf``.
    """

    modes: list[str]
    time_min: np.ndarray  # includes the mode's access time
    distance_km: np.ndarray
    money_yuan: np.ndarray  # distance cost + ferry fares, one way


def accumulate_along_tree(pred: np.ndarray, edge_value: np.ndarray) -> np.ndarray:
    """Sum an edge value from each tree's root to every node by pointer doubling.

    Args:
        pred: (sources, nodes) predecessor array from ``dijkstra`` (negative = root/unreached).
        edge_value: (sources, nodes) value of the edge (pred -> node); ignored where pred < 0.

    Returns:
        (sources, nodes) path sums; 0 at roots and unreached nodes.
    """
    rows = np.arange(pred.shape[0])[:, None]
    parent = np.where(pred < 0, np.arange(pred.shape[1])[None, :], pred)
    acc = np.where(pred < 0, 0.0, edge_value)
    for _ in range(int(np.ceil(np.log2(max(pred.shape[1], 2)))) + 1):
        acc = acc + acc[rows, parent]
        parent = parent[rows, parent]
    return acc


def build_travel_tables(world: World) -> TravelTables:
    """Shortest-time paths from every facility node to every village, per mode."""
    sc = world.loaded.scenario
    sources = np.unique(world.fac_node)
    col = np.searchsorted(sources, world.fac_node)
    modes = list(sc.modes)
    shape = (len(modes), len(world.village_ids), len(world.fac_ids))
    time_min = np.empty(shape)
    distance_km = np.empty(shape)
    money = np.empty(shape)
    for m, name in enumerate(modes):
        mode = sc.modes[name]
        times, lengths, fares = edge_matrices(world.graph, world.nodes, mode)
        dist, pred = dijkstra(times, directed=False, indices=sources, return_predecessors=True)
        safe_pred = np.where(pred < 0, 0, pred)
        cols = np.broadcast_to(np.arange(pred.shape[1]), pred.shape)
        length_edge = np.asarray(lengths[safe_pred.ravel(), cols.ravel()]).reshape(pred.shape)
        fare_edge = np.asarray(fares[safe_pred.ravel(), cols.ravel()]).reshape(pred.shape)
        length_sum = accumulate_along_tree(pred, length_edge)
        fare_sum = accumulate_along_tree(pred, fare_edge)
        v = world.village_node
        time_min[m] = dist[col][:, v].T + mode.access_min
        distance_km[m] = length_sum[col][:, v].T
        money[m] = (length_sum * mode.cost_yuan_per_km + fare_sum)[col][:, v].T
        unreachable = ~np.isfinite(time_min[m])
        distance_km[m][unreachable] = np.inf
        money[m][unreachable] = np.inf
    return TravelTables(modes=modes, time_min=time_min, distance_km=distance_km, money_yuan=money)
