"""A bus scenario end to end: trips record lines and waits, line loads, no way home, rank-lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.runner import run_scenario
from sim.scenario.load import load_scenario
from sim.transit.plan import plan_home
from sim.transit.tables import build_bus_tables
from sim.world.world import build_world
from tests.conftest import SCENARIOS

BUSES = SCENARIOS / "tiny" / "buses.yaml"


@pytest.fixture(scope="module")
def bus_run() -> pd.DataFrame:
    _, result = run_scenario(BUSES, days=14, overrides={"simulation.warmup_days": 0})  # every trip measured
    return result


def test_bus_trips_record_lines_waits_and_loads(bus_run) -> None:  # type: ignore[no-untyped-def]
    trips = bus_run.trips
    bus = trips[trips["mode"] == "bus"]
    assert len(bus) > 0
    assert (bus["lines_out"].astype(str) != "").all()
    assert (bus["departure_min"] <= bus["arrival_min"]).all()
    assert np.allclose(bus["arrival_min"] - bus["departure_min"], bus["travel_min"])
    assert (bus["stop_wait_min"] >= 0).all() and (bus["transfer_wait_min"] >= 0).all()
    road = trips[trips["mode"] != "bus"]
    assert (road["lines_out"].astype(str) == "").all()
    assert np.array_equal(road["return_min"], road["travel_min"])
    loads = bus_run.line_loads
    assert len(loads) > 0
    legs = sum(
        len(str(x).split(">")) for x in pd.concat([bus["lines_out"], bus["lines_home"]]).astype(str) if x
    )
    assert loads["boardings"].sum() == pytest.approx(legs)
    assert (loads["peak_load"] <= loads["boardings"] + 1e-9).all()
    assert (loads["left_behind"] == np.maximum(loads["peak_load"] - loads["capacity"], 0)).all()
    s = bus_run.summary.transit
    assert s is not None and s.bus_trips == len(bus)
    assert "b1" in s.boardings_by_line


def test_burden_counts_both_ways(bus_run) -> None:  # type: ignore[no-untyped-def]
    trips, errands = bus_run.trips, bus_run.errands
    per_errand = (
        (trips["travel_min"] + trips["wait_min"] + trips["return_min"]).groupby(trips["errand"]).sum()
    )
    done = errands.set_index("errand")["burden_min"]
    assert np.allclose(done.loc[per_errand.index], per_errand)


def test_same_seed_same_bus_trips() -> None:
    _, a = run_scenario(BUSES, days=5)
    _, b = run_scenario(BUSES, days=5)
    pd.testing.assert_frame_equal(a.trips, b.trips)
    pd.testing.assert_frame_equal(a.line_loads, b.line_loads)


def test_no_way_home_is_recorded_with_its_cost() -> None:
    loaded = load_scenario(BUSES)
    world = build_world(loaded)
    bus = build_bus_tables(loaded, world)
    fac = np.array([world.fac_ids.index("east_hall")] * 2)
    village = np.array([world.village_ids.index("i1")] * 2)
    leave = np.array([10 * 60.0, 21 * 60.0])  # a ferry still sails at 12:00; none after 16:00
    home = plan_home(
        bus,
        0,
        fac,
        village,
        leave,
        walk_home_min=np.full(2, np.inf),
        no_way_home_min=90.0,
        no_way_home_yuan=150.0,
    )
    assert not home.no_way[0] and "f1" in bus.labels[home.label[0]]
    assert home.no_way[1]
    assert home.travel_min[1] == 90.0 and home.fare_yuan[1] == 150.0


def test_islanders_reach_the_mainland_only_by_ferry() -> None:
    loaded = load_scenario(BUSES)
    world = build_world(loaded)
    bus = build_bus_tables(loaded, world)
    i1 = world.village_ids.index("i1")
    east = world.fac_ids.index("east_hall")
    j = bus.out[0]
    row = bus.out_index(0, np.array([east]), np.array([i1]), np.array([11 * 60.0]))
    legs = j.leg_trip.reshape(-1, 4)[row[0]]
    assert bus.timetable.trip_ids[legs[0]].startswith("f1")
    assert j.arr_min.ravel()[row[0]] <= 11 * 60


def test_rank_lines_on_the_tiny_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cand = tmp_path / "candidates.yaml"
    cand.write_text(
        "lines:\n"
        "  c_east: {stops: [e1, 'seat:east', e2], speed_kph: 25,"
        " headway: {first: '07:00', last: '17:00', every_min: 60}, fare_yuan: 2}\n"
        "  c_west: {stops: [w1, w2], along_road: true, speed_kph: 25, departures: ['08:00'], fare_yuan: 2}\n"
        "  c_late: {stops: [w1, w2], along_road: true, speed_kph: 25, departures: ['22:30'], fare_yuan: 2}\n",
        encoding="utf-8",
    )
    out = tmp_path / "rank.csv"
    args = ["rank-lines", str(BUSES), str(cand), "--days", "5", "--replications", "3", "--out", str(out)]
    assert main(args) == 0
    table = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert set(table["line"]) == {"c_east", "c_west", "c_late"}
    assert list(table["rank"]) == [1, 2, 3] and (table["n"] == 3).all()
    late = table.set_index("line").loc["c_late"]  # a line nobody can use: same seeds, same runs
    zero = [
        "burden_fall_min",
        "burden_fall_ci_low",
        "burden_fall_ci_high",
        "gini_change",
        "person_hours_per_bus_hour",
    ]
    assert (late[zero] == 0).all()
    assert (table["bus_hours_per_day"] > 0).all()
    assert table["person_hours_per_bus_hour"].is_monotonic_decreasing
    for col in ("burden_fall", "person_hours_per_bus_hour", "gini_change"):
        mean = table[col if col != "burden_fall" else "burden_fall_min"]
        assert (table[f"{col}_ci_low"] <= mean).all() and (mean <= table[f"{col}_ci_high"]).all()
    ranked = table.set_index("line")
    for line, ties in ranked["tied_with"].items():
        low, high = ranked.loc[
            line, ["person_hours_per_bus_hour_ci_low", "person_hours_per_bus_hour_ci_high"]
        ]
        overlapping = {
            other
            for other in ranked.index
            if other != line
            and not (
                ranked.loc[other, "person_hours_per_bus_hour_ci_low"] > high
                or ranked.loc[other, "person_hours_per_bus_hour_ci_high"] < low
            )
        }
        assert set(filter(None, str(ties).split(","))) == overlapping
    assert "c_east" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("lines: {b1: {stops: [e1, e2], speed_kph: 20, departures: ['08:00']}}\n", encoding="utf-8")
    assert main(["rank-lines", str(BUSES), str(bad), "--days", "1"]) == 2
