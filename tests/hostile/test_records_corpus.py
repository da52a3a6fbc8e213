"""Hostile-input corpus of the records readers (``townsim check-records``) and ``townsim observe``.

Every case asserts: exit code 2, one ``townsim: error:`` line naming the file, the line and the
column (or the option), and nothing written: every file below the case's folder byte for byte as
it was. A second list holds legal but unusual files that must be read.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import SCENARIOS

BUSES = SCENARIOS / "tiny" / "buses.yaml"
HEADERS = {
    "hall_tickets": "facility,service,ticket_time,call_time,end_time",
    "clinic_visits": "facility,date,visits",
    "boardings": "line,date,departure,boardings",
    "survey": "village,age_band,service,mode,door_to_door_min,trips",
}
GOOD = {
    "hall_tickets": "east_hall,admin_simple,2021-05-10T09:00:00,2021-05-10T09:20:00,2021-05-10T09:35:00",
    "clinic_visits": "east_clinic,2021-05-10,12",
    "boardings": "b1,2021-05-10,07:30,4",
    "survey": "e1,60+,clinic,bus,75.5,1",
}


@dataclass(frozen=True)
class Case:
    """A records file of ``kind`` with ``content`` (bytes); the line and column the message must name."""

    id: str
    kind: str
    content: bytes
    line: int
    column: str | None


def _rows(kind: str, *rows: str, header: str | None = None, good_first: bool = True) -> bytes:
    lines = [HEADERS[kind] if header is None else header, *([GOOD[kind]] if good_first else []), *rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _t(*cells: str) -> bytes:
    """A hall_tickets file: a good row, then one row of the given cells (missing cells from GOOD)."""
    good = GOOD["hall_tickets"].split(",")
    return _rows("hall_tickets", ",".join([*cells, *good[len(cells) :]]))


def _c(row: str) -> bytes:
    return _rows("clinic_visits", row)


def _b(row: str) -> bytes:
    return _rows("boardings", row)


def _s(row: str) -> bytes:
    return _rows("survey", row)


CASES = [
    # -- any format: encoding, header, shape ------------------------------------------------
    Case("empty_file", "hall_tickets", b"", 1, None),
    Case("bom_only", "survey", b"\xef\xbb\xbf", 1, None),
    Case("header_only", "clinic_visits", _rows("clinic_visits", good_first=False), 2, None),
    Case(
        "header_only_crlf_bom",
        "boardings",
        b"\xef\xbb\xbf" + HEADERS["boardings"].encode() + b"\r\n",
        2,
        None,
    ),
    Case("blank_lines_only", "survey", (HEADERS["survey"] + "\n\n\n").encode(), 2, None),
    Case(
        "wrong_header_name",
        "hall_tickets",
        _rows("hall_tickets", header=HEADERS["hall_tickets"].replace("ticket_time", "ticket")),
        1,
        "ticket_time",
    ),
    Case("missing_column", "clinic_visits", b"facility,date\nclinic_east,2021-05-10\n", 1, "visits"),
    Case("extra_column", "boardings", _rows("boardings", header=HEADERS["boardings"] + ",note"), 1, "note"),
    Case("repeated_column", "survey", _rows("survey", header=HEADERS["survey"] + ",trips"), 1, "trips"),
    Case("header_in_chinese", "clinic_visits", "机构,日期,人次\nx,2021-05-10,3\n".encode(), 1, "facility"),
    Case(
        "gbk_bytes_in_row",
        "survey",
        HEADERS["survey"].encode() + b"\n" + "东村,60+,clinic,bus,10,1\n".encode("gbk"),
        2,
        "village",
    ),
    Case("gbk_bytes_in_header", "clinic_visits", "机构,date,visits\n".encode("gbk"), 1, "1"),
    Case(
        "latin1_byte_late",
        "boardings",
        _b("b1,2021-05-10,07:30,4") + "b1,2021-05-11,07:\xe930,4\n".encode("latin-1"),
        4,
        "departure",
    ),
    Case("too_few_fields", "hall_tickets", _rows("hall_tickets", "east_hall,admin_simple"), 3, "ticket_time"),
    Case("too_many_fields", "clinic_visits", _c("east_clinic,2021-05-11,3,9"), 3, "4 (beyond the header)"),
    Case(
        "crlf_error_line",
        "clinic_visits",
        _c("east_clinic,2021-05-11,-1").replace(b"\n", b"\r\n"),
        3,
        "visits",
    ),
    Case(
        "quoted_newline_before_error",
        "survey",
        _rows("survey", '"e1",60+,"clin\nic",bus,10,1', "e1,60+,clinic,bus,10,0"),
        3,
        "service",
    ),
    Case("nul_byte", "clinic_visits", _c("east_clinic,2021-05-11,\x003"), 3, "visits"),
    Case("cell_of_200_000_chars", "survey", _s("e1," + "x" * 200_000 + ",clinic,bus,10,1"), 3, "age_band"),
    # -- hall_tickets ----------------------------------------------------------------------
    Case("ticket_nan", "hall_tickets", _t("east_hall", "admin_simple", "nan"), 3, "ticket_time"),
    Case("ticket_blank", "hall_tickets", _t("east_hall", "admin_simple", ""), 3, "ticket_time"),
    Case(
        "ticket_feb_30",
        "hall_tickets",
        _t("east_hall", "admin_simple", "2021-02-30T09:00:00"),
        3,
        "ticket_time",
    ),
    Case(
        "ticket_hour_24",
        "hall_tickets",
        _t("east_hall", "admin_simple", "2021-05-10T24:00:00"),
        3,
        "ticket_time",
    ),
    Case(
        "ticket_with_offset",
        "hall_tickets",
        _t("east_hall", "admin_simple", "2021-05-10T09:00:00+08:00"),
        3,
        "ticket_time",
    ),
    Case(
        "ticket_year_9999",
        "hall_tickets",
        _t("east_hall", "admin_simple", "9999-05-10T09:00:00"),
        3,
        "ticket_time",
    ),
    Case(
        "ticket_slashes",
        "hall_tickets",
        _t("east_hall", "admin_simple", "2021/05/10 09:00"),
        3,
        "ticket_time",
    ),
    Case(
        "ticket_unix_seconds", "hall_tickets", _t("east_hall", "admin_simple", "1620608400"), 3, "ticket_time"
    ),
    Case("unknown_facility", "hall_tickets", _t("hall_east"), 3, "facility"),
    Case("school_facility", "hall_tickets", _t("east_primary"), 3, "facility"),
    Case("unknown_service", "hall_tickets", _t("east_hall", "passport"), 3, "service"),
    Case(
        "call_before_ticket",
        "hall_tickets",
        _t("east_hall", "admin_simple", "2021-05-10T09:00:00", "2021-05-10T08:59:59"),
        3,
        "call_time",
    ),
    Case(
        "end_before_call",
        "hall_tickets",
        _t("east_hall", "admin_simple", "2021-05-10T09:00:00", "2021-05-10T09:10:00", "2021-05-10T09:05:00"),
        3,
        "end_time",
    ),
    Case(
        "end_without_call",
        "hall_tickets",
        _t("east_hall", "admin_simple", "2021-05-10T09:00:00", "", "2021-05-10T09:05:00"),
        3,
        "end_time",
    ),
    Case(
        "call_next_day",
        "hall_tickets",
        _t("east_hall", "admin_simple", "2021-05-10T16:00:00", "2021-05-11T08:40:00", "2021-05-11T08:50:00"),
        3,
        "call_time",
    ),
    Case(
        "call_is_inf",
        "hall_tickets",
        _t("east_hall", "admin_simple", "2021-05-10T09:00:00", "inf"),
        3,
        "call_time",
    ),
    # -- clinic_visits ----------------------------------------------------------------------
    Case("visits_negative", "clinic_visits", _c("east_clinic,2021-05-11,-3"), 3, "visits"),
    Case("visits_fraction", "clinic_visits", _c("east_clinic,2021-05-11,1.5"), 3, "visits"),
    Case("visits_nan", "clinic_visits", _c("east_clinic,2021-05-11,NaN"), 3, "visits"),
    Case("visits_inf", "clinic_visits", _c("east_clinic,2021-05-11,inf"), 3, "visits"),
    Case("visits_blank", "clinic_visits", _c("east_clinic,2021-05-11,"), 3, "visits"),
    Case("visits_huge", "clinic_visits", _c("east_clinic,2021-05-11,99999999999999999999"), 3, "visits"),
    Case("visits_over_bound", "clinic_visits", _c("east_clinic,2021-05-11,2000000000"), 3, "visits"),
    Case("visits_fullwidth_digits", "clinic_visits", _c("east_clinic,2021-05-11,１２"), 3, "visits"),
    Case("visits_repeat_day", "clinic_visits", _c("east_clinic,2021-05-10,7"), 3, "date"),
    Case("visits_at_a_hall", "clinic_visits", _c("east_hall,2021-05-11,7"), 3, "facility"),
    Case("visits_unknown_clinic", "clinic_visits", _c("north_clinic,2021-05-11,7"), 3, "facility"),
    Case("date_slashes", "clinic_visits", _c("east_clinic,2021/05/11,7"), 3, "date"),
    Case("date_month_13", "clinic_visits", _c("east_clinic,2021-13-01,7"), 3, "date"),
    Case("date_with_time", "clinic_visits", _c("east_clinic,2021-05-11T00:00,7"), 3, "date"),
    # -- boardings --------------------------------------------------------------------------
    Case("departure_24_00", "boardings", _b("b1,2021-05-10,24:00,3"), 3, "departure"),
    Case("departure_25_10", "boardings", _b("b1,2021-05-10,25:10,3"), 3, "departure"),
    Case("departure_minutes_60", "boardings", _b("b1,2021-05-10,07:60,3"), 3, "departure"),
    Case("departure_words", "boardings", _b("b1,2021-05-10,7h30,3"), 3, "departure"),
    Case("departure_repeat_same_minute", "boardings", _b("b1,2021-05-10,7:30,2"), 3, "departure"),
    Case("unknown_line", "boardings", _b("b9,2021-05-10,07:30,3"), 3, "line"),
    Case("boardings_negative", "boardings", _b("b1,2021-05-10,08:30,-3"), 3, "boardings"),
    Case("boardings_nan", "boardings", _b("b1,2021-05-10,08:30,nan"), 3, "boardings"),
    # -- survey -----------------------------------------------------------------------------
    Case("unknown_village", "survey", _s("x9,60+,clinic,bus,10,1"), 3, "village"),
    Case("unknown_age_band", "survey", _s("e1,60-64,clinic,bus,10,1"), 3, "age_band"),
    Case("unknown_mode", "survey", _s("e1,60+,clinic,boat,10,1"), 3, "mode"),
    Case("unknown_survey_service", "survey", _s("e1,60+,school,bus,10,1"), 3, "service"),
    Case("minutes_nan", "survey", _s("e1,60+,clinic,bus,nan,1"), 3, "door_to_door_min"),
    Case("minutes_zero", "survey", _s("e1,60+,clinic,bus,0,1"), 3, "door_to_door_min"),
    Case("minutes_negative", "survey", _s("e1,60+,clinic,bus,-5,1"), 3, "door_to_door_min"),
    Case("minutes_overflow", "survey", _s("e1,60+,clinic,bus,1e309,1"), 3, "door_to_door_min"),
    Case("minutes_month", "survey", _s("e1,60+,clinic,bus,50000,1"), 3, "door_to_door_min"),
    Case("minutes_comma_decimal", "survey", _s('e1,60+,clinic,bus,"75,5",1'), 3, "door_to_door_min"),
    Case("trips_zero", "survey", _s("e1,60+,clinic,bus,10,0"), 3, "trips"),
    Case(
        "first_error_in_file_order",
        "survey",
        _s("e1,60+,clinic,bus,10,0") + b"x9,60+,clinic,bus,10,1\n",
        3,
        "trips",
    ),
]


def _snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 (or "dir") of everything below ``folder``, hidden files included."""
    return {
        str(p.relative_to(folder)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
    }


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse: usage errors
        return int(exc.code or 0)


def _last_error(err: str) -> str:
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    assert re.match(r"townsim: error:", message), err
    return message


def test_the_records_corpus_is_large() -> None:
    assert len(CASES) >= 40
    assert {c.kind for c in CASES} == set(HEADERS)


def test_the_good_rows_are_good(tmp_path: Path) -> None:
    """The corpus' base rows are read (so each case fails for its own reason)."""
    for kind in HEADERS:
        (tmp_path / f"{kind}.csv").write_bytes(_rows(kind))
    assert main(["check-records", str(BUSES), str(tmp_path)]) == 0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_records_exit_2_naming_file_line_and_column(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"{case.kind}.csv"
    path.write_bytes(case.content)
    before = _snapshot(tmp_path)
    capsys.readouterr()
    code = _exit_code(["check-records", str(BUSES), str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    message = _last_error(err)
    assert str(path) in message
    assert f"line {case.line}" in message, message
    if case.column is not None:
        assert f"column {case.column}" in message, message
    assert "expected" in message
    assert _snapshot(tmp_path) == before


LEGAL = {
    "bom_crlf": ("clinic_visits", b"\xef\xbb\xbf" + _c("east_clinic,2021-05-11,0").replace(b"\n", b"\r\n")),
    "columns_reordered": (
        "boardings",
        b"boardings,departure,date,line\n4,07:30,2021-05-10,b1\n0,7:05,2021-05-10,f1\n",
    ),
    "spaces_around_cells": ("survey", _s(" e1 , 60+ , clinic , walk , 12 , 2 ")),
    "blank_lines_between_rows": ("clinic_visits", _c("") + b"\n\nwest_clinic,2021-05-11,3\n"),
    "space_for_T_and_no_seconds": (
        "hall_tickets",
        _t("west_hall", "admin_complex", "2021-05-10 10:00", "2021-05-10 10:45", ""),
    ),
    "ticket_never_called": ("hall_tickets", _t("isle_hall", "admin_simple", "2021-05-10T16:50:00", "", "")),
    "fractional_seconds": ("hall_tickets", _t("east_clinic", "clinic", "2021-05-10T09:00:00.250")),
    "no_final_newline": ("survey", _rows("survey").rstrip(b"\n")),
    "quoted_cells": ("clinic_visits", _c('"east_clinic","2021-05-12","3"')),
}


@pytest.mark.parametrize("name", list(LEGAL))
def test_legal_but_unusual_records_are_read(name: str, tmp_path: Path) -> None:
    kind, content = LEGAL[name]
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    assert main(["check-records", str(BUSES), str(path)]) == 0


# -- check-records and observe: options and folders -------------------------------------------
@pytest.fixture(scope="module")
def bus_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("records_corpus") / "run"
    assert main(["run", str(BUSES), "--days", "3", "--out", str(out)]) == 0
    return out


def _observe(*extra: str) -> Callable[[Path, Path], list[str]]:
    def argv(tmp: Path, run: Path) -> list[str]:
        return ["observe", str(run), "--out", str(tmp / "rec"), *extra]

    return argv


def _user_folder(tmp: Path, run: Path) -> list[str]:
    (tmp / "rec").mkdir()
    (tmp / "rec" / "mine.txt").write_text("keep me", encoding="utf-8")
    return ["observe", str(run), "--out", str(tmp / "rec"), "--start-date", "2021-05-10"]


def _out_is_a_file(tmp: Path, run: Path) -> list[str]:
    (tmp / "rec").write_text("a file", encoding="utf-8")
    return ["observe", str(run), "--out", str(tmp / "rec"), "--start-date", "2021-05-10"]


def _not_a_run(tmp: Path, run: Path) -> list[str]:
    (tmp / "empty").mkdir()
    return ["observe", str(tmp / "empty"), "--out", str(tmp / "rec"), "--start-date", "2021-05-10"]


def _scenario_changed(tmp: Path, run: Path) -> list[str]:
    """A run whose scenario file was edited after the run: its ids may no longer be the run's."""
    scenario = tmp / "s.yaml"
    shutil.copy(BUSES, scenario)
    for parent in ("merged.yaml", "baseline.yaml"):
        shutil.copy(SCENARIOS / "tiny" / parent, tmp / parent)
    assert main(["run", str(scenario), "--days", "2", "--out", str(tmp / "run")]) == 0
    text = scenario.read_text(encoding="utf-8")
    scenario.write_text(text.replace("name: tiny_buses", "name: tiny_buses_edited", 1), encoding="utf-8")
    return ["observe", str(tmp / "run"), "--out", str(tmp / "rec"), "--start-date", "2021-05-10"]


def _records_file_unnamed(tmp: Path, run: Path) -> list[str]:
    (tmp / "export.csv").write_bytes(_rows("clinic_visits"))
    return ["check-records", str(BUSES), str(tmp / "export.csv")]


def _records_folder_empty(tmp: Path, run: Path) -> list[str]:
    (tmp / "records").mkdir()
    return ["check-records", str(BUSES), str(tmp / "records")]


def _records_file_missing(tmp: Path, run: Path) -> list[str]:
    return ["check-records", str(BUSES), str(tmp / "survey.csv")]


COMMAND_CASES: dict[str, tuple[Callable[[Path, Path], list[str]], tuple[str, ...]]] = {
    "observe_start_date_not_iso": (_observe("--start-date", "2021-5-10"), ("--start-date", "YYYY-MM-DD")),
    "observe_start_date_feb_30": (_observe("--start-date", "2021-02-30"), ("--start-date",)),
    "observe_start_date_off_weekday": (_observe("--start-date", "2021-05-12"), ("start_date", "mon", "wed")),
    "observe_survey_share_zero": (
        _observe("--start-date", "2021-05-10", "--survey-share", "0"),
        ("--survey-share",),
    ),
    "observe_survey_share_nan": (
        _observe("--start-date", "2021-05-10", "--survey-share", "nan"),
        ("--survey-share",),
    ),
    "observe_survey_share_big": (
        _observe("--start-date", "2021-05-10", "--survey-share", "1.5"),
        ("--survey-share",),
    ),
    "observe_over_user_folder": (_user_folder, ("rec", "not written by townsim")),
    "observe_out_is_a_file": (_out_is_a_file, ("rec",)),
    "observe_not_a_run": (_not_a_run, ("empty", "not a townsim run folder")),
    "observe_scenario_changed": (_scenario_changed, ("s.yaml", "changed after the run")),
    "check_records_unnamed_file": (_records_file_unnamed, ("export.csv", "--kind")),
    "check_records_empty_folder": (_records_folder_empty, ("records", "expected one of")),
    "check_records_missing_file": (_records_file_missing, ("survey.csv", "existing")),
}


@pytest.mark.parametrize("name", list(COMMAND_CASES))
def test_hostile_observe_and_check_records_exit_2(
    name: str,
    tmp_path: Path,
    bus_run: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup, expect = COMMAND_CASES[name]
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = setup(tmp_path, bus_run)
    before, run_before = _snapshot(tmp_path), _snapshot(bus_run)
    capsys.readouterr()
    code = _exit_code(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    for text in expect:
        assert text in message, f"{text!r} not in {message!r}"
    assert _snapshot(tmp_path) == before
    assert _snapshot(bus_run) == run_before
