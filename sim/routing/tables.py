"""Uncongested road travel-time tables: village x facility per mode (scipy csgraph Dijkstra)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from sim.scenario.schema import Mode
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


def _in_edges(csr: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Each node's in-edges, padded to the largest in-degree: (nodes, K) tail node and position in
    ``csr.data`` (-1 where a node has fewer than K)."""
    n = csr.shape[0]
    tail = np.repeat(np.arange(n), np.diff(csr.indptr))
    head = csr.indices
    order = np.argsort(head, kind="stable")
    counts = np.bincount(head, minlength=n)
    k = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    width = int(counts.max(initial=0))
    parent = np.full((n, width), -1, dtype=np.int64)
    slot = np.full((n, width), -1, dtype=np.int64)
    parent[head[order], k] = tail[order]
    slot[head[order], k] = order
    return parent, slot


def _path_sums(
    pred: np.ndarray, targets: np.ndarray, mats: tuple[sparse.csr_matrix, ...]
) -> list[np.ndarray]:
    """(sources, targets) sums of each matrix's values along the tree paths from each source.

    Every node's edge from its predecessor is looked up once (in-edges, all nodes at once); then
    walkers step back from every target to its source, all (source, target) pairs at once, adding
    each hop's value in the order target -> source (a walker at its root adds 0 and stays).
    The matrices share one sparsity pattern (``mode_matrices`` builds them from the same pairs).
    """
    first = mats[0]
    for m in mats[1:]:
        if not (np.array_equal(m.indptr, first.indptr) and np.array_equal(m.indices, first.indices)):
            raise ValueError("path sums need matrices with one sparsity pattern")
    n_src, n = pred.shape
    in_parent, in_slot = _in_edges(first)
    has = pred >= 0
    slot = np.full(pred.shape, -1, dtype=np.int64)
    for k in range(in_parent.shape[1]):
        match = in_parent[:, k][None, :] == pred
        slot[match] = np.broadcast_to(in_slot[:, k], pred.shape)[match]
    if (slot[has] < 0).any():
        raise ValueError("a predecessor edge is missing from the matrices")
    offset = (np.arange(n_src, dtype=np.int64) * n)[:, None]
    step = (np.where(has, pred, np.arange(n)[None, :]) + offset).ravel()  # flat index of the parent
    values = [np.where(has, m.data[slot], 0.0).ravel() for m in mats]
    cur = (targets[None, :] + offset).ravel()
    sums = [np.zeros(cur.shape) for _ in mats]
    while True:
        for _ in range(16):
            for total, value in zip(sums, values, strict=True):
                total += value[cur]
            cur = step[cur]
        if np.array_equal(step[cur], cur):
            break
    return [total.reshape(n_src, len(targets)) for total in sums]


def _from_sources(
    times: sparse.csr_matrix,
    lengths: sparse.csr_matrix,
    money: sparse.csr_matrix,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    chunk: int = 16,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sources, targets) time, km and money along the fastest directed paths from each source
    (``chunk`` sources at a time, to bound memory)."""
    parts = []
    for lo in range(0, len(sources), chunk):
        dist, pred = dijkstra(
            times, directed=True, indices=sources[lo : lo + chunk], return_predecessors=True
        )
        km, cost = _path_sums(pred, targets, (lengths, money))
        parts.append((dist[:, targets], km, cost))
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def build_travel_tables(world: World, modes: Mapping[str, Mode]) -> TravelTables:
    """Fastest paths between every village and every facility node, per mode (the scenario's
    ``modes``, in order), both ways.

    The network is directed (one-way streets; pedestrians, mode ``walk``, may walk both ways) and may
    hold parallel edges (the fastest counts).
    Values are the mean of the way there (village -> facility) and the way back, so a round trip is
    exactly twice the table value; the two differ only where one-way streets force a detour.
    """
    sources = np.unique(world.fac_node)
    col = np.searchsorted(sources, world.fac_node)
    names = list(modes)
    shape = (len(names), len(world.village_ids), len(world.fac_ids))
    time_min = np.empty(shape)
    distance_km = np.empty(shape)
    money_yuan = np.empty(shape)
    v = world.village_node
    for m, name in enumerate(names):
        mode = modes[name]
        edges = world.edges.subset(slice(None), two_way=True) if name == WALK else world.edges
        mats = mode_matrices(edges, len(world.nodes), mode)
        back = _from_sources(*mats, sources, v)  # facility -> village
        symmetric = (mats[0] != mats[0].T).nnz == 0
        if symmetric:
            there = back
        else:  # village -> facility: from each facility along the reversed edges
            rt, rk, rm = (m.T.tocsr() for m in mats)
            there = _from_sources(rt, rk, rm, sources, v)
        t, km, money = ((a[col].T + b[col].T) / 2.0 for a, b in zip(there, back, strict=True))
        reachable = np.isfinite(t)
        time_min[m] = t + mode.access_min
        distance_km[m] = np.where(reachable, km, np.inf)
        money_yuan[m] = np.where(reachable, money, np.inf)
    return TravelTables(modes=names, time_min=time_min, distance_km=distance_km, money_yuan=money_yuan)
