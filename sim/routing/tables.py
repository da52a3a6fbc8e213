"""Uncongested road travel-time tables: village x facility per mode (scipy csgraph Dijkstra)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from sim.world.network import mode_matrices
from sim.world.world import World

__all__ = ["WALK", "TravelTables", "accumulate_along_tree", "build_travel_tables"]

WALK = "walk"  # the mode everyone has; one-way streets do not bind pedestrians


@dataclass(frozen=True)
class TravelTables:
    """One-way door-to-door values between each village and each facility, per mode (the mean of
    the way there and the way back).

    Arrays have shape (modes, villages, facilities); unreachable pairs are ``inf``.
    """

    modes: list[str]
    time_min: np.ndarray  # includes the mode's access time
    distance_km: np.ndarray
    money_yuan: np.ndarray  # distance cost + ferry fares, one way (mean of there and back)


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


def _path_sums(
    pred: np.ndarray, targets: np.ndarray, n_nodes: int, mats: tuple[sparse.csr_matrix, ...]
) -> list[np.ndarray]:
    """(sources, targets) sums of each matrix's values along the tree paths from each source.

    Walks back from every target to its source along ``pred``, all (source, target) pairs at once;
    edge values are found by binary search in the matrices' sorted (row, col) keys.
    """
    lookups = []
    for m in mats:
        coo = m.tocoo()
        keys = coo.row.astype(np.int64) * n_nodes + coo.col
        order = np.argsort(keys, kind="stable")
        # a sentinel key past every real one, value 0, stands for an absent entry
        lookups.append((np.append(keys[order], n_nodes * n_nodes), np.append(coo.data[order], 0.0)))
    rows = np.arange(pred.shape[0])[:, None]
    cur = np.broadcast_to(targets[None, :], (pred.shape[0], len(targets))).copy()
    sums = [np.zeros(cur.shape) for _ in mats]
    parent = pred[rows, cur]
    live = parent >= 0
    while live.any():
        want = parent[live].astype(np.int64) * n_nodes + cur[live]
        for total, (keys, vals) in zip(sums, lookups, strict=True):
            idx = np.searchsorted(keys, want)
            total[live] += vals[np.where(keys[idx] == want, idx, len(keys) - 1)]
        cur[live] = parent[live]
        parent = np.where(live, pred[rows, cur], -1)
        live = parent >= 0
    return sums


def _from_sources(
    times: sparse.csr_matrix,
    lengths: sparse.csr_matrix,
    money: sparse.csr_matrix,
    sources: np.ndarray,
    targets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sources, targets) time, km and money along the fastest directed paths from each source."""
    dist, pred = dijkstra(times, directed=True, indices=sources, return_predecessors=True)
    km, cost = _path_sums(pred, targets, times.shape[0], (lengths, money))
    return dist[:, targets], km, cost


def build_travel_tables(world: World) -> TravelTables:
    """Fastest paths between every village and every facility node, per mode, both ways.

    The network is directed (one-way streets; pedestrians, mode ``walk``, may walk both ways) and may
    hold parallel edges (the fastest counts).
    Values are the mean of the way there (village -> facility) and the way back, so a round trip is
    exactly twice the table value; the two differ only where one-way streets force a detour.
    """
    sc = world.loaded.scenario
    sources = np.unique(world.fac_node)
    col = np.searchsorted(sources, world.fac_node)
    modes = list(sc.modes)
    shape = (len(modes), len(world.village_ids), len(world.fac_ids))
    time_min = np.empty(shape)
    distance_km = np.empty(shape)
    money_yuan = np.empty(shape)
    v = world.village_node
    for m, name in enumerate(modes):
        mode = sc.modes[name]
        edges = world.edges.subset(slice(None), two_way=True) if name == WALK else world.edges
        mats = mode_matrices(edges, len(world.nodes), mode)
        back = _from_sources(*mats, sources, v)  # facility -> village
        symmetric = (mats[0] != mats[0].T).nnz == 0
        there = back if symmetric else _from_sources(*(m.T.tocsr() for m in mats), sources, v)
        t, km, money = ((a[col].T + b[col].T) / 2.0 for a, b in zip(there, back, strict=True))
        reachable = np.isfinite(t)
        time_min[m] = t + mode.access_min
        distance_km[m] = np.where(reachable, km, np.inf)
        money_yuan[m] = np.where(reachable, money, np.inf)
    return TravelTables(modes=modes, time_min=time_min, distance_km=distance_km, money_yuan=money_yuan)
