"""GTFS conformance on real feeds (Cairns, NYC subway, the GTFS reference sample from gtfs-kit's source
distribution): blank non-timepoint times, pickup/drop-off types, frequencies, calendar_dates, times
past 24:00, dates without service, encodings."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from sim.errors import ScenarioError
from sim.scenario.gtfs_feed import check_gtfs_feed, day_stop_times, read_feed, services_on
from sim.transit.csa import earliest_arrival, latest_departure
from sim.transit.gtfs import feed_timetable
from sim.transit.timetable import Timetable, WalkLinks
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data" / "gtfs"
CAIRNS = DATA / "cairns_gtfs.zip"
SAMPLE = DATA / "sample_gtfs.zip"
GTFS_KIT_SDIST = "gtfs-kit==13.0.1"


@pytest.fixture(scope="session")
def nyc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The NYC subway feed from gtfs-kit's source distribution, fetched from PyPI (not shipped: MTA terms)."""
    folder = tmp_path_factory.mktemp("sdist")
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
    subprocess.run([*pip, GTFS_KIT_SDIST, "-d", str(folder)], check=True)
    (sdist,) = folder.glob("gtfs_kit-*.tar.gz")
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("data/nyc_subway_gtfs.zip"))
        member.name = "nyc_subway_gtfs.zip"
        tar.extract(member, folder, filter="data")
    return folder / "nyc_subway_gtfs.zip"


def _raw_stop_times(feed_zip: Path) -> pd.DataFrame:
    with zipfile.ZipFile(feed_zip) as zf:
        return pd.read_csv(zf.open("stop_times.txt"), dtype=str, keep_default_na=False)


def _identity_timetable(feed_zip: Path, date: str) -> tuple[Timetable, WalkLinks]:
    """Timetable with each GTFS stop as its own node; walking only within a stop (no walks between)."""
    feed = read_feed(feed_zip)
    ids = feed.stops["stop_id"].astype(str).tolist()
    tt = feed_timetable(
        feed,
        feed_zip,
        date,
        stop_node={s: i for i, s in enumerate(ids)},
        node_xy=np.zeros((len(ids), 2)),
        fare_yuan=1.0,
        capacity=40,
    )
    walk = np.full((tt.n_stops, len(ids)), np.inf)
    walk[np.arange(tt.n_stops), tt.stop_node] = 0.0
    foot = [(np.array([s]), np.array([0.0])) for s in range(tt.n_stops)]
    return tt, WalkLinks(stop_node_min=walk, foot=foot)


def test_cairns_blank_times_are_interpolated_by_distance() -> None:
    """Cairns leaves 65 non-timepoint times blank; each is filled in proportion to the geodesic
    distance between the timed stops around it (pyproj's geodesic as the reference)."""
    raw = _raw_stop_times(CAIRNS)
    assert (raw["arrival_time"] == "").sum() == 65
    feed = read_feed(CAIRNS)
    trips, st = day_stop_times(feed, CAIRNS, "20140602")
    raw = raw[raw["trip_id"].isin(trips["trip_id"])].copy()
    raw["stop_sequence"] = raw["stop_sequence"].astype(int)
    raw = raw.sort_values(["trip_id", "stop_sequence"]).reset_index(drop=True)
    assert (raw["trip_id"].to_numpy() == st["trip_id"].to_numpy()).all()
    blank = np.flatnonzero(raw["arrival_time"].to_numpy() == "")
    assert len(blank) > 0
    stops = feed.stops.set_index("stop_id")
    geod = Geod(ellps="WGS84")
    trip = st["trip_id"].to_numpy()
    for i in blank:
        lo = i - 1
        while raw["arrival_time"].iloc[lo] == "":
            lo -= 1
        hi = i + 1
        while raw["arrival_time"].iloc[hi] == "":
            hi += 1
        assert trip[lo] == trip[i] == trip[hi]
        seg = st["stop_id"].iloc[lo : hi + 1].tolist()
        lat = stops.loc[seg, "stop_lat"].to_numpy(float)
        lon = stops.loc[seg, "stop_lon"].to_numpy(float)
        legs = geod.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2]
        share = legs[: i - lo].sum() / legs.sum()
        t_lo, t_hi = st["dep_min"].iloc[lo], st["arr_min"].iloc[hi]
        expect = t_lo + share * (t_hi - t_lo)
        assert st["arr_min"].iloc[i] == st["dep_min"].iloc[i]
        assert abs(st["arr_min"].iloc[i] - expect) < 0.01 * (t_hi - t_lo) + 1e-9


def test_a_blank_time_at_a_trips_end_names_the_trip_and_row(tmp_path: Path) -> None:
    folder = tmp_path / "sample"
    with zipfile.ZipFile(SAMPLE) as zf:
        zf.extractall(folder)
    st = pd.read_csv(folder / "stop_times.txt", dtype=str, keep_default_na=False)
    st.loc[0, ["arrival_time", "departure_time"]] = ""
    st.to_csv(folder / "stop_times.txt", index=False)
    with pytest.raises(ScenarioError) as err:
        check_gtfs_feed(folder, "20070605")
    msg = str(err.value)
    assert "stop_times.txt" in msg
    assert f"trip_id={st.loc[0, 'trip_id']}, stop_sequence={st.loc[0, 'stop_sequence']}" in msg
    assert "first and last stop" in msg


def test_cairns_pickup_and_drop_off_types_are_honoured() -> None:
    """No journey boards where pickup_type=1 or gets off where drop_off_type=1, and the restriction
    matters on this feed (ignoring it gives earlier arrivals for some pairs, never later ones)."""
    tt, walk = _identity_timetable(CAIRNS, "20140602")
    assert (~tt.st_pickup).sum() > 0 and (~tt.st_dropoff).sum() > 0
    rng = np.random.default_rng(11)
    served = np.unique(tt.stop_node[tt.st_stop])
    origins = rng.choice(served, size=40, replace=False)
    kw = dict(origins=origins, times=np.array([420.0]), targets=served, transfer_min=3.0)
    honoured = earliest_arrival(tt, walk, **kw)
    legs = honoured.leg_board >= 0
    assert legs.any()
    assert tt.st_pickup[honoured.leg_board[legs]].all()
    assert tt.st_dropoff[honoured.leg_alight[honoured.leg_alight >= 0]].all()
    free = dataclasses.replace(
        tt, st_pickup=np.ones_like(tt.st_pickup), st_dropoff=np.ones_like(tt.st_dropoff), _conn_cache={}
    )
    ignored = earliest_arrival(free, walk, **kw)
    assert np.all(ignored.arr_min <= honoured.arr_min)
    assert (ignored.arr_min < honoured.arr_min).sum() > 0


def test_frequencies_expand_with_and_without_exact_times(tmp_path: Path) -> None:
    """The sample feed's frequencies.txt (no exact_times column: 0) gives one run per headway with a
    headway/2 wait to board; with exact_times=1 the same runs need no extra wait."""
    feed = read_feed(SAMPLE)
    freq = feed.frequencies
    _, st = day_stop_times(feed, SAMPLE, "20070605")
    for exact, path in ((0, SAMPLE), (1, _with_exact_times(tmp_path))):
        _, st = day_stop_times(read_feed(path), path, "20070605")
        for tid, rows in freq.groupby("trip_id"):
            runs = st[st["gtfs_trip_id"] == tid]
            first_dep = runs.groupby("trip_id")["dep_min"].min().sort_values().to_numpy()
            expect, wait = [], []
            for _, f in rows.iterrows():
                start, end = (_sec(f["start_time"]), _sec(f["end_time"]))
                n = int(np.ceil((end - start) / f["headway_secs"]))
                expect += [(start + k * f["headway_secs"]) / 60 for k in range(n)]
                wait += [0.0 if exact else f["headway_secs"] / 120] * n
            assert np.allclose(first_dep, sorted(expect))
            by_run = runs.groupby("trip_id")[["dep_min", "board_wait_min"]].min().sort_values("dep_min")
            assert np.allclose(
                by_run["board_wait_min"], [w for _, w in sorted(zip(expect, wait, strict=True))]
            )
    assert len(st[st["gtfs_trip_id"] == "STBA"].groupby("trip_id")) == 32  # 06:00-22:00 every 30 min


def _sec(clock: str) -> int:
    h, m, s = (int(x) for x in clock.split(":"))
    return h * 3600 + m * 60 + s


def _with_exact_times(tmp_path: Path) -> Path:
    folder = tmp_path / "exact"
    with zipfile.ZipFile(SAMPLE) as zf:
        zf.extractall(folder)
    freq = pd.read_csv(folder / "frequencies.txt", dtype=str)
    freq["exact_times"] = "1"
    freq.to_csv(folder / "frequencies.txt", index=False)
    return folder


def test_planned_trips_allow_half_a_headway_where_times_are_not_exact(tmp_path: Path) -> None:
    """Arriving by the first STBA run's arrival: with exact times one leaves just in time; without,
    one is at the stop 15 min (half the 30 min headway) before the run, since its time is unknown."""
    waits = []
    for path in (SAMPLE, _with_exact_times(tmp_path)):
        tt, walk = _identity_timetable(path, "20070605")
        t = next(i for i, tid in enumerate(tt.trip_ids) if tid.startswith("STBA@"))
        first, last = tt.trip_start[t], tt.trip_start[t + 1] - 1
        j = latest_departure(
            tt,
            walk,
            targets=tt.stop_node[tt.st_stop[[last]]],
            times=np.array([tt.st_arr[last]]),
            origins=tt.stop_node[tt.st_stop[[first]]],
            transfer_min=0.0,
        )
        assert j.arr_min[0, 0] == tt.st_arr[last]
        assert j.dep_min[0, 0] == tt.st_dep[first] - j.first_wait_min[0, 0]
        waits.append(float(j.first_wait_min[0, 0]))
    assert waits == [15.0, 0.0]


def test_calendar_dates_add_and_remove_services(nyc: Path) -> None:
    cairns = read_feed(CAIRNS)
    sunday = services_on(cairns, CAIRNS, "20140601")
    christmas = services_on(cairns, CAIRNS, "20141225")  # a Thursday: weekday removed, Sunday added
    assert christmas == sunday
    assert "CNS2014-CNS_MUL-Weekday-00" in services_on(cairns, CAIRNS, "20141224")
    subway = read_feed(nyc)
    assert services_on(subway, nyc, "20241225") == {"Sunday"}
    assert services_on(subway, nyc, "20241224") == {"Weekday"}


def test_times_past_midnight_are_kept(nyc: Path) -> None:
    """Trips of a service day running past midnight keep times after 24:00 (minutes > 1440)."""
    for path, date in ((nyc, "20241218"), (CAIRNS, "20140606")):
        feed = read_feed(path)
        trips, st = day_stop_times(feed, path, date)
        raw = _raw_stop_times(path)
        raw = raw[raw["trip_id"].isin(trips["trip_id"]) & (raw["arrival_time"] != "")]
        latest = max(_sec(t) for t in raw["arrival_time"]) / 60
        assert latest > 24 * 60
        assert st["arr_min"].max() == pytest.approx(latest)
        tt, _ = _identity_timetable(path, date)
        assert tt.st_arr.max() == pytest.approx(latest)


@pytest.mark.parametrize(
    ("feed_name", "date"),
    [
        ("nyc", "20241218"),
        ("nyc", "20241225"),
        ("cairns", "20140609"),
        ("cairns", "20141225"),
        ("sample", "20070605"),
    ],
)
def test_trips_on_a_date_match_gtfs_kit(nyc: Path, feed_name: str, date: str) -> None:
    """The trips running on a date (calendar + calendar_dates) are those gtfs-kit's own
    ``get_trips`` finds; the timetable holds them (frequency templates expanded), times in order."""
    path = {"nyc": nyc, "cairns": CAIRNS, "sample": SAMPLE}[feed_name]
    feed = read_feed(path)
    trips, st = day_stop_times(feed, path, date)
    assert set(trips["trip_id"]) == set(feed.get_trips(date)["trip_id"])
    tt, _ = _identity_timetable(path, date)
    assert set(st["gtfs_trip_id"]) == set(trips["trip_id"])
    assert tt.n_trips == st["trip_id"].nunique()
    same_trip = np.repeat(np.arange(tt.n_trips), np.diff(tt.trip_start))
    inside = same_trip[1:] == same_trip[:-1]
    assert np.all(np.diff(tt.st_arr)[inside] >= 0)


@pytest.mark.parametrize(
    ("path", "date", "expected"),
    [
        (SAMPLE, "20070604", "no trip runs on 20070604 (Monday)"),  # the only service removed that day
        (CAIRNS, "20150105", "no trip runs on 20150105"),  # after the feed's calendar
        (CAIRNS, "20141301", "expected a real service date YYYYMMDD, got '20141301'"),
    ],
)
def test_a_date_without_service_is_a_clear_error(path: Path, date: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as err:
        check_gtfs_feed(path, date)
    assert expected in str(err.value)
    assert str(path) in str(err.value)


def test_a_non_utf8_file_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    with zipfile.ZipFile(SAMPLE) as zf:
        zf.extractall(folder)
    lines = (folder / "stops.txt").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("Furnace Creek", "Furnace Créek")
    (folder / "stops.txt").write_bytes("\n".join(lines).encode("latin-1"))
    with pytest.raises(ScenarioError) as err:
        check_gtfs_feed(folder, "20070605")
    assert "stops.txt: field 'line 2': expected UTF-8 text, got byte 0xe9" in str(err.value)


@pytest.mark.parametrize("as_zip", [False, True])
def test_byte_order_marks_are_accepted_and_read_as_plain_utf8(tmp_path: Path, as_zip: bool) -> None:
    """GTFS tables saved with a UTF-8 byte-order mark (common from spreadsheet tools) give the same
    stop times and stops as the same feed without the marks."""
    folder = tmp_path / "feed"
    with zipfile.ZipFile(SAMPLE) as zf:
        zf.extractall(folder)
    for table in ("stops.txt", "stop_times.txt", "trips.txt", "calendar.txt"):
        path = folder / table
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    feed_path = folder
    if as_zip:
        feed_path = tmp_path / "feed.zip"
        with zipfile.ZipFile(feed_path, "w") as zf:
            for path in sorted(folder.iterdir()):
                zf.write(path, path.name)
    plain = read_feed(SAMPLE)
    marked = read_feed(feed_path)
    pd.testing.assert_frame_equal(marked.stops, plain.stops)
    trips_a, st_a = day_stop_times(plain, SAMPLE, "20070605")
    trips_b, st_b = day_stop_times(marked, feed_path, "20070605")
    assert len(st_a) > 0
    pd.testing.assert_frame_equal(trips_b, trips_a)
    pd.testing.assert_frame_equal(st_b, st_a)
