"""Hostile input to the calendar and families blocks: exit code 2, one message naming the file and
the field, no run folder written, the scenario file left as it was."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import main
from tests.conftest import TINY

BASE: dict[str, Any] = yaml.safe_load(TINY.read_text(encoding="utf-8"))
START = "2024-01-01"
BUS = {"school": "east_middle", "stops": ["e1"], "capacity": 10}

#: (id, calendar block or None, families block or None, extra argv, text the message names)
CASES: list[tuple[str, Any, Any, list[str], str]] = [
    ("start_not_a_date", {"start_date": "soon"}, None, [], "calendar.start_date"),
    ("start_wrong_weekday", {"start_date": "2024-01-03"}, None, [], "calendar.start_date"),
    ("holidays_after_tables", {"start_date": "2026-12-28", "public_holidays": True}, None, [], "start_date"),
    (
        "holidays_days_override",
        {"start_date": "2026-12-07", "public_holidays": True},
        None,
        ["--days", "60"],
        "calendar.start_date",
    ),
    ("ferry_date_text", {"start_date": START, "ferry": {"dates": ["tomorrow"]}}, None, [], "ferry.dates"),
    (
        "monthly_nan",
        {"start_date": START, "ferry": {"draw": {"monthly_days": {1: math.nan}}}},
        None,
        [],
        "monthly_days",
    ),
    (
        "monthly_negative",
        {"start_date": START, "ferry": {"draw": {"monthly_days": {1: -1.0}}}},
        None,
        [],
        "monthly_days",
    ),
    (
        "monthly_month_zero",
        {"start_date": START, "ferry": {"draw": {"monthly_days": {0: 1.0}}}},
        None,
        [],
        "monthly_days",
    ),
    (
        "typhoon_inf",
        {"start_date": START, "ferry": {"draw": {"typhoons": {"per_year": math.inf}}}},
        None,
        [],
        "per_year",
    ),
    (
        "typhoon_days_zero",
        {"start_date": START, "ferry": {"draw": {"typhoons": {"closure_days": 0}}}},
        None,
        [],
        "closure_days",
    ),
    (
        "absent_share_2",
        {"start_date": START, "spring_festival": {"absent_share": 2}},
        None,
        [],
        "absent_share",
    ),
    (
        "absent_village_unknown",
        {"start_date": START, "spring_festival": {"by_village": {"zz": 0.1}}},
        None,
        [],
        "by_village",
    ),
    ("calendar_unknown_field", {"start_date": START, "wind": True}, None, [], "calendar.wind"),
    ("families_not_a_mapping", None, [1, 2], [], "families"),
    ("level_unknown", None, {"levels": {"college": {}}}, [], "families.levels.college"),
    ("board_min_negative", None, {"levels": {"middle": {"board_over_min": -5}}}, [], "board_over_min"),
    ("escort_without_households", None, {"escort_clinic_below_age": 5}, [], "families.households"),
    ("escort_age_99", None, {"households": {}, "escort_clinic_below_age": 99}, [], "escort_clinic_below_age"),
    ("sizes_not_summing", None, {"households": {"size_shares": {1: 0.2}}}, [], "size_shares"),
    (
        "shares_over_one",
        None,
        {"households": {"left_behind_share": 0.9, "three_generation_share": 0.2}},
        [],
        "households",
    ),
    (
        "tp_level_unknown",
        None,
        {"teaching_points": {"level": "college", "villages": ["e1"]}},
        [],
        "teaching_points.level",
    ),
    (
        "bus_school_unknown",
        None,
        {"school_buses": {"b": {**BUS, "school": "nowhere"}}},
        [],
        "school_buses.b.school",
    ),
    ("bus_capacity_zero", None, {"school_buses": {"b": {**BUS, "capacity": 0}}}, [], "capacity"),
    ("bus_across_water", None, {"school_buses": {"b": {**BUS, "stops": ["i1"]}}}, [], "school_buses.b.stops"),
]


@pytest.mark.parametrize(("case", "calendar", "families", "extra", "named"), CASES, ids=[c[0] for c in CASES])
def test_hostile_family_and_calendar_input_exits_2(
    case: str,
    calendar: Any,
    families: Any,
    extra: list[str],
    named: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw = copy.deepcopy(BASE)
    if calendar is not None:
        raw["calendar"] = calendar
    if families is not None:
        raw["families"] = families
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = path.read_bytes()
    out = tmp_path / "run"
    capsys.readouterr()
    try:
        code = main(["run", str(path), "--out", str(out), "--quiet", *extra])
    except SystemExit as exc:  # argparse-level errors exit through SystemExit
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    assert message.startswith("townsim: error:") and str(path) in message and named in message, message
    assert not out.exists()
    assert path.read_bytes() == before
