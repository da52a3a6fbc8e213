"""GTFS round trip through gtfs-kit, GTFS as a scenario's transit source, broken feeds refused."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario.load import load_scenario
from sim.scenario.transit import GtfsSource
from sim.transit.gtfs import read_gtfs_timetable
from sim.transit.lines import build_timetable
from sim.transit.timetable import Timetable
from sim.world.world import build_world
from tests.conftest import SCENARIOS

BUSES = SCENARIOS / "tiny" / "buses.yaml"
MERGED = SCENARIOS / "tiny" / "merged.yaml"
DATE = "20240506"


def _trips(tt: Timetable) -> dict[str, tuple]:
    out = {}
    for t, tid in enumerate(tt.trip_ids):
        lo, hi = tt.trip_start[t], tt.trip_start[t + 1]
        li = int(tt.trip_line[t])
        out[tid] = (
            tt.line_ids[li],
            tt.line_kind[li],
            float(tt.line_fare[li]),
            tuple(tt.stop_node[tt.st_stop[lo:hi]].tolist()),
            tuple(np.round(tt.st_arr[lo:hi], 6).tolist()),
            tuple(np.round(tt.st_dep[lo:hi], 6).tolist()),
            tuple(np.round(tt.st_km[lo:hi], 5).tolist()),
        )
    return out


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    out = tmp_path / "feed.zip"
    assert main(["export-gtfs", str(BUSES), str(out)]) == 0
    return out


def test_export_then_import_gives_the_same_timetable(exported: Path) -> None:
    loaded = load_scenario(BUSES)
    world = build_world(loaded)
    original = build_timetable(loaded, world)
    assert loaded.scenario.transit is not None
    transit = loaded.scenario.transit.model_copy(update={"gtfs": GtfsSource(path=str(exported), date=DATE)})
    back = read_gtfs_timetable(exported, world=world, transit=transit, date=DATE)
    assert _trips(back) == _trips(original)
    assert sorted(back.line_ids) == sorted(original.line_ids)


def test_export_folder_and_refuse_existing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "feed"
    assert main(["export-gtfs", str(BUSES), str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= {
        "stops.txt",
        "routes.txt",
        "trips.txt",
        "stop_times.txt",
        "calendar.txt",
        "agency.txt",
    }
    assert main(["export-gtfs", str(BUSES), str(out)]) == 0  # townsim's own, unchanged feed is replaced
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["export-gtfs", str(BUSES), str(out)]) == 2
    assert "'notes.txt' was added" in capsys.readouterr().err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert main(["export-gtfs", str(MERGED), str(tmp_path / "none.zip")]) == 2
    assert not (tmp_path / "none.zip").exists()


def _gtfs_overlay(tmp_path: Path, feed: Path) -> Path:
    overlay = tmp_path / "gtfs_overlay.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "roads": {"ferries": {"isle_ferry": None}},
                "transit": {"walk_max_km": 2.0, "gtfs": {"path": feed.name, "date": DATE, "capacity": 30}},
            }
        ),
        encoding="utf-8",
    )
    return overlay


def test_scenario_takes_its_transit_from_a_feed(tmp_path: Path, exported: Path) -> None:
    feed = tmp_path / "feed.zip"
    overlay = _gtfs_overlay(tmp_path, feed)
    out = tmp_path / "run"
    assert (
        main(["run", str(MERGED), "--overlay", str(overlay), "--days", "14", "--out", str(out), "--quiet"])
        == 0
    )
    trips = pd.read_parquet(out / "trips.parquet")
    bus = trips[trips["mode"] == "bus"]
    assert len(bus) > 0
    assert (bus["lines_out"].astype(str) != "").all()
    loads = pd.read_parquet(out / "line_loads.parquet")
    assert set(loads["capacity"]) == {30}


def _broken(tmp_path: Path, exported: Path, how: str) -> Path:
    folder = tmp_path / "feed"
    with zipfile.ZipFile(exported) as zf:
        zf.extractall(folder)
    st_path = folder / "stop_times.txt"
    st = pd.read_csv(st_path, dtype=str)
    if how == "order":
        first = st["trip_id"] == st["trip_id"].iloc[0]
        idx = st.index[first]
        st.loc[idx[-1], ["arrival_time", "departure_time"]] = "05:00:00"
        st.to_csv(st_path, index=False)
    elif how == "stop":
        st.loc[st.index[1], "stop_id"] = "nowhere"
        st.to_csv(st_path, index=False)
    elif how == "missing":
        st_path.unlink()
    return folder


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("order", "stop times in order"),
        ("stop", "stop_id listed in stops.txt, got 'nowhere'"),
        ("missing", "expected stop_times.txt"),
    ],
)
def test_broken_feed_is_refused_with_exit_code_2(
    tmp_path: Path, exported: Path, capsys: pytest.CaptureFixture[str], how: str, message: str
) -> None:
    feed = _broken(tmp_path, exported, how)
    overlay = _gtfs_overlay(tmp_path, feed)
    out = tmp_path / "run"
    code = main(["run", str(MERGED), "--overlay", str(overlay), "--days", "2", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "stop_times.txt" in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    with pytest.raises(ScenarioError, match="stop_times"):
        load_scenario(MERGED, overlays=[overlay])


def test_missing_feed_path(tmp_path: Path) -> None:
    overlay = _gtfs_overlay(tmp_path, tmp_path / "absent.zip")
    with pytest.raises(ScenarioError, match=r"transit.gtfs.path.*existing GTFS feed"):
        load_scenario(MERGED, overlays=[overlay])
    shutil.rmtree(tmp_path, ignore_errors=True)
