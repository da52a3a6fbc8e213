"""Scenario loading: extends, overlays, overrides, and one clear message per bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.errors import ScenarioError
from sim.scenario import load_scenario
from sim.world import build_world
from tests.conftest import SCENARIOS, TINY, TINY_MERGED


def test_extends_merges_mappings_and_keeps_base_values() -> None:
    merged = load_scenario(TINY_MERGED).scenario
    base = load_scenario(TINY).scenario
    assert merged.name == "tiny_merged"
    assert merged.villages == base.villages
    assert merged.merger.units["eastwest"].members == ("east", "west")
    assert base.merger.units == {}


def test_origin_names_the_file_that_set_a_field() -> None:
    loaded = load_scenario(TINY_MERGED)
    assert loaded.origin("merger.units.eastwest") == str(TINY_MERGED)
    assert loaded.origin("facilities.east_hall.servers") == str(TINY)


def test_overlay_and_override_apply_in_order(tmp_path: Path) -> None:
    overlay = tmp_path / "more_windows.yaml"
    overlay.write_text("facilities:\n  east_hall: {servers: 5}\n", encoding="utf-8")
    loaded = load_scenario(TINY, overlays=[overlay], overrides={"behaviour.prior_wait_min": 3.0})
    assert loaded.scenario.facilities["east_hall"].servers == 5
    assert loaded.scenario.facilities["east_hall"].kind == "hall"
    assert loaded.scenario.behaviour.prior_wait_min == 3.0


def test_null_in_overlay_deletes_a_key(tmp_path: Path) -> None:
    overlay = tmp_path / "close.yaml"
    overlay.write_text("facilities:\n  east_middle: null\n", encoding="utf-8")
    assert "east_middle" not in load_scenario(TINY, overlays=[overlay]).scenario.facilities


BAD_CASES = [
    ("unknown field", lambda r: r.update(colour="red"), r"field 'colour'.*unknown field"),
    ("wrong type", lambda r: r["simulation"].update(days="many"), r"field 'simulation.days'.*integer"),
    (
        "negative capacity",
        lambda r: r["facilities"]["east_hall"].update(servers=-1),
        r"field 'facilities.east_hall.servers'.*greater than or equal to 0",
    ),
    (
        "negative seats",
        lambda r: r["facilities"]["east_primary"].update(seats=-5),
        r"field 'facilities.east_primary.seats'",
    ),
    (
        "facility in missing township",
        lambda r: r["facilities"]["east_hall"].update(unit="north"),
        r"field 'facilities.east_hall.unit'.*expected one of the units",
    ),
    (
        "hours end before start",
        lambda r: r["facility_defaults"]["hall"]["hours"].update(close="07:00"),
        r"field 'facility_defaults.hall.hours'.*closing time 07:00 must be after opening time 08:30",
    ),
    (
        "bad clock",
        lambda r: r["facility_defaults"]["hall"]["hours"].update(open="8.30"),
        r"field 'facility_defaults.hall.hours.open'.*HH:MM",
    ),
    (
        "unknown age band",
        lambda r: r["services"]["clinic"]["rate_per_person_year"].update({"90+": 1.0}),
        r"field 'services.clinic.rate_per_person_year.90\+'.*age band",
    ),
    (
        "village in missing unit",
        lambda r: r["villages"][0].update(unit="north"),
        r"field 'villages\[0\].unit'",
    ),
    (
        "unknown facility location",
        lambda r: r["facilities"]["east_hall"].update(at="nowhere"),
        r"field 'facilities.east_hall.at'",
    ),
    ("no walk mode", lambda r: r["modes"].pop("walk"), r"field 'modes.walk'.*walk"),
    (
        "ownership out of range",
        lambda r: r["modes"]["car"]["ownership"].update({"60+": 1.5}),
        r"field 'modes.car.ownership'.*\[0, 1\]",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_scenario_names_file_and_field(tiny_raw, write_scenario, case, mutate, message) -> None:
    mutate(tiny_raw)
    path = write_scenario(tiny_raw)
    with pytest.raises(ScenarioError, match=message) as info:
        build_world(load_scenario(path))
    assert str(path) in str(info.value)


def test_village_without_road_link(tiny_raw, write_scenario) -> None:
    tiny_raw["units"]["rock"] = {"zh": "礁", "en": "Rock", "seat": [30.0, 30.0], "island": "rock"}
    tiny_raw["villages"].append(
        {
            "id": "r1",
            "unit": "rock",
            "x_km": 31.0,
            "y_km": 30.0,
            "population": {b: 1 for b in tiny_raw["age_bands"]},
        }
    )
    path = write_scenario(tiny_raw)
    with pytest.raises(ScenarioError, match=r"field 'villages\[7\]'.*'r1' has no road link"):
        build_world(load_scenario(path))


def test_extends_loop_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"field 'extends'.*loop.*a.yaml -> b.yaml -> a.yaml"):
        load_scenario(tmp_path / "a.yaml")


def test_error_in_overlay_names_the_overlay(tmp_path: Path) -> None:
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("facilities:\n  east_hall: {servers: -3}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad.yaml: field 'facilities.east_hall.servers'"):
        load_scenario(TINY, overlays=[overlay])


def test_unknown_override_path_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"\(override\): field 'behaviour.patience'.*unknown field"):
        load_scenario(TINY, overrides={"behaviour.patience": 3})


def test_villages_csv_errors_name_the_line(tmp_path: Path) -> None:
    raw = yaml.safe_load((SCENARIOS / "pingtan" / "baseline.yaml").read_text(encoding="utf-8"))
    csv_text = (SCENARIOS / "pingtan" / "villages.csv").read_text(encoding="utf-8").splitlines()
    header, first = csv_text[0], csv_text[1].split(",")
    first[4] = "many"
    (tmp_path / "villages.csv").write_text("\n".join([header, ",".join(first)]) + "\n", encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(
        ScenarioError,
        match=r"villages.csv: field 'line 2, column pop_0-2': expected a whole number, got 'many'",
    ):
        load_scenario(path)
