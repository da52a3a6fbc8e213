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
from tests.conftest import TINY_MERGED


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
