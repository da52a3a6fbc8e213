"""GTFS and the network: a feed's timetable on the scenario's nodes, a scenario's lines as a feed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import SimError
from sim.scenario.fields import WEEKDAYS
from sim.scenario.gtfs_feed import (
    GTFS_DAYS,
    clock_text,
    day_stop_times,
    latlon_to_xy,
    read_feed,
    xy_to_latlon,
)
from sim.scenario.transit import Transit
from sim.transit.timetable import Timetable, TripBuilder, assemble_timetable
from sim.world.world import World

__all__ = ["feed_timetable", "read_gtfs_timetable", "route_fares", "write_gtfs"]

ROUTE_TYPE = {"bus": 3, "ferry": 4}


def route_fares(feed: Any) -> dict[str, float]:
    """Fare of each route with a fare rule naming it (fare_attributes.txt price, the feed's currency)."""
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
    others snap to the nearest node by coordinates (projected to the world's ``crs`` if it has
    one, else equirectangular with ``transit.origin_latlon`` at x = y = 0 km).
    Routes become lines (route_type 4 = ferry, else bus); fares come from fare_rules by route,
    else ``transit.gtfs.fare_yuan``; capacity is ``transit.gtfs.capacity``.
    """
    assert transit.gtfs is not None
    feed = read_feed(path)
    index = world.node_index
    stops = feed.stops
    lat, lon = stops["stop_lat"].to_numpy(float), stops["stop_lon"].to_numpy(float)
    crs = world.crs
    if crs is None:
        xy = latlon_to_xy(lat, lon, transit.origin_latlon)
    else:  # a built scenario: km of its projected CRS
        from pyproj import Transformer

        x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
        xy = np.column_stack([np.asarray(x) / 1000.0, np.asarray(y) / 1000.0])
    snapped = [
        index[sid] if sid in index else int(np.argmin(np.hypot(*(world.node_xy - xy[i]).T)))
        for i, sid in enumerate(stops["stop_id"].astype(str))
    ]
    return feed_timetable(
        feed,
        path,
        date,
        stop_node=dict(zip(stops["stop_id"].astype(str), snapped, strict=True)),
        node_xy=world.node_xy,
        fare_yuan=transit.gtfs.fare_yuan,
        capacity=transit.gtfs.capacity,
    )


def feed_timetable(
    feed: Any,
    path: Path,
    date: str,
    *,
    stop_node: dict[str, int],
    node_xy: np.ndarray,
    fare_yuan: float,
    capacity: int,
) -> Timetable:
    """Timetable of a read feed on ``date`` with each GTFS stop at node ``stop_node[stop_id]``.

    In-vehicle km come from ``shape_dist_traveled`` where every stop time has it, else from the
    straight line between the nodes (``node_xy``, km).
    """
    trips, st = day_stop_times(feed, path, date)
    fares = route_fares(feed)
    routes = feed.routes
    route_ids = sorted(set(trips["route_id"].astype(str)))
    kind = dict(zip(routes["route_id"].astype(str), routes["route_type"].astype(int), strict=True))
    line_of = {r: i for i, r in enumerate(route_ids)}
    trip_route = dict(zip(trips["trip_id"].astype(str), trips["route_id"].astype(str), strict=True))
    builder = TripBuilder()
    has_km = "shape_dist_traveled" in st and st["shape_dist_traveled"].notna().all()
    for trip_id, rows in st.groupby("trip_id", sort=True):
        nodes = [stop_node[str(s)] for s in rows["stop_id"]]
        if has_km:
            km = rows["shape_dist_traveled"].to_numpy(float)
            km = km - km[0]
        else:
            pts = node_xy[nodes]
            km = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
        builder.add(
            str(trip_id),
            line_of[trip_route[rows["gtfs_trip_id"].iloc[0]]],
            [True] * 7,
            nodes,
            rows["arr_min"].to_numpy(),
            rows["dep_min"].to_numpy(),
            km,
            pickup=rows["pickup"].to_numpy(),
            dropoff=rows["dropoff"].to_numpy(),
            board_wait=float(rows["board_wait_min"].iloc[0]),
        )
    return assemble_timetable(
        line_ids=route_ids,
        line_kind=["ferry" if kind.get(r) == 4 else "bus" for r in route_ids],
        line_fare=[fares.get(r, fare_yuan) for r in route_ids],
        line_capacity=[capacity] * len(route_ids),
        trips=builder,
    )


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
    st_trip = tt.st_trip
    seq = np.arange(len(tt.st_stop)) - tt.trip_start[st_trip]
    stop_times = pd.DataFrame(
        {
            "trip_id": [tt.trip_ids[t] for t in st_trip],
            "arrival_time": [clock_text(x) for x in tt.st_arr],
            "departure_time": [clock_text(x) for x in tt.st_dep],
            "stop_id": [world.nodes[tt.stop_node[s]] for s in tt.st_stop],
            "stop_sequence": seq.astype(int),
            "shape_dist_traveled": np.round(tt.st_km, 6),
            "pickup_type": np.where(tt.st_pickup, 0, 1),
            "drop_off_type": np.where(tt.st_dropoff, 0, 1),
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
