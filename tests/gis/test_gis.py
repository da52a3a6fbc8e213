"""townsim gis: GeoParquet / GeoPackage / GeoJSON layers of a run folder, in the scenario's CRS."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer

from sim.cli import main
from sim.gis.layers import LOCAL_CRS
from sim.scenario.load import load_scenario
from tests.conftest import SCENARIOS, TINY_MERGED


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gis") / "run"
    assert main(["run", str(TINY_MERGED), "--days", "14", "--out", str(out), "--quiet"]) == 0
    return out


def test_layers_in_every_format(run: Path) -> None:
    assert main(["gis", str(run), "--format", "parquet,gpkg,geojson"]) == 0
    gis = run / "gis"
    meta = json.loads((gis / "gis.json").read_text(encoding="utf-8"))
    crs = LOCAL_CRS.format(lat=25.5, lon=119.75)  # tiny has no crs: the documented local plane
    assert meta["crs"] == crs
    places = pd.read_parquet(run / "places.parquet")
    villages = gpd.read_parquet(gis / "villages.parquet")
    assert villages.crs == gpd.GeoSeries([], crs=crs).crs
    want = places[places["kind"] == "village"].set_index("id")
    got = villages.set_index("id").loc[want.index]
    np.testing.assert_allclose(got.geometry.x, want["x_km"] * 1000)
    np.testing.assert_allclose(got.geometry.y, want["y_km"] * 1000)
    # per-village results, recomputed from residents.parquet
    res = pd.read_parquet(run / "residents.parquet")
    for vid, rows in res.groupby("village", observed=True):
        errands = (rows["errands_completed"] * rows["weight"]).sum()
        burden = (rows["burden_min_total"] * rows["weight"]).sum()
        assert got.loc[vid, "residents"] == pytest.approx(rows["weight"].sum())
        assert got.loc[vid, "burden_min_per_errand"] == pytest.approx(burden / errands)
    edges = gpd.read_parquet(gis / "edges.parquet")
    assert len(edges) == len(pd.read_parquet(run / "edges.parquet"))
    assert (edges.geom_type == "LineString").all()
    layers = {name for name, _ in pyogrio.list_layers(gis / "townsim.gpkg")}
    assert layers == {"villages", "facilities", "seats", "edges"}
    facilities = gpd.read_file(gis / "townsim.gpkg", layer="facilities")
    assert facilities["arrivals_per_day"].notna().any()
    geojson = gpd.read_file(gis / "villages.geojson").set_index("id").loc[want.index]
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        want["x_km"] * 1000, want["y_km"] * 1000
    )
    np.testing.assert_allclose(geojson.geometry.x, lon, atol=1e-7)
    np.testing.assert_allclose(geojson.geometry.y, lat, atol=1e-7)


def test_refuses_a_folder_it_did_not_write(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    assert main(["gis", str(run), "--out", str(mine)]) == 2
    assert "not written by townsim" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep"
    assert main(["gis", str(run), "--out", str(tmp_path / "g"), "--format", "shp"]) == 2
    assert not (tmp_path / "g").exists()


@pytest.fixture(scope="module")
def bus_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pingtan with its bus lines and ferries (real outline), 2 days of a 5% sample, no warm-up."""
    folder = tmp_path_factory.mktemp("gis_buses")
    quick = folder / "quick.yaml"
    quick.write_text("simulation: {warmup_days: 0, sample_fraction: 0.05}\n", encoding="utf-8")
    out = folder / "run"
    buses = SCENARIOS / "pingtan" / "merged_2021_buses.yaml"
    args = ["run", str(buses), "--overlay", str(quick), "--days", "2", "--out", str(out), "--quiet"]
    assert main(args) == 0
    return out


def test_lines_and_land_layers(bus_run: Path) -> None:
    assert main(["gis", str(bus_run), "--format", "parquet,gpkg,geojson"]) == 0
    gis = bus_run / "gis"
    scenario = load_scenario(SCENARIOS / "pingtan" / "merged_2021_buses.yaml").scenario
    crs = gpd.GeoSeries([], crs=scenario.crs).crs
    assert scenario.transit is not None
    assert {name for name, _ in pyogrio.list_layers(gis / "townsim.gpkg")} == {
        "villages",
        "facilities",
        "seats",
        "edges",
        "lines",
        "land",
    }
    for name in ("villages", "facilities", "seats", "edges", "lines", "land"):
        assert gpd.read_parquet(gis / f"{name}.parquet").crs == crs, name
        assert gpd.read_file(gis / "townsim.gpkg", layer=name).crs == crs, name
        assert gpd.read_file(gis / f"{name}.geojson").crs == "EPSG:4326", name
    lines = gpd.read_parquet(gis / "lines.parquet").set_index("id")
    assert set(lines.index) == set(scenario.transit.lines)
    assert (lines.geom_type == "LineString").all()
    places = pd.read_parquet(bus_run / "places.parquet").set_index("id")
    for lid, line in scenario.transit.lines.items():
        row = lines.loc[lid]
        assert row["mode"] == line.kind and row["en"] == line.en
        assert row["departures_per_day"] == len(line.departure_min())
        every = line.headway.every_min if line.headway else np.nan
        np.testing.assert_equal(row["headway_min"], every)
        coords = np.asarray(row.geometry.coords) / 1000.0
        first, last = places.loc[str(line.stops[0])], places.loc[str(line.stops[-1])]
        np.testing.assert_allclose(coords[0], first[["x_km", "y_km"]].to_numpy(float), atol=1e-9)
        np.testing.assert_allclose(coords[-1], last[["x_km", "y_km"]].to_numpy(float), atol=1e-9)
        if line.along_road:  # follows the roads: at least the straight line between its stops
            stops = np.array([places.loc[str(s), ["x_km", "y_km"]].to_numpy(float) for s in line.stops])
            assert row["length_km"] >= np.hypot(*np.diff(stops, axis=0).T).sum() - 1e-9
    loads = pd.read_parquet(bus_run / "line_loads.parquet")
    boardings = loads.groupby("line", observed=True)["boardings"].sum()
    np.testing.assert_allclose(lines.loc[boardings.index, "boardings_per_day"], boardings / 2)
    land = gpd.read_parquet(gis / "land.parquet")
    villages = gpd.read_parquet(gis / "villages.parquet")
    assert villages.within(land.union_all()).all()
