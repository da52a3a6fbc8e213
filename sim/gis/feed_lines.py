"""Routes of a scenario's GTFS feed for the ``lines`` layer of ``townsim gis``: one LineString per
route and direction (``direction_id``; one per route where the feed leaves it blank), drawn from
shapes.txt where the representative trip has a shape, else through that trip's stops; with the
service date's timetable, fare and the boardings the run counted."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.fields import WEEKDAYS
from sim.scenario.gtfs_feed import day_stop_times, read_feed
from sim.transit.gtfs import route_fares

__all__ = ["FEED_COLUMNS", "MODES", "feed_lines_table"]

#: Columns of feed routes beyond those of the scenario's own lines (``sim.gis.lines.LINE_COLUMNS``).
FEED_COLUMNS = (
    "direction_id",
    "short_name",
    "long_name",
    "headsign",
    "route_type",
    "service_date",
    "paths",
    "fare_from",
)

#: GTFS route_type -> mode (basic types of the reference; extended types by their hundreds).
MODES = {
    0: "tram",
    1: "subway",
    2: "rail",
    3: "bus",
    4: "ferry",
    5: "cable_tram",
    6: "aerial_lift",
    7: "funicular",
    11: "trolleybus",
    12: "monorail",
}
_EXTENDED = {
    1: "rail",
    2: "coach",
    4: "subway",
    7: "bus",
    8: "trolleybus",
    9: "tram",
    10: "ferry",
    12: "ferry",
}
_EXTENDED.update({13: "aerial_lift", 14: "funicular", 15: "taxi"})


def _mode(route_type: Any) -> str:
    """Mode named by a GTFS route_type (``other`` for unknown codes)."""
    try:
        code = int(route_type)
    except (TypeError, ValueError):
        return "other"
    return MODES.get(code) or (_EXTENDED.get(code // 100, "other") if code >= 100 else "other")


def _clock(minute: float) -> str:
    """HH:MM, hours past 24 kept as GTFS writes them (25:10 is 01:10 the next morning)."""
    return f"{int(minute) // 60:02d}:{int(minute) % 60:02d}"


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) or str(value).strip() == "" else str(value)


def _usable_shapes(feed: Any) -> dict[str, np.ndarray]:
    """lon, lat (k x 2) of every shape with at least two points, all within WGS 84 range."""
    shapes = feed.shapes
    if shapes is None or not len(shapes):
        return {}
    shapes = shapes.sort_values(["shape_id", "shape_pt_sequence"], kind="stable")
    out = {}
    for sid, rows in shapes.groupby(shapes["shape_id"].astype(str), sort=False):
        lonlat = rows[["shape_pt_lon", "shape_pt_lat"]].to_numpy(float)
        ok = (
            np.isfinite(lonlat).all()
            and (np.abs(lonlat[:, 0]) <= 180).all()
            and (np.abs(lonlat[:, 1]) <= 90).all()
        )
        if len(lonlat) >= 2 and ok:
            out[str(sid)] = lonlat
    return out


def _trip_stops(feed: Any, trip_ids: set[str], drawable: set[str]) -> dict[str, list[str]]:
    """Stop ids of each trip in ``trip_ids``, in stop_sequence order; trips calling at a stop not in
    ``drawable`` (unknown, or without coordinates; never one running on the service date, which
    the reader checked) are left out."""
    st = feed.stop_times
    st = st[st["trip_id"].astype(str).isin(trip_ids)]
    st = st.assign(_seq=pd.to_numeric(st["stop_sequence"], errors="coerce"), _stop=st["stop_id"].astype(str))
    st = st.sort_values(["trip_id", "_seq"], kind="stable")
    out = {str(t): rows.tolist() for t, rows in st.groupby("trip_id", sort=False)["_stop"]}
    return {t: stops for t, stops in out.items() if drawable.issuperset(stops)}


def _representative(
    trips: pd.DataFrame, runs: Counter[str], shapes: dict[str, np.ndarray], stops_of: dict[str, list[str]]
) -> tuple[str, str | None, int]:
    """(trip id, its shape id or None, number of distinct paths) of a route direction's most common
    path: its shape where the trip has a usable one, else its stop sequence; paths weighted by the
    runs on the service date (all of the direction's trips once each when none runs); ties go to
    the smallest trip id."""
    weight: Counter[tuple[str, ...]] = Counter()
    first: dict[tuple[str, ...], str] = {}
    use = trips[trips["trip_id"].isin(runs)] if any(t in runs for t in trips["trip_id"]) else trips
    for tid, sid in sorted(zip(use["trip_id"], use["shape_id"], strict=True)):
        if tid not in stops_of or len(stops_of[tid]) < 2:
            continue
        key = ("shape", sid) if sid in shapes else ("stops", *stops_of[tid])
        weight[key] += runs.get(tid, 1)
        first.setdefault(key, tid)
    if not weight:
        return "", None, 0
    best = min(weight, key=lambda k: (-weight[k], first[k]))
    return first[best], (best[1] if best[0] == "shape" else None), len(weight)


def feed_lines_table(
    path: Path,
    date: str,
    crs: str,
    *,
    line_loads: pd.DataFrame | None,
    days: int,
    fare_default: float,
    capacity: int,
    source: str,
) -> tuple[pd.DataFrame, list[np.ndarray], list[str]]:
    """Attributes, polylines (k x 2, metres of ``crs``) and notes for the routes of the feed at
    ``path``, one row per route and ``direction_id`` (per route where it is blank).

    ``departures_per_day`` counts the runs on ``date`` (frequencies.txt expanded), first and
    last departures are at the first stop (past 24:00 as written); ``in_service`` is False, with no
    departures or boardings, for a route direction without runs that day; its geometry is then
    that of its most common trip on any day. ``length_km`` is geodesic (WGS 84). A route with no
    trip at all has no geometry and is named in the notes.
    """
    from pyproj import Geod, Transformer

    feed = read_feed(path)
    _, day_st = day_stop_times(feed, path, date)
    firsts = day_st.groupby("trip_id", sort=False).first()
    day_trip = firsts["gtfs_trip_id"].astype(str)  # run id -> trip of trips.txt
    runs: Counter[str] = Counter(day_trip.tolist())
    runs_of: dict[str, list[str]] = {}  # trip of trips.txt -> its runs that day
    for run_id, tid in day_trip.items():
        runs_of.setdefault(tid, []).append(str(run_id))
    trips = feed.trips.copy()
    trips["trip_id"] = trips["trip_id"].astype(str)
    trips["route_id"] = trips["route_id"].astype(str)
    trips["shape_id"] = (
        trips["shape_id"].astype(str).where(trips["shape_id"].notna(), "") if "shape_id" in trips else ""
    )
    direction = pd.to_numeric(trips["direction_id"], errors="coerce") if "direction_id" in trips else None
    trips["_dir"] = direction.fillna(-1).astype(int) if direction is not None else -1
    shapes = _usable_shapes(feed)
    stop_lonlat = dict(
        zip(
            feed.stops["stop_id"].astype(str),
            feed.stops[["stop_lon", "stop_lat"]].to_numpy(float),
            strict=True,
        )
    )
    drawable = {sid for sid, xy in stop_lonlat.items() if np.isfinite(xy).all()}
    stops_of = _trip_stops(feed, set(trips["trip_id"]), drawable)
    names = feed.stops["stop_name"] if "stop_name" in feed.stops else pd.Series(None, index=feed.stops.index)
    stop_name = {s: _text(n) or s for s, n in zip(feed.stops["stop_id"].astype(str), names, strict=True)}
    fares = route_fares(feed)
    currency = None
    if feed.fare_attributes is not None and "currency_type" in feed.fare_attributes:
        currency = ", ".join(sorted(set(feed.fare_attributes["currency_type"].astype(str))))
    freq = (
        feed.frequencies
        if feed.frequencies is not None
        else pd.DataFrame(columns=["trip_id", "headway_secs"])
    )
    headways = (
        pd.to_numeric(freq["headway_secs"], errors="coerce").groupby(freq["trip_id"].astype(str)).unique()
    )
    loads = pd.Series(dtype=float)
    if line_loads is not None and len(line_loads) and days > 0:
        by = [line_loads["line"].astype(str), line_loads["trip"].astype(str)]
        loads = line_loads.groupby(by, observed=True)["boardings"].sum() / days
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    geod = Geod(ellps="WGS84")
    routes = feed.routes.assign(route_id=feed.routes["route_id"].astype(str)).set_index("route_id")
    with_trips = set(trips["route_id"])
    notes = [
        f"route {r}: no trip in trips.txt, so no geometry; not in the lines layer"
        for r in routes.index
        if r not in with_trips
    ]
    dep0 = firsts["dep_min"]
    rows, shapes_xy = [], []
    for (rid, dirn), group in trips.groupby(["route_id", "_dir"], sort=True):
        rep, shape_id, paths = _representative(group, runs, shapes, stops_of)
        if not rep:
            where = f"route {rid}" + (f" direction_id {dirn}" if dirn >= 0 else "")
            notes.append(
                f"{where}: no trip with two or more located stops, so no geometry; not in the lines layer"
            )
            continue
        lonlat = shapes[shape_id] if shape_id else np.array([stop_lonlat[s] for s in stops_of[rep]])
        x, y = to_crs.transform(lonlat[:, 0], lonlat[:, 1])
        route = routes.loc[rid] if rid in routes.index else pd.Series(dtype=object)
        run_ids = [r for t in group["trip_id"] for r in runs_of.get(t, [])]
        times = np.sort(dep0.loc[run_ids].to_numpy(float)) if run_ids else np.zeros(0)
        served = [t for t in group["trip_id"] if t in runs]
        steps = {float(h) for t in served for h in headways.get(t, [])}  # seconds
        every = steps.pop() / 60.0 if len(steps) == 1 and all(t in headways.index for t in served) else np.nan
        rows.append(
            {
                "id": rid,
                "zh": None,
                "en": None,
                "mode": _mode(route.get("route_type")),
                "stops": " > ".join(stop_name[s] for s in stops_of[rep]),
                "n_stops": len(stops_of[rep]),
                "length_km": float(geod.line_length(lonlat[:, 0], lonlat[:, 1])) / 1000.0,
                "departures_per_day": len(times),
                "first_departure": _clock(times[0]) if len(times) else None,
                "last_departure": _clock(times[-1]) if len(times) else None,
                "headway_min": every,
                "departures": " ".join(_clock(t) for t in times),
                "both_directions": False,
                "days": " ".join(WEEKDAYS),
                "fare_yuan": float(fares.get(rid, fare_default)),
                "capacity": capacity,
                "boardings_per_day": float(loads.reindex([(rid, r) for r in run_ids]).fillna(0.0).sum()),
                "source": source,
                "direction_id": int(dirn) if dirn >= 0 else None,
                "short_name": _text(route.get("route_short_name")),
                "long_name": _text(route.get("route_long_name")),
                "headsign": _text(group.loc[group["trip_id"] == rep, "trip_headsign"].iloc[0])
                if "trip_headsign" in group
                else None,
                "route_type": int(route["route_type"]) if "route_type" in route else None,
                "service_date": date,
                "in_service": len(times) > 0,
                "geometry_from": f"shapes.txt shape_id={shape_id}" if shape_id else f"stops of trip_id={rep}",
                "paths": paths,
                "fare_from": f"fare_rules.txt ({currency})" if rid in fares else "transit.gtfs.fare_yuan",
            }
        )
        shapes_xy.append(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
    return pd.DataFrame(rows), shapes_xy, notes
