"""Read and check a GTFS feed a scenario names (gtfs-kit): encoding, tables, the trips running on a
service date, their stop times normalised (blank times interpolated, frequencies expanded)."""

from __future__ import annotations

import codecs
import datetime as dt
import math
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError

__all__ = [
    "GTFS_DAYS",
    "check_gtfs_feed",
    "clock_text",
    "day_stop_times",
    "latlon_to_xy",
    "read_feed",
    "services_on",
    "xy_to_latlon",
]

KM_PER_DEG_LAT = 110.574
REQUIRED = ("stops", "routes", "trips", "stop_times")
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


def _members(path: Path) -> dict[str, bytes]:
    """Raw bytes of every ``.txt`` table of a feed (zip or folder), by file name."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.glob("*.txt"))}
    try:
        with zipfile.ZipFile(path) as zf:
            return {Path(n).name: zf.read(n) for n in zf.namelist() if n.endswith(".txt")}
    except (zipfile.BadZipFile, OSError) as exc:
        raise ScenarioError(str(path), "(feed)", f"expected a GTFS zip file or folder ({exc})") from None


def _check_encoding(path: Path) -> tuple[dict[str, bytes], bool]:
    """Every table must be UTF-8 (a byte-order mark is accepted); returns the tables' bytes
    without the mark, by file name, and whether any table had one."""
    members = _members(path)
    had_bom = False
    for name, raw in members.items():
        had_bom |= raw.startswith(codecs.BOM_UTF8)
        raw = members[name] = raw.removeprefix(codecs.BOM_UTF8)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ScenarioError(
                str(path / name),
                f"line {line}",
                f"expected UTF-8 text, got byte 0x{raw[exc.start]:02x} (re-save the file as UTF-8)",
            ) from None
    return members, had_bom


#: Bounds of WGS 84 coordinates in stops.txt, degrees.
_COORD_RANGE = {"stop_lat": (-90.0, 90.0), "stop_lon": (-180.0, 180.0)}


def _check_stops(path: Path, raw: bytes) -> None:
    """stops.txt: unique stop_id; finite WGS 84 coordinates within range where GTFS requires them
    (location_type 0, 1, 2 or blank; generic nodes and boarding areas may leave them blank)."""
    import csv
    import io

    where = str(path / "stops.txt")
    rows = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
    for field in ("stop_id", *_COORD_RANGE):
        if field not in (rows.fieldnames or []):
            raise ScenarioError(where, f"line 1, column {field}", f"expected a '{field}' column")
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        stop = row.get("stop_id") or ""
        if stop in seen:
            raise ScenarioError(where, f"line {line}, stop_id", f"expected unique stop ids, '{stop}' repeats")
        seen.add(stop)
        optional = (row.get("location_type") or "").strip() in ("3", "4")
        for field, (low, high) in _COORD_RANGE.items():
            text = (row.get(field) or "").strip()
            if not text and optional:
                continue
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not low <= value <= high:  # False for NaN
                raise ScenarioError(
                    where,
                    f"line {line} (stop_id {stop}), column {field}",
                    f"expected a finite number of degrees in [{low:g}, {high:g}], got '{text}'",
                )


def _read_with_gtfs_kit(path: Path, members: dict[str, bytes], had_bom: bool) -> Any:
    """gtfs-kit Feed of ``path``; a feed with byte-order marks is read from a copy without them
    (gtfs-kit would take the mark into the first column's name)."""
    import gtfs_kit as gk

    if not had_bom:
        return gk.read_feed(path, dist_units="km")
    with tempfile.TemporaryDirectory(prefix="townsim-gtfs-") as tmp:
        for name, raw in members.items():
            (Path(tmp) / name).write_bytes(raw)
        return gk.read_feed(Path(tmp), dist_units="km")


def read_feed(path: Path) -> Any:
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
    members, had_bom = _check_encoding(path)
    if "stops.txt" in members:
        _check_stops(path, members["stops.txt"])
    try:
        feed = _read_with_gtfs_kit(path, members, had_bom)
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


def services_on(feed: Any, path: Path, date: str) -> set[str]:
    """Service ids running on ``date``: calendar.txt (weekday within the date range), then
    calendar_dates.txt additions (exception_type 1) and removals (2).

    Raises:
        ScenarioError: ``date`` is not a real date YYYYMMDD, or no trip runs on it.
    """
    try:
        day = dt.datetime.strptime(date, "%Y%m%d").date()
    except ValueError:
        raise ScenarioError(
            str(path), "transit.gtfs.date", f"expected a real service date YYYYMMDD, got '{date}'"
        ) from None
    running: set[str] = set()
    first: list[str] = []
    last: list[str] = []
    if feed.calendar is not None and len(feed.calendar):
        cal = feed.calendar
        on = (cal["start_date"].astype(str) <= date) & (cal["end_date"].astype(str) >= date)
        on &= cal[GTFS_DAYS[day.weekday()]].fillna(0).astype(int) == 1
        running |= set(cal.loc[on, "service_id"].astype(str))
        first.append(str(cal["start_date"].min()))
        last.append(str(cal["end_date"].max()))
    if feed.calendar_dates is not None and len(feed.calendar_dates):
        cd = feed.calendar_dates
        today = cd[cd["date"].astype(str) == date]
        kind = today["exception_type"].astype(int)
        running |= set(today.loc[kind == 1, "service_id"].astype(str))
        running -= set(today.loc[kind == 2, "service_id"].astype(str))
        first.append(str(cd["date"].min()))
        last.append(str(cd["date"].max()))
    if not feed.trips["service_id"].astype(str).isin(running).any():
        span = f"{min(first)} to {max(last)}" if first else "no dates"
        raise ScenarioError(
            str(path / "calendar.txt"),
            "transit.gtfs.date",
            f"expected a date with service, but no trip runs on {date} ({day:%A}); "
            f"calendar.txt and calendar_dates.txt cover {span}",
        )
    return running


def _row(table: str, frame: pd.DataFrame, i: int, field: str = "") -> str:
    """Field path of row ``i`` of a GTFS table, by its trip_id (and stop_sequence)."""
    row = frame.iloc[i]
    key = f"trip_id={row['trip_id']}"
    if "stop_sequence" in frame:
        key += f", stop_sequence={row['stop_sequence']}"
    elif "start_time" in frame:
        key += f", start_time={row['start_time']}"
    return f"{table}[{key}]" + (f".{field}" if field else "")


def _clock_seconds(frame: pd.DataFrame, column: str, file: str, table: str) -> np.ndarray:
    """Seconds after midnight of ``H:MM:SS`` strings (hours may pass 24); NaN where blank."""
    text = frame[column].astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
    parts = text.str.extract(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")
    bad = ~blank & parts[0].isna().to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScenarioError(
            file, _row(table, frame, i, column), f"expected a time H:MM:SS, got {text.iloc[i]!r}"
        )
    sec = parts.astype(float).to_numpy()
    return sec[:, 0] * 3600 + sec[:, 1] * 60 + sec[:, 2]


def _allowed(st: pd.DataFrame, column: str, file: str) -> np.ndarray:
    """pickup_type / drop_off_type: 1 forbids; blank, 0, 2, 3 (regular, phone, ask the driver) allow."""
    if column not in st:
        return np.ones(len(st), dtype=bool)
    values = pd.to_numeric(st[column], errors="coerce").fillna(0).to_numpy()
    bad = ~np.isin(values, (0, 1, 2, 3))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScenarioError(
            file, _row("stop_times", st, i, column), f"expected 0, 1, 2 or 3, got {st[column].iloc[i]!r}"
        )
    return values != 1


def _interpolate(st: pd.DataFrame, stop_xy: dict[str, np.ndarray], file: str) -> None:
    """Times in minutes (``arr_min``, ``dep_min``), blanks at non-timepoint stops filled linearly in
    distance between the timed stops around them.

    Distance is ``shape_dist_traveled`` where the trip has it at every stop, else the straight line
    between stops. A blank at a ``timepoint=1`` stop or at a trip's first or last stop is an error.
    """
    arr = _clock_seconds(st, "arrival_time", file, "stop_times")
    dep = _clock_seconds(st, "departure_time", file, "stop_times")
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    blank = np.isnan(arr)
    if "timepoint" in st:
        exact = pd.to_numeric(st["timepoint"], errors="coerce").to_numpy() == 1
        if (blank & exact).any():
            i = int(np.flatnonzero(blank & exact)[0])
            raise ScenarioError(
                file, _row("stop_times", st, i, "arrival_time"), "expected a time at a stop with timepoint=1"
            )
    trip = st["trip_id"].astype(str).to_numpy()
    change = trip[1:] != trip[:-1]
    ends = np.concatenate([[True], change]) | np.concatenate([change, [True]])
    if (blank & ends).any():
        i = int(np.flatnonzero(blank & ends)[0])
        raise ScenarioError(
            file, _row("stop_times", st, i, "arrival_time"), "expected times at a trip's first and last stop"
        )
    shape_km = (
        pd.to_numeric(st["shape_dist_traveled"], errors="coerce").to_numpy(float)
        if "shape_dist_traveled" in st
        else np.full(len(st), np.nan)
    )
    stop_ids = st["stop_id"].astype(str).to_numpy()
    for tid in pd.unique(trip[blank]):
        rows = np.flatnonzero(trip == tid)
        dist = shape_km[rows]
        if np.isnan(dist).any():
            pts = np.array([stop_xy[s] for s in stop_ids[rows]])
            dist = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
        # strictly increasing positions: stops at one place (or no distance at all) still get ordered times
        pos = np.maximum.accumulate(dist) + np.arange(len(rows)) * 1e-6
        timed = ~blank[rows]
        fill = np.interp(pos[~timed], pos[timed], dep[rows][timed])
        arr[rows[~timed]] = fill
        dep[rows[~timed]] = fill
    st["arr_min"] = arr / 60.0
    st["dep_min"] = dep / 60.0


def day_stop_times(feed: Any, path: Path, date: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trips running on ``date`` and their stop times: checked, blank times interpolated,
    frequency-based trips expanded; columns ``arr_min``, ``dep_min``, ``pickup``, ``dropoff``,
    ``board_wait_min`` added."""
    running = services_on(feed, path, date)
    trips = feed.trips[feed.trips["service_id"].astype(str).isin(running)].copy()
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
    counts = st.groupby("trip_id", sort=False).size()
    if (counts < 2).any():
        raise ScenarioError(
            st_file,
            f"stop_times[trip_id={counts[counts < 2].index[0]}]",
            "expected at least two stops per trip",
        )
    stops = feed.stops
    lat, lon = stops["stop_lat"].to_numpy(float), stops["stop_lon"].to_numpy(float)
    xy = latlon_to_xy(lat, lon, (float(np.nanmean(lat)), 0.0))  # km, for distances along trips
    _interpolate(st, dict(zip(stops["stop_id"].astype(str), xy, strict=True)), st_file)
    same = st["trip_id"].to_numpy()[1:] == st["trip_id"].to_numpy()[:-1]
    back = (st["arr_min"].to_numpy()[1:] < st["dep_min"].to_numpy()[:-1]) & same
    dwell_back = st["dep_min"].to_numpy() < st["arr_min"].to_numpy()
    bad = np.flatnonzero(np.concatenate([[False], back]) | dwell_back)
    if len(bad):
        raise ScenarioError(
            st_file,
            _row("stop_times", st, int(bad[0])),
            "expected stop times in order along the trip (each arrival at or after the previous departure, "
            "departure at or after arrival)",
        )
    st["pickup"] = _allowed(st, "pickup_type", st_file)
    st["dropoff"] = _allowed(st, "drop_off_type", st_file)
    st["board_wait_min"] = 0.0
    st["gtfs_trip_id"] = st["trip_id"].astype(str)
    return trips, _expand_frequencies(feed, path, st)


def _expand_frequencies(feed: Any, path: Path, st: pd.DataFrame) -> pd.DataFrame:
    """Replace each trip listed in frequencies.txt by one run per headway in each of its periods.

    Runs start at ``start_time``, ``start_time + headway``, ... while before ``end_time``, keeping the
    template trip's offsets between stops. ``exact_times=1``: that is the schedule. ``exact_times=0``
    (the default): vehicles come about every headway at unpublished times, so a rider is at the stop
    headway/2 minutes before the run (the expected wait; ``board_wait_min``).
    """
    freq = feed.frequencies
    if freq is None or not len(freq):
        return st
    file = str(path / "frequencies.txt")
    freq = freq[freq["trip_id"].isin(st["trip_id"])].reset_index(drop=True)
    if not len(freq):
        return st
    start = _clock_seconds(freq, "start_time", file, "frequencies")
    end = _clock_seconds(freq, "end_time", file, "frequencies")
    headway = pd.to_numeric(freq["headway_secs"], errors="coerce").to_numpy(float)
    exact = (
        pd.to_numeric(freq["exact_times"], errors="coerce").fillna(0).to_numpy()
        if "exact_times" in freq
        else np.zeros(len(freq))
    )
    checks = (
        ("headway_secs", ~(headway > 0), "expected a number of seconds > 0"),
        ("end_time", ~(end > start), "expected end_time after start_time"),
        ("exact_times", ~np.isin(exact, (0, 1)), "expected 0 or 1"),
    )
    for column, bad, expected in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScenarioError(
                file, _row("frequencies", freq, i, column), f"{expected}, got {freq[column].iloc[i]!r}"
            )
    parts = [st[~st["trip_id"].isin(set(freq["trip_id"]))]]
    template = dict(tuple(st[st["trip_id"].isin(set(freq["trip_id"]))].groupby("trip_id", sort=False)))
    for i, tid in enumerate(freq["trip_id"].tolist()):
        rows = template[tid]
        offset_arr = rows["arr_min"].to_numpy() - rows["dep_min"].iloc[0]
        offset_dep = rows["dep_min"].to_numpy() - rows["dep_min"].iloc[0]
        for first in np.arange(start[i], end[i], headway[i]) / 60.0:
            run = rows.copy()
            run["arr_min"] = first + offset_arr
            run["dep_min"] = first + offset_dep
            run["trip_id"] = f"{tid}@{clock_text(first)}"
            run["board_wait_min"] = 0.0 if exact[i] == 1 else headway[i] / 120.0
            parts.append(run)
    return pd.concat(parts, ignore_index=True)


def check_gtfs_feed(path: Path, date: str) -> None:
    """Raise ScenarioError if the feed is missing, unreadable or inconsistent on ``date``."""
    feed = read_feed(path)
    day_stop_times(feed, path, date)


def clock_text(minutes: float) -> str:
    """Minutes after midnight as GTFS ``HH:MM:SS`` (hours past 24 kept)."""
    sec = round(minutes * 60)
    return f"{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}"
