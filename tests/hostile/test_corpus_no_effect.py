"""Settings that can do nothing: ``validate`` warns naming the field, ``validate --strict`` refuses.

Each case is an overlay on the tiny baseline (halls: 2, 1, 1 windows, open Monday to Friday).
Without ``--strict``: exit 0 and one warning naming the overlay and the field. With it: exit
code 2, the same file and field in the error, nothing written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from tests.conftest import TINY

PROXY = (
    "levers:\n  proxy:\n    services: [admin_simple]\n    uptake: {{'60+': {uptake}}}\n    days: {days}\n"
    "    agents_per_village: 1\n    capacity_per_day: 5\n    mode: car\n"
)
MOBILE = (
    "levers:\n  mobile:\n    van:\n      services: {services}\n"
    "      stops:\n        - {{village: e1, days: [wed]}}\n"
    "      hours: {{open: '09:00', close: '16:00'}}\n"
    "      service_time: {{dist: exponential, mean_min: 15}}\n"
)
APPOINTMENTS = (
    "levers:\n  appointments: {{kinds: {kinds}, share: {share}, windows: {windows}, slot_min: 15}}\n"
)

CASES: list[tuple[str, str, str]] = [
    ("proxy_on_sunday", PROXY.format(uptake=0.5, days="[sun]"), "levers.proxy.days"),
    ("proxy_on_saturday_and_sunday", PROXY.format(uptake=0.5, days="[sat, sun]"), "levers.proxy.days"),
    ("proxy_no_uptake", PROXY.format(uptake=0.0, days="[tue]"), "levers.proxy.uptake"),
    ("mobile_no_services", MOBILE.format(services="[]"), "levers.mobile.van.services"),
    ("appointments_beyond_every_hall", APPOINTMENTS.format(kinds="[hall]", share=0.5, windows=3), "windows"),
    ("appointments_nobody_books", APPOINTMENTS.format(kinds="[hall]", share=0.0, windows=1), "share"),
    (
        "appointments_no_such_kind",
        APPOINTMENTS.format(kinds="[service_point]", share=0.5, windows=1),
        "levers.appointments.kinds",
    ),
    (
        "hall_open_no_day",
        "facility_defaults:\n  hall:\n    hours: {open: '08:30', close: '17:00', days: []}\n",
        "hours",
    ),
    (
        "one_hall_open_no_day",
        "facilities:\n  west_hall:\n    hours: {open: '08:30', close: '17:00', days: []}\n",
        "facilities.west_hall.hours",
    ),
    ("transit_without_lines", "transit:\n  capacity: {max_wait_min: 30}\n", "transit.lines"),
    ("transit_empty_lines", "transit:\n  lines: {}\n  walk_max_km: 1.5\n", "transit.lines"),
    (
        "online_share_zero",
        "levers:\n  online:\n    admin_simple: {share: {'15-59': 0.0, '60+': 0.0}}\n",
        "levers.online.admin_simple.share",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("strict", [False, True], ids=["warn", "strict"])
def test_setting_without_effect(
    case: tuple[str, str, str], strict: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, text, field = case
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(text, encoding="utf-8")
    before = sorted(tmp_path.rglob("*"))
    capsys.readouterr()
    try:
        code = main(["validate", str(TINY), "--overlay", str(overlay), *(["--strict"] if strict else [])])
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    if strict:
        assert code == 2, err
        assert re.match(r"townsim: error: ", line), err
    else:
        assert code == 0, err
        assert re.match(r"townsim validate: warning: ", line), err
    assert "overlay.yaml" in line and field in line, line
    assert sorted(tmp_path.rglob("*")) == before


def test_the_shipped_scenarios_have_no_setting_without_effect(capsys: pytest.CaptureFixture[str]) -> None:
    """No false alarm on the tiny and Pingtan scenarios and lever overlays."""
    root = TINY.parents[1]
    files = [*sorted((root / "tiny").glob("*.yaml")), root / "pingtan" / "merged_2021.yaml"]
    files += sorted((root / "pingtan" / "levers").glob("*.yaml"))
    files = [f for f in files if "name" in (yaml.safe_load(f.read_text(encoding="utf-8")) or {})]  # scenarios
    capsys.readouterr()
    assert main(["validate", "--strict", *map(str, files)]) == 0, capsys.readouterr().err


def _square(lon: float, lat: float, half: float) -> str:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
    ]
    return json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})


@pytest.mark.parametrize(
    ("where", "refused"), [((0.0, 0.0), True), ((119.9, 25.6), True), ((119.75, 25.5), False)]
)
def test_an_outline_missing_the_villages_is_refused(
    where: tuple[float, float], refused: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An outline of another place (or plane) would drop generated roads as sea: exit 2 naming it."""
    (tmp_path / "land.geojson").write_text(_square(*where, 0.05 if refused else 0.5), encoding="utf-8")
    (tmp_path / "overlay.yaml").write_text("outline: land.geojson\n", encoding="utf-8")
    capsys.readouterr()
    code = main(["validate", str(TINY), "--overlay", str(tmp_path / "overlay.yaml")])
    err = capsys.readouterr().err
    if refused:
        assert code == 2, err
        line = err.strip().splitlines()[-1]
        assert "overlay.yaml" in line and "field 'outline'" in line and "km off it" in line, line
    else:
        assert code == 0, err
