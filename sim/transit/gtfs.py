"""GTFS in and out through gtfs-kit: a feed's timetable for one service date, a scenario's lines as a feed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError, SimError
from sim.transit.schema import WEEKDAYS, Transit
from sim.transit.timetable import Timetable, _TripBuilder, assemble_timetable
from sim.world.world import World

__all__ = ["check_gtfs_feed", "latlon_to_xy", "read_gtfs_timetable", "write_gtfs", "xy_to_latlon"]

KM_PER_DEG_LAT = 110.574
REQUIRED = ("stops", "routes", "trips", "stop_times")
ROUTE_TYPE = {"bus": 3, "ferry": 4}
GTFS_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _km_per_deg_lon(lat0: float) -> float:
    return 111.320 * float(np.cos(np.radians(lat0)))


def xy_to_latlon(xy: np.ndarray, origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Km (x east, y north) from ``origin`` (lat, lon) to lat, lon (equirectangular)."""
    lat = origin[0] + xy[:, 1] / KM_PER_DEG_LAT
    lon = origin[1] + xy[:, 0] / _km_per_deg_lon(origin[0])
    return lat, lon


def latlon_to_xy(lat: np.ndarray, lon: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """Inverse of :func:`xy_to_latlon`."""
    x = (np.asarray(lon, dtype=float) - origin[1]) * _km_per_deg_lon(origin[0])
    y = (np.asarray(lat, dtype=float) - origin[0]) * KM_PER_DEG_LAT
    return np.column_stack([x, y])


def _read(path: Path) -> Any:
    """gtfs-kit Feed of a zip or folder, with ScenarioError for anything missing or unreadable."""
    if not path.exists():
        raise ScenarioError(
            str(path), "transit.gtfs.path", "expected an existing GTFS feed (zip file or folder)"
        )
    if path.is_dir():
        for table in REQUIRED:
            if not (path / f"{table}.txt").is_file():
                raise ScenarioError(
                    str(path / f"{table}.txt"), "(file)", f"expected {table}.txt in the GTFS feed"
                )
    import gtfs_kit as gk

    try:
        feed = gk.read_feed(path, dist_units="km")
    except Exception as exc:  # gtfs-kit raises many kinds on broken input
        raise ScenarioError(
            str(path), "(feed)", f"expected a readable GTFS feed ({type(exc).__name__}: {exc})"
        ) from None
    for table in REQUIRED:
        if getattr(feed, table) is None:
            raise ScenarioError(
                str(path / f"{table}.txt"), "(file)", f"expected {table}.txt in the GTFS feed"
            )
    if feed.calendar is None and feed.calendar_dates is None:
        raise ScenarioError(
            str(path / "calendar.txt"), "(file)", "expected calendar.txt or calendar_dates.txt"
        )
    return feed


def _seconds(values: pd.Series, file: str, field: str) -> np.ndarray:
    import gtfs_kit as gk

    out = np.empty(len(values))
    for i, v in enumerate(values.tolist()):
        sec = gk.timestr_to_seconds(v) if isinstance(v, str) and v else np.nan
        if sec is None or not np.isfinite(sec):
            raise ScenarioError(
                file, field, f"expected a time HH:MM:SS at every stop (no interpolation), got {v!r}"
            )
        out[i] = sec
    return out / 60.0


def _day_stop_times(feed: Any, path: Path, date: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trips running on ``date`` and their stop times (checked: known stops, times in order)."""
    trips = feed.get_trips(date)
    st = feed.stop_times[feed.stop_times["trip_id"].isin(trips["trip_id"])].copy()
    st_file = str(path / "stop_times.txt")
    known = set(feed.stops["stop_id"].astype(str))
    unknown = ~st["stop_id"].astype(str).isin(known)
    if unknown.any():
        row = st[unknown].iloc[0]
        raise ScenarioError(
            st_file,
            f"stop_times[trip_id={row['trip_id']}, stop_sequence={row['stop_sequence']}].stop_id",
            f"expected a stop_id listed in stops.txt, got '{row['stop_id']}'",
        )
    st = st.sort_values(["trip_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    st["arr_min"] = _seconds(st["arrival_time"], st_file, "arrival_time")
    st["dep_min"] = _seconds(st["departure_time"], st_file, "departure_time")
    same = st["trip_id"].to_numpy()[1:] == st["trip_id"].to_numpy()[:-1]
    back = (st["arr_min"].to_numpy()[1:] < st["dep_min"].to_numpy()[:-1]) & same
    dwell_back = st["dep_min"].to_numpy() < st["arr_min"].to_numpy()
    bad = np.flatnonzero(np.concatenate([[False], back]) | dwell_back)
    if len(bad):
        row = st.iloc[int(bad[0])]
        raise ScenarioError(
            st_file,
            f"stop_times[trip_id={row['trip_id']}, stop_sequence={row['stop_sequence']}]",
            "expected stop times in order along the trip (each arrival at or after the previous departure, "
            "departure at or after arrival)",
        )
    counts = st.groupby("trip_id", sort=False).size()
    if (counts < 2).any():
        raise ScenarioError(
            st_file,
            f"stop_times[trip_id={counts[counts < 2].index[0]}]",
            "expected at least two stops per trip",
        )
    return trips, st


def check_gtfs_feed(path: Path, date: str) -> None:
    """Raise ScenarioError if the feed is missing, unreadable or inconsistent on ``date``."""
    feed = _read(path)
    _day_stop_times(feed, path, date)


def _route_fares(feed: Any) -> dict[str, float]:
    fares: dict[str, float] = {}
    if feed.fare_attributes is not None and feed.fare_rules is not None and "route_id" in feed.fare_rules:
        price = dict(
            zip(feed.fare_attributes["fare_id"], feed.fare_attributes["price"].astype(float), strict=True)
        )
        for fare_id, route in zip(feed.fare_rules["fare_id"], feed.fare_rules["route_id"], strict=True):
            if isinstance(route, str) and fare_id in price:
                fares[route] = price[fare_id]
    return fares


def read_gtfs_timetable(path: Path, *, world: World, transit: Transit, date: str) -> Timetable:
    """The timetable a GTFS feed runs on ``date`` (it then stands for every simulated day).

    Stops whose ``stop_id`` is a network node id (as ``export-gtfs`` writes them) map to that node;
    others snap to the nearest node by coordinates (``transit.origin_latlon`` is x = y = 0 km).
    Routes become lines (route_type 4 = ferry, else bus); fares come from fare_rules by route,
    else ``transit.gtfs.fare_yuan``; capacity is ``transit.gtfs.capacity``.
    """
    assert transit.gtfs is not None
    feed = _read(path)
    trips, st = _day_stop_times(feed, path, date)
    index = {n: i for i, n in enumerate(world.nodes)}
    stops = feed.stops.set_index(feed.stops["stop_id"].astype(str))
    xy = latlon_to_xy(
        stops["stop_lat"].to_numpy(float), stops["stop_lon"].to_numpy(float), transit.origin_latlon
    )
    snapped = [
        index[sid] if sid in index else int(np.argmin(np.hypot(*(world.node_xy - xy[i]).T)))
        for i, sid in enumerate(stops.index)
    ]
    stop_node = dict(zip(stops.index, snapped, strict=True))
    fares = _route_fares(feed)
    routes = feed.routes
    route_ids = sorted(set(trips["route_id"].astype(str)))
    kind = dict(zip(routes["route_id"].astype(str), routes["route_type"].astype(int), strict=True))
    line_of = {r: i for i, r in enumerate(route_ids)}
    trip_route = dict(zip(trips["trip_id"].astype(str), trips["route_id"].astype(str), strict=True))
    builder = _TripBuilder()
    has_km = "shape_dist_traveled" in st and st["shape_dist_traveled"].notna().all()
    for trip_id, rows in st.groupby("trip_id", sort=True):
        nodes = [stop_node[str(s)] for s in rows["stop_id"]]
        if has_km:
            km = rows["shape_dist_traveled"].to_numpy(float)
            km = km - km[0]
        else:
            pts = world.node_xy[nodes]
            km = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
        builder.add(
            str(trip_id),
            line_of[trip_route[str(trip_id)]],
            [True] * 7,
            nodes,
            rows["arr_min"].to_numpy(),
            rows["dep_min"].to_numpy(),
            km,
        )
    return assemble_timetable(
        line_ids=route_ids,
        line_kind=["ferry" if kind.get(r) == 4 else "bus" for r in route_ids],
        line_fare=[fares.get(r, transit.gtfs.fare_yuan) for r in route_ids],
        line_capacity=[transit.gtfs.capacity] * len(route_ids),
        trips=builder,
    )


def _clock(minutes: float) -> str:
    sec = round(minutes * 60)
    return f"{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}"


def write_gtfs(
    tt: Timetable,
    world: World,
    transit: Transit,
    out: Path,
    *,
    agency: str = "townsim",
    names: dict[str, str] | None = None,
) -> Path:
    """Write a timetable as a GTFS feed (zip if ``out`` ends in .zip, else a folder), atomically.

    Stop ids are network node ids; coordinates come from ``transit.origin_latlon``; each distinct
    set of running days becomes a calendar service; fares are written per route.

    Raises:
        SimError: ``out`` exists.
    """
    import gtfs_kit as gk

    out = Path(out)
    if out.exists():
        raise SimError(f"{out}: exists; choose a new path for the feed")
    used = np.unique(tt.st_stop)
    lat, lon = xy_to_latlon(world.node_xy[tt.stop_node[used]], transit.origin_latlon)
    stops = pd.DataFrame(
        {
            "stop_id": [world.nodes[tt.stop_node[s]] for s in used],
            "stop_name": [world.nodes[tt.stop_node[s]] for s in used],
            "stop_lat": np.round(lat, 7),
            "stop_lon": np.round(lon, 7),
        }
    )
    names = names or {}
    routes = pd.DataFrame(
        {
            "route_id": tt.line_ids,
            "agency_id": agency,
            "route_short_name": tt.line_ids,
            "route_long_name": [names.get(lid, lid) for lid in tt.line_ids],
            "route_type": [ROUTE_TYPE[k] for k in tt.line_kind],
        }
    )
    patterns, inverse = np.unique(tt.trip_days, axis=0, return_inverse=True)
    service_ids = [
        "days_" + "".join(d[:2] for d, on in zip(WEEKDAYS, row, strict=True) if on) for row in patterns
    ]
    calendar = pd.DataFrame({"service_id": service_ids, "start_date": "20200101", "end_date": "20351231"})
    for i, day in enumerate(GTFS_DAYS):
        calendar[day] = patterns[:, i].astype(int)
    trips = pd.DataFrame(
        {
            "route_id": [tt.line_ids[li] for li in tt.trip_line],
            "service_id": [service_ids[i] for i in np.asarray(inverse).reshape(-1)],
            "trip_id": tt.trip_ids,
            "direction_id": [
                int(t.split(":")[1]) if t.count(":") >= 2 and t.split(":")[1] in "01" else 0
                for t in tt.trip_ids
            ],
        }
    )
    lengths = np.diff(tt.trip_start)
    st_trip = np.repeat(np.arange(tt.n_trips), lengths)
    seq = np.arange(len(tt.st_stop)) - tt.trip_start[st_trip]
    stop_times = pd.DataFrame(
        {
            "trip_id": [tt.trip_ids[t] for t in st_trip],
            "arrival_time": [_clock(x) for x in tt.st_arr],
            "departure_time": [_clock(x) for x in tt.st_dep],
            "stop_id": [world.nodes[tt.stop_node[s]] for s in tt.st_stop],
            "stop_sequence": seq.astype(int),
            "shape_dist_traveled": np.round(tt.st_km, 6),
        }
    )
    fare_ids = [f"fare_{lid}" for lid in tt.line_ids]
    fare_attributes = pd.DataFrame(
        {
            "fare_id": fare_ids,
            "price": tt.line_fare.astype(float),
            "currency_type": "CNY",
            "payment_method": 0,
            "transfers": 0,
        }
    )
    fare_rules = pd.DataFrame({"fare_id": fare_ids, "route_id": tt.line_ids})
    agency_df = pd.DataFrame(
        {
            "agency_id": [agency],
            "agency_name": [agency],
            "agency_url": ["https://example.org"],
            "agency_timezone": ["Asia/Shanghai"],
        }
    )
    feed = gk.Feed(
        dist_units="km",
        agency=agency_df,
        stops=stops,
        routes=routes,
        trips=trips,
        stop_times=stop_times,
        calendar=calendar,
        fare_attributes=fare_attributes,
        fare_rules=fare_rules,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        target = tmp_dir / out.name
        feed.to_file(target)
        target.rename(out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return out
