"""Write GIS layers atomically: GeoParquet always, GeoPackage (one file, a layer each) and GeoJSON
(one file per layer, WGS 84 as RFC 7946 requires) on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.errors import SimError
from sim.gis.layers import run_layers

__all__ = ["FORMATS", "MARKER", "export_run"]

FORMATS = ("parquet", "gpkg", "geojson")
MARKER = "gis.json"
KIND = "gis"


def _write(layers: dict[str, Any], folder: Path, formats: tuple[str, ...]) -> list[str]:
    written = []
    for name, gdf in layers.items():
        gdf = gdf.copy()
        for col in gdf.columns:  # pandas string/categorical columns as plain text for every driver
            if col != "geometry" and (
                str(gdf[col].dtype) in ("category", "string", "str") or gdf[col].dtype == object
            ):
                gdf[col] = gdf[col].astype(object).where(gdf[col].notna(), None)
        if "parquet" in formats:
            gdf.to_parquet(folder / f"{name}.parquet")
            written.append(f"{name}.parquet")
        if "gpkg" in formats:
            gdf.to_file(folder / "townsim.gpkg", layer=name, driver="GPKG")
        if "geojson" in formats:
            gdf.to_crs("EPSG:4326").to_file(folder / f"{name}.geojson", driver="GeoJSON")
            written.append(f"{name}.geojson")
    if "gpkg" in formats:
        written.append("townsim.gpkg")
    return written


def export_run(run: Path, out: Path | None = None, formats: tuple[str, ...] = ("parquet",)) -> Path:
    """GIS layers of ``run`` into ``out`` (default ``RUN/gis``) by the ownership rule (:mod:`sim.ownership`).

    Raises:
        SimError: not a run folder, an unknown format, or ``out`` is not an unchanged GIS folder
            townsim wrote.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise SimError(f"unknown GIS format {bad[0]!r}; expected some of {', '.join(FORMATS)}")
    run = Path(run)
    out = Path(out) if out is not None else run / "gis"
    from sim.ownership import check_replaceable, write_dir_owned

    check_replaceable(out, KIND)  # before the work; again under the lock when writing
    layers, crs, how, info = run_layers(run)

    def fill(tmp: Path) -> None:
        files = _write(layers, tmp, formats)
        meta = {
            "run": str(run),
            "crs": crs,
            "crs_from": how,
            "files": files,
            "layers": {k: len(v) for k, v in layers.items()},
            **info,
        }
        (tmp / MARKER).write_text(json.dumps(meta, indent=2), encoding="utf-8")

    return write_dir_owned(out, KIND, fill)
