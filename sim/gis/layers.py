"""Geometry for a run folder's tables: villages (with their results), facilities (with their
loads), seats, network edges, transit lines (with their timetables and boardings) and the land
(the scenario's outline), as GeoDataFrames in the scenario's CRS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.errors import ScenarioError, SimError
from sim.results.io import read_json
from sim.results.summary_model import load_summary
from sim.scenario.transit import GtfsSource
from sim.world.bends import edge_polylines
from sim.world.outline import LOCAL_PLANE

__all__ = ["LOCAL_CRS", "layer_crs", "run_layers"]

FACILITY_KINDS = ("school", "clinic", "hall", "service_point", "village_clinic", "hospital")
LOCAL_CRS = LOCAL_PLANE  # scenarios without `crs`: transverse Mercator centred on transit.origin_latlon


def layer_crs(scenario: dict[str, Any]) -> tuple[str, str]:
    """(CRS of x_km/y_km in metres, how it was chosen) for a resolved scenario mapping."""
    if scenario.get("crs"):
        return str(scenario["crs"]), "the scenario's crs"
    lat, lon = (scenario.get("transit") or {}).get("origin_latlon", (25.5, 119.75))
    return LOCAL_CRS.format(lat=lat, lon=lon), f"local plane: x = y = 0 km at lat {lat}, lon {lon} (assumed)"


def _read(run: Path, name: str) -> pd.DataFrame:
    path = run / f"{name}.parquet"
    if not path.is_file():
        raise SimError(f"{run}: not a run folder with Parquet tables (no {path.name})")
    return pd.read_parquet(path)


def _village_results(run: Path) -> pd.DataFrame:
    """Per village: residents, completed errands, mean burden per errand and access minutes."""
    res = _read(run, "residents")
    w = res["weight"].to_numpy()
    g = res.assign(
        _w=w,
        _errands=res["errands_completed"] * w,
        _burden=res["burden_min_total"] * w,
    ).groupby("village", observed=True)
    out = pd.DataFrame({"residents": g["_w"].sum(), "errands_completed": g["_errands"].sum()})
    out["burden_min_per_errand"] = g["_burden"].sum() / out["errands_completed"].where(
        out["errands_completed"] > 0
    )
    for col in [c for c in res.columns if c.startswith("access_") and c.endswith("_min")]:
        finite = np.isfinite(res[col].to_numpy())
        sub = res[finite].assign(_v=res.loc[finite, col] * res.loc[finite, "weight"])
        grp = sub.groupby("village", observed=True)
        out[f"mean_{col}"] = grp["_v"].sum() / grp["weight"].sum()
    return out.reset_index().rename(columns={"village": "id"})


def _facility_results(run: Path) -> pd.DataFrame:
    """Per facility: open days, arrivals per open day, mean wait, mean utilisation."""
    days = _read(run, "facility_days")
    g = days.groupby("facility", observed=True)
    out = pd.DataFrame(
        {
            "open_days": g.size(),
            "arrivals_per_day": g["arrivals"].mean(),
            "mean_wait_min": g["mean_wait_min"].mean(),
            "utilisation": g["utilisation"].mean(),
            "turned_away": g["turned_away"].sum(),
        }
    )
    return out.reset_index().rename(columns={"facility": "id"})


def _provenance(run: Path) -> dict[str, Any]:
    """The run's ``provenance.json`` ({} when it has none)."""
    from sim.results.io import read_json

    path = run / "provenance.json"
    return dict(read_json(path)) if path.is_file() else {}


def _land(run: Path, crs: str) -> Any:
    """The scenario's outline (``provenance.json`` ``outline_file``) as one MultiPolygon row in
    ``crs``, or None when the run has no outline or the file is no longer there."""
    import geopandas as gpd

    path = _provenance(run).get("outline_file")
    if not path or not Path(path).is_file():
        return None
    land = gpd.read_file(path).to_crs(crs)
    return land[["geometry"]].assign(source=str(Path(path).name)).reset_index(drop=True)


def _gtfs_source(run: Path, raw: Any) -> GtfsSource:
    """The run's ``transit.gtfs`` block, checked as the scenario loader checks it."""
    from pydantic import ValidationError

    try:
        return GtfsSource.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(["transit", "gtfs", *(str(p) for p in err["loc"])])
        raise ScenarioError(str(run / "scenario.yaml"), field, err["msg"]) from None


def _feed_file(run: Path, meta: dict[str, Any], name: str) -> Path:
    """The GTFS feed a run's timetable came from: ``provenance.json`` ``gtfs_file``, or for runs
    that did not record it, ``transit.gtfs.path`` beside the run's scenario file.

    Raises:
        ScenarioError: the feed is no longer there.
    """
    if meta.get("gtfs_file"):
        path = Path(meta["gtfs_file"])
    else:
        path = Path(meta.get("scenario_file") or run / "scenario.yaml").parent / name
    if not path.exists():
        raise ScenarioError(
            str(path),
            "transit.gtfs.path",
            f"expected the GTFS feed of run {run} here (the lines layer draws its routes from it); "
            "put it back and run townsim gis again",
        )
    return path


def _lines(
    run: Path, scenario: dict[str, Any], places: pd.DataFrame, edges: pd.DataFrame, crs: str
) -> tuple[Any, dict[str, Any]]:
    """The scenario's bus and ferry lines and its GTFS feed's routes as LineStrings (None when it
    has neither), and what ``gis.json`` records about the feed."""
    import geopandas as gpd
    from shapely import linestrings

    from sim.gis.feed_lines import FEED_COLUMNS, feed_lines_table
    from sim.gis.lines import lines_table

    loads_file = run / "line_loads.parquet"
    loads = pd.read_parquet(loads_file) if loads_file.is_file() else None
    summary = run / "summary.json"
    days = load_summary(read_json(summary), str(summary)).days if summary.is_file() else 0
    table, shapes = lines_table(scenario, places, edges, loads, days)
    xy = [s * 1000.0 for s in shapes]
    tables, info = [table], {}
    raw_gtfs = (scenario.get("transit") or {}).get("gtfs")
    if raw_gtfs is not None:
        gtfs = _gtfs_source(run, raw_gtfs)
        path = _feed_file(run, _provenance(run), gtfs.path)
        feed_table, feed_xy, notes = feed_lines_table(
            path,
            gtfs.date,
            crs,
            line_loads=loads,
            days=days,
            fare_default=gtfs.fare_yuan,
            capacity=gtfs.capacity,
            source=f"GTFS feed {path.name}, service date {gtfs.date}",
        )
        tables.append(feed_table)
        xy += feed_xy
        info = {"gtfs_feed": str(path), "gtfs_date": gtfs.date, "gtfs_notes": notes}
    rows = [t for t in tables if len(t)]
    if not rows:
        return None, info
    table = pd.concat(rows, ignore_index=True).reindex(columns=[*table.columns, *FEED_COLUMNS])
    for col in ("direction_id", "route_type", "paths"):  # integers, empty for the scenario's own lines
        table[col] = table[col].astype("Int64")
    for col in ("in_service", "both_directions"):
        table[col] = table[col].astype(bool)
    return gpd.GeoDataFrame(table, geometry=[linestrings(p) for p in xy], crs=crs), info


def run_layers(run: Path) -> tuple[dict[str, Any], str, str, dict[str, Any]]:
    """Layers ``villages``, ``facilities``, ``seats``, ``edges`` and, when the scenario has them,
    ``lines`` and ``land`` of a run folder; their CRS, how the CRS was chosen, and what
    ``gis.json`` records about a GTFS feed (path, date, routes left out)."""
    import geopandas as gpd
    from shapely import linestrings

    scenario_file = run / "scenario.yaml"
    if not scenario_file.is_file():
        raise SimError(f"{run}: not a run folder (no scenario.yaml)")
    scenario = yaml.safe_load(scenario_file.read_text(encoding="utf-8")) or {}
    crs, how = layer_crs(scenario)
    table = _read(run, "places")
    pts = gpd.points_from_xy(table["x_km"] * 1000.0, table["y_km"] * 1000.0)
    places = gpd.GeoDataFrame(table, geometry=pts, crs=crs)
    kind = places["kind"].astype(str)
    villages = places[kind == "village"].merge(_village_results(run), on="id", how="left")
    facilities = places[kind.isin(FACILITY_KINDS)].merge(_facility_results(run), on="id", how="left")
    seats = places[kind == "seat"]
    edges = _read(run, "edges")
    shapes = [linestrings(poly * 1000.0) for poly in edge_polylines(edges)]  # through any bends
    lines = gpd.GeoDataFrame(
        edges.drop(columns=["x0_km", "y0_km", "x1_km", "y1_km", "bends_km"], errors="ignore"),
        geometry=shapes,
        crs=crs,
    )
    layers = {
        "villages": gpd.GeoDataFrame(villages, geometry="geometry", crs=crs),
        "facilities": gpd.GeoDataFrame(facilities, geometry="geometry", crs=crs),
        "seats": seats.reset_index(drop=True),
        "edges": lines,
    }
    line_layer, info = _lines(run, scenario, table, edges, crs)
    for name, layer in (("lines", line_layer), ("land", _land(run, crs))):
        if layer is not None:
            layers[name] = layer
    return layers, crs, how, info
