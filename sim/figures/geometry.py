"""Map geometry from a run folder: the land (a scenario's outline), former-township outlines
(convex hulls) and transit line paths."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import ConvexHull, QhullError

from sim.world.bends import edge_polylines

__all__ = ["land_rings", "line_paths", "township_hulls"]

_HULL_PAD_KM = 0.4  # outlines drawn this far outside the outermost village (km)


def land_rings(provenance: Mapping[str, Any], scenario: Mapping[str, Any]) -> list[np.ndarray]:
    """Exterior rings (k x 2, km, largest first) of the scenario's ``outline`` (WGS 84 GeoJSON) in
    the plane of its x_km, y_km: its ``crs``, else the local plane of ``transit.origin_latlon``.

    The run records the outline file's path (``provenance.json`` ``outline_file``); no outline, or
    a file no longer there (a run folder moved to another machine), gives no rings.
    """
    from sim.world.outline import outline_rings_km

    path = provenance.get("outline_file")
    if not path or not Path(str(path)).is_file():
        return []
    origin = ((scenario.get("transit") or {}).get("origin_latlon")) or (25.5, 119.75)
    crs = scenario.get("crs")
    return outline_rings_km(
        Path(str(path)), crs=str(crs) if crs else None, origin_latlon=(float(origin[0]), float(origin[1]))
    )


def township_hulls(places: pd.DataFrame) -> dict[str, np.ndarray]:
    """Former township id -> closed outline (k x 2, km): the convex hull of its villages and seat,
    buffered by a little so that edge villages sit inside. A stand-in until real boundaries ship."""
    points = places[places["kind"].isin(["village", "seat"])]
    out: dict[str, np.ndarray] = {}
    for unit, rows in points.groupby(points["former_unit"].astype(str), sort=False):
        xy = rows[["x_km", "y_km"]].to_numpy(float)
        centre = xy.mean(axis=0)
        try:
            ring = xy[ConvexHull(xy).vertices]
        except (QhullError, ValueError):  # fewer than 3 points or all on a line: a small diamond
            ring = centre + np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], float) * 0.8
        offset = ring - centre
        norm = np.hypot(offset[:, 0], offset[:, 1])[:, None]
        ring = ring + offset / np.where(norm > 0, norm, 1) * _HULL_PAD_KM
        out[str(unit)] = np.vstack([ring, ring[:1]])
    return out


def _stop_xy(ref: Any, xy: Mapping[str, np.ndarray]) -> str | np.ndarray | None:
    if isinstance(ref, list | tuple) and len(ref) == 2:
        return np.asarray(ref, float)
    return str(ref) if str(ref) in xy else None


def line_paths(
    transit: Mapping[str, Any] | None, places: pd.DataFrame, edges: pd.DataFrame
) -> dict[str, tuple[str, np.ndarray]]:
    """Line id -> (kind "bus"/"ferry", polyline k x 2 in km) for the scenario's own transit lines.

    Stops are place ids (village, ``seat:<unit>``, facility) or [x, y]; ``along_road`` lines follow
    the shortest road path (rural roads first, as the timetable does; through the bends of roads
    that follow the land), others join their stops straight. Lines from a GTFS feed have no stop
    list in the scenario and are left out.
    """
    lines = (transit or {}).get("lines") or {}
    xy = {str(i): np.array([x, y]) for i, x, y in places[["id", "x_km", "y_km"]].itertuples(index=False)}
    for u, x0, y0, v, x1, y1 in edges[["u", "x0_km", "y0_km", "v", "x1_km", "y1_km"]].itertuples(index=False):
        xy.setdefault(str(u), np.array([x0, y0]))
        xy.setdefault(str(v), np.array([x1, y1]))
    roads = edges[edges["road_class"].astype(str) != "ferry"]
    ends = zip(roads["u"].astype(str), roads["v"].astype(str), edge_polylines(roads), strict=True)
    shape = {  # (u, v) -> the edge's polyline from u to v (edges that follow the land bend)
        key: poly for u, v, poly in ends for key, poly in (((u, v), poly), ((v, u), poly[::-1]))
    }
    graph = nx.Graph()
    graph.add_weighted_edges_from(
        zip(roads["u"].astype(str), roads["v"].astype(str), roads["length_km"].astype(float), strict=True),
        weight="length_km",
    )
    rural = graph.edge_subgraph(
        [
            (str(u), str(v))
            for u, v, c in roads[["u", "v", "road_class"]].itertuples(index=False)
            if c != "trunk"
        ]
    )
    out: dict[str, tuple[str, np.ndarray]] = {}
    for lid, line in lines.items():
        if not isinstance(line, Mapping):
            continue
        found = [_stop_xy(s, xy) for s in line.get("stops") or []]
        stops = [s for s in found if s is not None]
        if len(stops) < 2 or len(stops) < len(found):
            continue
        kind = str(line.get("kind", "bus"))
        points: list[np.ndarray] = []
        for a, b in itertools.pairwise(stops):
            pa = xy[a] if isinstance(a, str) else a
            pb = xy[b] if isinstance(b, str) else b
            path = None
            if line.get("along_road") and isinstance(a, str) and isinstance(b, str) and kind == "bus":
                for g in (rural, graph):
                    try:
                        path = nx.shortest_path(g, a, b, weight="length_km")
                        break
                    except (nx.NetworkXNoPath, nx.NodeNotFound):
                        continue
            segment = [pa, pb]
            if path:
                segment = [xy[path[0]]]
                for n0, n1 in itertools.pairwise(path):
                    segment.extend(shape.get((n0, n1), np.array([xy[n0], xy[n1]]))[1:])
            points.extend(segment if not points else segment[1:])
        out[str(lid)] = (kind, np.asarray(points, float))
    return out
