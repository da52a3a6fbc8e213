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


def _edge_slots(csr: sparse.csr_matrix, parent: np.ndarray, child: np.ndarray) -> np.ndarray:
    """Position in ``csr.data`` of each edge parent -> child (scanning the parent's few out-edges)."""
    start = csr.indptr[parent]
    degree = csr.indptr[parent + 1] - start
    slot = np.full(len(parent), -1, dtype=np.int64)
    for k in range(int(degree.max(initial=0))):
        open_ = np.flatnonzero((slot < 0) & (degree > k))
        j = start[open_] + k
        hit = csr.indices[j] == child[open_]
        slot[open_[hit]] = j[hit]
    return slot


def _path_sums(
    pred: np.ndarray, targets: np.ndarray, mats: tuple[sparse.csr_matrix, ...]
) -> list[np.ndarray]:
    """(sources, targets) sums of each matrix's values along the tree paths from each source.

    Walks back from every target to its source along ``pred``, all (source, target) pairs at once.
    The matrices share one sparsity pattern (``mode_matrices`` builds them from the same pairs).
    """
    first = mats[0]
    for m in mats[1:]:
        if not (np.array_equal(m.indptr, first.indptr) and np.array_equal(m.indices, first.indices)):
            raise ValueError("path sums need matrices with one sparsity pattern")
    rows = np.broadcast_to(np.arange(pred.shape[0])[:, None], (pred.shape[0], len(targets))).ravel()
    cur = np.broadcast_to(targets[None, :], (pred.shape[0], len(targets))).ravel().copy()
    sums = [np.zeros(cur.shape) for _ in mats]
    walkers = np.arange(len(cur))
    parent = pred[rows, cur]
    while len(walkers):
        live = parent >= 0
        walkers, parent = walkers[live], parent[live]
        if not len(walkers):
            break
        slot = _edge_slots(first, parent, cur[walkers])
        if (slot < 0).any():
            raise ValueError("a predecessor edge is missing from the matrices")
        for total, m in zip(sums, mats, strict=True):
            total[walkers] += m.data[slot]
        cur[walkers] = parent
        parent = pred[rows[walkers], parent]
    return [total.reshape(pred.shape[0], len(targets)) for total in sums]


def _from_sources(
    times: sparse.csr_matrix,
    lengths: sparse.csr_matrix,
    money: sparse.csr_matrix,
    sources: np.ndarray,
    targets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sources, targets) time, km and money along the fastest directed paths from each source."""
    dist, pred = dijkstra(times, directed=True, indices=sources, return_predecessors=True)
    km, cost = _path_sums(pred, targets, (lengths, money))
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
