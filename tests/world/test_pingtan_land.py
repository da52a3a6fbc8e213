"""Pingtan's villages, seats and facilities lie on the real coastline (outline.geojson), each on the
island of its township, and make_villages.py rewrites villages.csv byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from shapely.geometry import Point, Polygon

from sim.scenario.load import load_scenario
from sim.world.outline import outline_rings_km
from sim.world.world import build_world
from tests.conftest import SCENARIOS

PINGTAN = SCENARIOS / "pingtan"
COAST_KM = 0.1  # villages lie at least this far inside the coastline (make_villages.py keeps 0.15)


def _holding(polygons: list[Polygon], xy: np.ndarray) -> int:
    """Index of the one outline polygon holding the point, or -1."""
    inside = [i for i, p in enumerate(polygons) if p.contains(Point(*xy))]
    assert len(inside) <= 1
    return inside[0] if inside else -1


def test_every_place_is_on_its_townships_island() -> None:
    loaded = load_scenario(PINGTAN / "merged_2021_schools.yaml")
    world = build_world(loaded)
    polygons = [Polygon(r) for r in outline_rings_km()]
    seat_poly = [_holding(polygons, world.node_xy[n]) for n in world.unit_seat_node]
    assert min(seat_poly) >= 0, "every seat on land"
    islands = {}
    for unit, poly in zip(world.unit_ids, seat_poly, strict=True):
        islands.setdefault(loaded.scenario.units[unit].island, set()).add(poly)
    assert all(len(p) == 1 for p in islands.values()), "one outline polygon per island"
    assert len({next(iter(p)) for p in islands.values()}) == 5  # main island and 4 islands apart
    for node, unit in zip(world.village_node, world.village_unit, strict=True):
        xy = world.node_xy[node]
        poly = polygons[seat_poly[unit]]
        assert poly.contains(Point(*xy)), f"{world.nodes[node]} not on the island of its township"
        assert poly.exterior.distance(Point(*xy)) >= COAST_KM, f"{world.nodes[node]} on the shore"
    for node, unit in zip(world.fac_node, world.fac_unit, strict=True):
        assert _holding(polygons, world.node_xy[node]) == seat_poly[unit], world.nodes[node]
    # ferries join an island seat to a node of the main island
    main = next(iter(islands["main"]))
    ferry = world.edges.is_ferry
    for u, v in zip(world.edges.u[ferry], world.edges.v[ferry], strict=True):
        ends = [_holding(polygons, world.node_xy[n]) == main for n in (u, v)]
        assert sorted(ends) == [False, True]


def test_make_villages_rewrites_the_same_bytes(tmp_path: Path) -> None:
    out = tmp_path / "villages.csv"
    subprocess.run(
        [sys.executable, str(PINGTAN / "make_villages.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=PINGTAN.parents[1],
    )
    assert out.read_bytes() == (PINGTAN / "villages.csv").read_bytes()


def test_a_missing_outline_is_named(tmp_path: Path) -> None:
    import pytest
    import yaml

    from sim.errors import ScenarioError

    raw = yaml.safe_load((PINGTAN / "baseline.yaml").read_text(encoding="utf-8"))
    (tmp_path / "villages.csv").write_bytes((PINGTAN / "villages.csv").read_bytes())
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"s\.yaml: field 'outline': expected an existing GeoJSON file"):
        load_scenario(tmp_path / "s.yaml")
