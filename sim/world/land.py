"""Land for generated roads (km plane of the scenario): how much of a straight segment lies off
the outline, and the shortest path between two points that stays on land.

The shortest path inside a polygon is a polyline whose corners are reflex corners of its rings
(where the land bends inwards, a headland seen from the path), so the exact path is a shortest
path on the visibility graph of those corners plus the two ends (Lozano-Pérez & Wesley 1979).
A segment counts as on land when the polygon grown by ``TOUCH_KM`` covers it (paths may run
along the coast).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Polygon

__all__ = ["TOUCH_KM", "Land"]

TOUCH_KM = 0.01  # a path may touch the coast: segments within 10 m of land count as on land


def _reflex_corners(ring: np.ndarray, *, land_inside: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corners of a closed ring (first point repeated at the end) where land turns inwards, with
    the ring points before and after each: three (k, 2) arrays.

    ``land_inside``: the land is inside the ring (an exterior ring), else outside it (a hole).
    """
    pts = ring[:-1]
    prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
    cross = _cross(prev, pts, nxt)
    ccw = shapely.LinearRing(ring).is_ccw
    # walking an exterior ring counter-clockwise, land is on the left: reflex corners turn right
    turns_right = cross < 0 if ccw else cross > 0
    pick = turns_right if land_inside else (cross != 0) & ~turns_right
    return pts[pick], prev[pick], nxt[pick]


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """z of (a - o) x (b - a) per row: > 0 where o -> a -> b turns left."""
    return (a[:, 0] - o[:, 0]) * (b[:, 1] - a[:, 1]) - (a[:, 1] - o[:, 1]) * (b[:, 0] - a[:, 0])


def _tangent(q: np.ndarray, corner: np.ndarray, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """Whether the line q -> corner leaves both ring neighbours of the corner on one side (a
    shortest path only bends at a corner it touches like this)."""
    d = corner - q
    side_p = d[:, 0] * (prev[:, 1] - q[:, 1]) - d[:, 1] * (prev[:, 0] - q[:, 0])
    side_n = d[:, 0] * (nxt[:, 1] - q[:, 1]) - d[:, 1] * (nxt[:, 0] - q[:, 0])
    return side_p * side_n >= 0


@dataclass(frozen=True)
class _Island:
    """One land polygon with its reflex corners and their mutual visibility (built once)."""

    polygon: Polygon
    reach: Polygon = field(init=False)  # the polygon grown by TOUCH_KM, prepared
    corners: np.ndarray = field(init=False)  # (k, 2) km
    neighbours: tuple[np.ndarray, np.ndarray] = field(init=False)  # ring points before, after each
    seen: sparse.csr_matrix = field(init=False)  # (k, k) km between corners that see each other

    def __post_init__(self) -> None:
        reach = self.polygon.buffer(TOUCH_KM)
        shapely.prepare(reach)
        rings = [(np.asarray(self.polygon.exterior.coords), True)]
        rings += [(np.asarray(r.coords), False) for r in self.polygon.interiors]
        parts = [_reflex_corners(r, land_inside=inside) for r, inside in rings]
        corners, prev, nxt = (np.concatenate([p[n] for p in parts]).reshape(-1, 2) for n in range(3))
        i, j = np.triu_indices(len(corners), 1)
        # only segments tangent at both corners can be part of a shortest path
        bitangent = _tangent(corners[i], corners[j], prev[j], nxt[j]) & _tangent(
            corners[j], corners[i], prev[i], nxt[i]
        )
        i, j = i[bitangent], j[bitangent]
        see = shapely.covers(reach, shapely.linestrings(np.stack([corners[i], corners[j]], axis=1)))
        i, j = i[see], j[see]
        km = np.hypot(*(corners[i] - corners[j]).T)
        seen = sparse.coo_matrix((km, (i, j)), shape=(len(corners),) * 2).tocsr()
        object.__setattr__(self, "reach", reach)
        object.__setattr__(self, "corners", corners)
        object.__setattr__(self, "neighbours", (prev, nxt))
        object.__setattr__(self, "seen", seen)

    def paths(self, starts: np.ndarray, ends: np.ndarray) -> list[np.ndarray | None]:
        """Shortest polyline on land from each start to its end ((n, 2) km each; None when the ends
        are not joined on this polygon): the ends and the corners of the visibility graph."""
        points, where = np.unique(np.concatenate([starts, ends]), axis=0, return_inverse=True)
        where = where.reshape(-1)
        k, m = len(self.corners), len(points)
        allp = np.concatenate([self.corners, points])
        # every end to every corner it touches tangentially, and to every other end
        a = np.repeat(np.arange(k, k + m), k + m)
        b = np.tile(np.arange(k + m), m)
        keep = a != b
        to = np.flatnonzero(b < k)
        prev, nxt = self.neighbours
        keep[to] &= _tangent(allp[a[to]], allp[b[to]], prev[b[to]], nxt[b[to]])
        a, b = a[keep], b[keep]
        see = shapely.covers(self.reach, shapely.linestrings(np.stack([allp[a], allp[b]], axis=1)))
        a, b = a[see], b[see]
        graph = sparse.block_diag([self.seen, sparse.csr_matrix((m, m))]).tocsr()
        graph = graph + sparse.coo_matrix((np.hypot(*(allp[a] - allp[b]).T), (a, b)), shape=graph.shape)
        sources = np.unique(k + where[: len(starts)])
        dist, pred = dijkstra(graph, directed=False, indices=sources, return_predecessors=True)
        row = {int(s): r for r, s in enumerate(sources)}
        out: list[np.ndarray | None] = []
        for s, e in zip(k + where[: len(starts)], k + where[len(starts) :], strict=True):
            r = row[int(s)]
            if not np.isfinite(dist[r, e]):
                out.append(None)
                continue
            chain = [int(e)]
            while chain[-1] != s:
                chain.append(int(pred[r, chain[-1]]))
            out.append(allp[chain[::-1]])
        return out


@dataclass(frozen=True)
class Land:
    """The land of a scenario's outline, polygons in km (largest first)."""

    polygons: tuple[Polygon, ...]

    @cached_property
    def _union(self) -> shapely.Geometry:
        union = shapely.multipolygons(list(self.polygons))  # an outline's polygons do not overlap
        shapely.prepare(union)
        return union

    @cached_property
    def _reach(self) -> shapely.Geometry:
        reach = self._union.buffer(TOUCH_KM)
        shapely.prepare(reach)
        return reach

    @cached_property
    def _islands(self) -> dict[int, _Island]:
        return {}

    def water_km(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Km of each straight segment start -> end that lies off land ((n, 2) km each; 0 for a
        segment within ``TOUCH_KM`` of land all along)."""
        segments = shapely.linestrings(np.stack([starts, ends], axis=1))
        out = np.zeros(len(segments))
        wet = np.flatnonzero(~shapely.covers(self._reach, segments))
        on_land = shapely.length(shapely.intersection(segments[wet], self._union))
        out[wet] = np.maximum(shapely.length(segments[wet]) - on_land, 0.0)
        return out

    def polygon_of(self, xy: np.ndarray) -> np.ndarray:
        """Index of the polygon holding each point ((n, 2) km), -1 for a point in the sea."""
        out = np.full(len(xy), -1, dtype=np.int64)
        points = shapely.points(xy)
        for i, poly in enumerate(self.polygons):
            free = out < 0
            if not free.any():
                break
            inside = shapely.covers(poly, points[free])
            out[np.flatnonzero(free)[inside]] = i
        return out

    def paths(self, polygon: int, starts: np.ndarray, ends: np.ndarray) -> list[np.ndarray | None]:
        """Shortest polylines on polygon ``polygon`` between each start and end ((n, 2) km each;
        None where the ends are not joined on it). A polyline is never shorter than the straight
        line, and equals it when the segment is on land."""
        if polygon not in self._islands:
            self._islands[polygon] = _Island(self.polygons[polygon])
        return self._islands[polygon].paths(starts, ends)
