"""Records made from a run (``observe``) read back by the readers, identically; the CLI end to end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.observed.observe import observe_run, observe_tables, records_csv, write_records
from sim.observed.records import KINDS, SCHEMAS, read_records_dir
from sim.scenario.load import load_scenario
from tests.conftest import SCENARIOS

BUSES = SCENARIOS / "tiny" / "buses.yaml"
MONDAY = dt.date(2021, 5, 10)


@pytest.fixture(scope="module")
def bus_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("observe") / "run"
    assert main(["run", str(BUSES), "--days", "14", "--out", str(out)]) == 0
    return out


def test_every_kind_reads_back_as_written(bus_run: Path, tmp_path: Path) -> None:
    scenario = load_scenario(BUSES).scenario
    records = observe_run(bus_run, MONDAY)
    assert set(records) == set(KINDS)
    write_records(records, tmp_path / "rec")
    back = read_records_dir(tmp_path / "rec", scenario)
    for kind in KINDS:
        assert len(records[kind]) > 0, kind
        assert list(records[kind].columns) == SCHEMAS[kind].names
        pd.testing.assert_frame_equal(back[kind], records[kind])


def test_records_follow_the_run(bus_run: Path) -> None:
    """Counts agree with the run's own tables: tickets = hall trips, visits = served clinic trips."""
    trips = pd.read_parquet(bus_run / "trips.parquet")
    loads = pd.read_parquet(bus_run / "line_loads.parquet")
    records = observe_run(bus_run, MONDAY)
    places = pd.read_parquet(bus_run / "places.parquet")
    halls = set(places.loc[places["kind"].isin(["hall", "service_point"]), "id"])
    clinics = set(places.loc[places["kind"] == "clinic", "id"])
    at_hall = trips["facility"].astype(str).isin(halls)
    assert len(records["hall_tickets"]) == at_hall.sum()
    called = records["hall_tickets"]["call_time"].notna()
    assert called.sum() == trips.loc[at_hall, "outcome"].isin(["completed", "referred"]).sum()
    served_clinic = trips["facility"].astype(str).isin(clinics) & trips["outcome"].isin(
        ["completed", "referred"]
    )
    assert records["clinic_visits"]["visits"].sum() == served_clinic.sum()
    assert records["boardings"]["boardings"].sum() == pytest.approx(
        loads["boardings"].sum(), abs=0.5 * len(loads)
    )
    tickets = records["hall_tickets"]
    assert (tickets["ticket_time"].dt.normalize() >= pd.Timestamp(MONDAY)).all()
    assert (tickets["ticket_time"].dt.normalize() < pd.Timestamp(MONDAY) + pd.Timedelta(days=14)).all()
    errands = pd.read_parquet(bus_run / "errands.parquet")
    surveyed = errands.loc[(errands["status"] == "completed") & (errands["arise_day"] >= 0), "errand"]
    assert records["survey"]["trips"].sum() == trips["errand"].isin(surveyed).sum()


def test_survey_share_keeps_the_same_errands(bus_run: Path) -> None:
    full = observe_run(bus_run, MONDAY)["survey"]
    part = observe_run(bus_run, MONDAY, survey_share=0.3)["survey"]
    assert 0.15 * len(full) < len(part) < 0.45 * len(full)


def test_observe_cli_writes_a_records_folder(
    bus_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "records"
    assert main(["observe", str(bus_run), "--out", str(out), "--start-date", "2021-05-10"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".townsim",
        "README.md",
        *sorted(f"{k}.csv" for k in KINDS),
    ]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "Synthetic records" in readme and "--start-date 2021-05-10" in readme
    assert main(["check-records", str(BUSES), str(out)]) == 0
    assert capsys.readouterr().out.count(": OK (") == 4
    # the same command again replaces townsim's own folder
    assert main(["observe", str(bus_run), "--out", str(out), "--start-date", "2021-05-10"]) == 0


def test_start_date_must_fall_on_the_start_weekday(
    bus_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "records"
    assert main(["observe", str(bus_run), "--out", str(out), "--start-date", "2021-05-11"]) == 2
    err = capsys.readouterr().err
    assert "start_date" in err and "mon" in err and "tue" in err
    assert not out.exists()


def test_observe_tables_in_memory_without_bus_lines() -> None:
    """A scenario without transit: no boardings; every other kind typed as the reader types it."""
    from sim.runner import run_loaded

    loaded = load_scenario(SCENARIOS / "tiny" / "baseline.yaml")
    result = run_loaded(loaded, days=7)
    tables = {
        n: getattr(result, n)
        for n in ("trips", "errands", "facility_days", "residents", "places", "line_loads")
    }
    records = observe_tables(tables, loaded.scenario, MONDAY)
    assert len(records["boardings"]) == 0
    assert records["hall_tickets"]["ticket_time"].dtype == np.dtype("datetime64[ns]")
    text = records_csv("clinic_visits", records["clinic_visits"])
    assert text.startswith("facility,date,visits\n") and "\r" not in text


def test_the_shipped_pingtan_records_are_synthetic_and_read() -> None:
    folder = SCENARIOS / "pingtan" / "observed"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "Synthetic records, not observations" in readme and "townsim observe" in readme
    scenario = load_scenario(SCENARIOS / "pingtan" / "merged_2021_buses.yaml").scenario
    records = read_records_dir(folder, scenario)
    assert set(records) == set(KINDS)
    assert sum(p.stat().st_size for p in folder.iterdir()) < 5_000_000


def test_docs_show_each_schema_as_the_code_defines_it() -> None:
    """docs/records.md holds each format's table exactly as schema_markdown writes it (one source)."""
    from sim.observed.records import schema_markdown

    docs = (SCENARIOS.parent / "docs" / "records.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert schema_markdown(kind) in docs, kind


def test_a_csv_run_folder_gives_the_same_records(bus_run: Path, tmp_path: Path) -> None:
    """Run folders written with --csv (ids as plain text) observe as the Parquet ones do."""
    csv_run = tmp_path / "csv_run"
    assert main(["run", str(BUSES), "--days", "14", "--csv", "--out", str(csv_run)]) == 0
    a, b = observe_run(bus_run, MONDAY), observe_run(csv_run, MONDAY)
    for kind in KINDS:
        assert records_csv(kind, a[kind]) == records_csv(kind, b[kind]), kind


def test_boardings_of_lines_from_a_gtfs_feed(tmp_path: Path) -> None:
    """A scenario whose lines come from a GTFS feed: boardings name the feed's route ids."""
    feed = tmp_path / "feed.zip"
    assert main(["export-gtfs", str(BUSES), str(feed)]) == 0
    overlay = tmp_path / "gtfs.yaml"
    overlay.write_text(
        "roads: {ferries: {isle_ferry: null}}\n"
        "transit: {lines: {}, gtfs: {path: feed.zip, date: '20240506'}}\n",
        encoding="utf-8",
    )
    run, records = tmp_path / "run", tmp_path / "records"
    assert (
        main(
            [
                "run",
                str(SCENARIOS / "tiny" / "merged.yaml"),
                "--overlay",
                str(overlay),
                "--days",
                "7",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert main(["observe", str(run), "--out", str(records), "--start-date", "2021-05-10"]) == 0
    boardings = pd.read_csv(records / "boardings.csv")
    assert len(boardings) > 0
    merged = SCENARIOS / "tiny" / "merged.yaml"
    assert (
        main(["check-records", str(merged), "--overlay", str(overlay), str(records / "boardings.csv")]) == 0
    )
    assert (
        main(["check-records", str(merged), str(records / "boardings.csv")]) == 2
    )  # no lines without the feed
