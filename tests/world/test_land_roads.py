"""Generated roads stay on land when the scenario has an outline: checked with shapely geometry
and against a brute-force shortest path on a land raster, independent of sim.world.land."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from shapely.geometry import Polygon, box

from sim.scenario.load import load_scenario
from sim.scenario.schema import RoadGenerate
from sim.world.land import Land
from sim.world.network import generated_roads
from sim.world.outline import outline_rings_km
from sim.world.world import build_world
from tests.conftest import ROOT

MERGED = ROOT / "scenarios" / "pingtan" / "merged_2021.yaml"
TOLERANCE_KM = 0.3  # RoadGenerate.max_water_km, Pingtan's value


@pytest.fixture(scope="module")
def world():
    return build_world(load_scenario(MERGED))


@pytest.fixture(scope="module")
def land() -> shapely.Geometry:
    """Pingtan's land from the outline's exterior rings (no holes in it), by plain shapely."""
    return shapely.union_all([Polygon(r) for r in outline_rings_km()])


def _polylines(world) -> list[np.ndarray]:
    e, xy = world.edges, world.node_xy
    return [
        np.vstack([xy[u], np.empty((0, 2)) if b is None else b, xy[v]])
        for u, v, b in zip(e.u, e.v, e.bends, strict=True)
    ]


def _water_km(lines: list[np.ndarray], land: shapely.Geometry) -> np.ndarray:
    geoms = np.array([shapely.LineString(line) for line in lines], dtype=object)
    return shapely.length(geoms) - shapely.length(shapely.intersection(geoms, land))


def test_no_generated_road_crosses_the_sea(world, land) -> None:
    road = ~world.edges.is_ferry
    water = _water_km([p for p, r in zip(_polylines(world), road, strict=True) if r], land)
    assert len(water) > 500
    assert water.max() <= TOLERANCE_KM + 1e-9, f"{(water > TOLERANCE_KM).sum()} roads over water"
    # the same check catches the straight-line network of before (34 edges over 0.2 km of sea)
    loaded = load_scenario(MERGED)
    sc = loaded.scenario
    where = {f"seat:{u}": (*unit.seat, unit.island) for u, unit in sc.units.items()}
    where |= {v.id: (v.x_km, v.y_km, sc.units[v.unit].island) for v in sc.villages}
    assert sc.roads.generate is not None
    straight = generated_roads(
        where, params=sc.roads.generate, seats=[k for k in where if k.startswith("seat:")]
    )
    ends = [np.array([where[a][:2], where[b][:2]]) for a, b in zip(straight.u, straight.v, strict=True)]
    assert (_water_km(ends, land) > TOLERANCE_KM).sum() > 20


def test_every_island_stays_connected_by_road(world) -> None:
    e, n = world.edges, len(world.nodes)
    road = ~e.is_ferry
    graph = sparse.coo_matrix((np.ones(road.sum()), (e.u[road], e.v[road])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    sc = load_scenario(MERGED).scenario
    island = {f"seat:{u}": unit.island for u, unit in sc.units.items()}
    island |= {v.id: sc.units[v.unit].island for v in sc.villages}
    groups: dict[str, set[int]] = {}
    for node, i in world.node_index.items():
        groups.setdefault(island[node], set()).add(int(label[i]))
    assert len(groups) == 5 and all(len(parts) == 1 for parts in groups.values()), groups
    assert len({next(iter(p)) for p in groups.values()}) == 5, "no road joins two islands"


def _shifted(ids: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """ids[r + dy, c + dx] at every (r, c); -1 outside the raster."""
    out = -np.ones_like(ids)
    h, w = ids.shape
    out[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)] = ids[
        max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)
    ]
    return out


def _raster_km(polygon: Polygon, a: np.ndarray, b: np.ndarray, cell: float = 0.1) -> float:
    """Brute force: shortest 16-neighbour path between the land cells nearest a and b on a raster
    of the polygon (cells whose centre is on land; a knight move needs both cells it passes
    between on land), plus the two snaps."""
    x0, y0, x1, y1 = polygon.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1 + cell, cell), np.arange(y0, y1 + cell, cell))
    on = shapely.contains_xy(polygon, gx, gy)
    ids = -np.ones(on.shape, dtype=np.int64)
    ids[on] = np.arange(on.sum())
    passes = {(1, 2): [(0, 1), (1, 1)], (2, 1): [(1, 0), (1, 1)], (2, -1): [(1, 0), (1, -1)]}
    passes |= {(1, -2): [(0, -1), (1, -1)], (0, 1): [], (1, 0): [], (1, 1): [], (1, -1): []}
    rows, cols, km = [], [], []
    for (dy, dx), between in passes.items():
        dst = _shifted(ids, dy, dx)
        ok = (ids >= 0) & (dst >= 0)
        for my, mx in between:
            ok &= _shifted(ids, my, mx) >= 0
        rows.append(ids[ok])
        cols.append(dst[ok])
        km.append(np.full(ok.sum(), cell * np.hypot(dx, dy)))
    n = int(on.sum())
    graph = sparse.coo_matrix(
        (np.concatenate(km), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    land_xy = np.column_stack([gx[on], gy[on]])
    ia = int(np.argmin(np.hypot(*(land_xy - a).T)))
    ib = int(np.argmin(np.hypot(*(land_xy - b).T)))
    dist = dijkstra(graph.tocsr(), directed=False, indices=ia)[ib]
    return float(dist + np.hypot(*(land_xy[ia] - a)) + np.hypot(*(land_xy[ib] - b)))


def test_routed_roads_follow_the_shortest_land_path(world, land) -> None:
    e, xy = world.edges, world.node_xy
    routed = [i for i in range(len(e)) if e.bends[i] is not None]
    assert routed, "Pingtan's bays need roads around them"
    main = Polygon(outline_rings_km()[0])
    detour = 1.4
    checked = 0
    for i, line in zip(routed, (_polylines(world)[i] for i in routed), strict=True):
        km = float(np.hypot(*np.diff(line, axis=0).T).sum())
        straight = float(np.hypot(*(xy[e.u[i]] - xy[e.v[i]])))
        assert e.length_km[i] == pytest.approx(km * detour)
        assert km > straight, "a path around the sea is longer than the straight line"
        assert _water_km([line], land)[0] < 0.02, "the path itself is on land (touching the coast)"
        if main.covers(shapely.points(xy[e.u[i]])) and checked < 4:
            grid = _raster_km(main, xy[e.u[i]], xy[e.v[i]])
            # the raster path is a land path too, so never much shorter; 16 neighbours overestimate
            # a free direction by at most 2.7 %, plus the 100 m cells at the ends and in narrows
            assert grid / 1.03 - 0.3 <= km <= grid + 0.3, (i, km, grid)
            checked += 1
    assert checked >= 2


def test_a_bay_is_driven_around_and_a_short_strait_bridged() -> None:
    """U-shaped land: a 2 km wide, 8 km deep bay; its shortest way round is exact."""
    u_land = Land((box(0, 0, 10, 10).difference(box(4, 2, 6, 10.5)),))
    params = RoadGenerate(detour_factor=1.5)
    nodes = {"w": (2.0, 8.0, "i"), "e": (8.0, 8.0, "i")}
    roads = generated_roads(nodes, params=params, seats=[], land=u_land)
    exact = 2 * np.hypot(2.0, 6.0) + 2.0  # (2, 8) -> (4, 2) -> (6, 2) -> (8, 8)
    assert roads.length_km == pytest.approx([exact * 1.5])
    assert roads.u == ["e"] and np.allclose(roads.bends[0], [[6, 2], [4, 2]])  # from e to w
    # with more places the bay edge is dropped: the bottom of the U connects them on land
    nodes |= {"sw": (2.0, 1.0, "i"), "se": (8.0, 1.0, "i")}
    roads = generated_roads(nodes, params=params, seats=[], land=u_land)
    pairs = {frozenset(p) for p in zip(roads.u, roads.v, strict=True)}
    assert frozenset(("w", "e")) not in pairs and not roads.bends
    # a 0.2 km strait is within max_water_km (a bridge): the straight road stays
    narrow = Land((box(0, 0, 10, 10).difference(box(4.9, 2, 5.1, 10.5)),))
    roads = generated_roads(
        {"w": (2.0, 8.0, "i"), "e": (8.0, 8.0, "i")}, params=params, seats=[], land=narrow
    )
    assert roads.length_km == pytest.approx([6.0 * 1.5]) and not roads.bends
    # without an outline nothing changes: the straight line across the bay
    roads = generated_roads({"w": (2.0, 8.0, "i"), "e": (8.0, 8.0, "i")}, params=params, seats=[])
    assert roads.length_km == pytest.approx([6.0 * 1.5])


def test_same_scenario_same_roads(world) -> None:
    again = build_world(load_scenario(MERGED))
    for name in ("u", "v", "length_km", "road_class"):
        assert np.array_equal(getattr(world.edges, name), getattr(again.edges, name))
    for a, b in zip(world.edges.bends, again.edges.bends, strict=True):
        assert (a is None and b is None) or np.array_equal(a, b)


def test_land_paths_match_a_raster_shortest_path() -> None:
    """Across 海坛湾 (流水 seat to 澳前 seat) and between seeded random points of the main island."""
    polygon = Polygon(outline_rings_km()[0])
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = polygon.bounds
    points = rng.uniform([x0, y0], [x1, y1], size=(400, 2))
    points = points[shapely.contains_xy(polygon.buffer(-0.3), points[:, 0], points[:, 1])]
    starts = np.vstack([[7.496, 7.003], points[:5]])
    ends = np.vstack([[8.004, -2.601], points[5:10]])
    paths = Land((polygon,)).paths(0, starts, ends)
    for a, b, path in zip(starts, ends, paths, strict=True):
        assert path is not None and np.allclose(path[0], a) and np.allclose(path[-1], b)
        km = float(np.hypot(*np.diff(path, axis=0).T).sum())
        assert km >= float(np.hypot(*(a - b))) - 1e-9
        assert polygon.buffer(0.011).covers(shapely.LineString(path))
        grid = _raster_km(polygon, a, b)
        assert grid / 1.03 - 0.3 <= km <= grid + 0.3, (a, b, km, grid)
