"""Geometry for a run folder's tables: villages (with their results), facilities (with their
loads), seats and network edges, as GeoDataFrames in the scenario's CRS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.errors import SimError
from sim.world.outline import LOCAL_PLANE

__all__ = ["LOCAL_CRS", "layer_crs", "run_layers"]

FACILITY_KINDS = ("school", "clinic", "hall", "service_point")
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


def run_layers(run: Path) -> tuple[dict[str, Any], str, str]:
    """Layers ``villages``, ``facilities``, ``seats``, ``edges`` of a run folder, their CRS and how
    the CRS was chosen."""
    import geopandas as gpd
    from shapely import linestrings

    scenario_file = run / "scenario.yaml"
    if not scenario_file.is_file():
        raise SimError(f"{run}: not a run folder (no scenario.yaml)")
    crs, how = layer_crs(yaml.safe_load(scenario_file.read_text(encoding="utf-8")) or {})
    places = _read(run, "places")
    pts = gpd.points_from_xy(places["x_km"] * 1000.0, places["y_km"] * 1000.0)
    places = gpd.GeoDataFrame(places, geometry=pts, crs=crs)
    kind = places["kind"].astype(str)
    villages = places[kind == "village"].merge(_village_results(run), on="id", how="left")
    facilities = places[kind.isin(FACILITY_KINDS)].merge(_facility_results(run), on="id", how="left")
    seats = places[kind == "seat"]
    edges = _read(run, "edges")
    xy = (
        np.stack([edges[["x0_km", "y0_km"]].to_numpy(), edges[["x1_km", "y1_km"]].to_numpy()], axis=1)
        * 1000.0
    )
    lines = gpd.GeoDataFrame(
        edges.drop(columns=["x0_km", "y0_km", "x1_km", "y1_km"]), geometry=linestrings(xy), crs=crs
    )
    layers = {
        "villages": gpd.GeoDataFrame(villages, geometry="geometry", crs=crs),
        "facilities": gpd.GeoDataFrame(facilities, geometry="geometry", crs=crs),
        "seats": seats.reset_index(drop=True),
        "edges": lines,
    }
    return layers, crs, how
