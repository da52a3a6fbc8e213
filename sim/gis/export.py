"""Write GIS layers atomically: GeoParquet always, GeoPackage (one file, a layer each) and GeoJSON
(one file per layer, WGS 84 as RFC 7946 requires) on request."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sim.errors import SimError
from sim.gis.layers import run_layers

__all__ = ["FORMATS", "MARKER", "export_run"]

FORMATS = ("parquet", "gpkg", "geojson")
MARKER = "gis.json"


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
    """GIS layers of ``run`` into ``out`` (default ``RUN/gis``), replacing only a folder this wrote.

    Raises:
        SimError: not a run folder, an unknown format, or ``out`` is someone else's folder.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise SimError(f"unknown GIS format {bad[0]!r}; expected some of {', '.join(FORMATS)}")
    run = Path(run)
    out = Path(out) if out is not None else run / "gis"
    if out.exists() and not (out / MARKER).is_file():
        raise SimError(f"{out}: exists and was not written by townsim gis; choose a new path")
    layers, crs, how = run_layers(run)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files = _write(layers, tmp, formats)
        meta = {
            "run": str(run),
            "crs": crs,
            "crs_from": how,
            "files": files,
            "layers": {k: len(v) for k, v in layers.items()},
        }
        (tmp / MARKER).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        from sim.results.io import replace_dir

        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
