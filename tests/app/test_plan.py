"""Page edits -> overlay YAML: only what differs, validated exactly as the CLI validates it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.app.plan import choices_of, overlay_from_edits, overlay_text, save_overlay
from sim.errors import ScenarioError
from sim.scenario.load import load_scenario
from sim.world.world import build_world

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny" / "buses.yaml"
CANDIDATES = Path(__file__).with_name("tiny_candidates.yaml")


@pytest.fixture(scope="module")
def choices():
    return choices_of(load_scenario(TINY), CANDIDATES)


def test_choices_hold_the_base_plan(choices):
    by_id = {f.id: f for f in choices.facilities}
    assert by_id["west_hall"].action == "downgrade" and by_id["west_hall"].servers == 1
    assert by_id["east_hall"].action == "restaff" and by_id["east_hall"].servers == 3
    assert by_id["isle_clinic"].action == "keep" and by_id["isle_clinic"].servers == 1
    assert "east_primary" not in by_id  # schools are not edited on the page
    assert list(choices.candidates) == ["cand_w2_east"]
    assert choices.hours["hall"] == {"open": "08:30", "close": "17:00"}


def test_no_edits_no_overlay(choices):
    unchanged = {
        "facilities": {"west_hall": {"action": "downgrade", "servers": "1"}},
        "lines": [],
        "hours": {},
    }
    assert overlay_from_edits(choices, {}) == {}
    assert overlay_from_edits(choices, unchanged) == {}


def test_edits_become_an_overlay_the_model_obeys(choices, tmp_path):
    edits = {
        "lines": ["cand_w2_east"],
        "facilities": {
            "west_hall": {"action": "keep", "servers": "2"},
            "isle_clinic": {"action": "close"},
            "east_hall": {"action": "restaff", "servers": 5},
        },
        "hours": {"service_point": {"open": "08:00", "close": "19:00"}},
    }
    overlay = overlay_from_edits(choices, edits)
    path, loaded = save_overlay(overlay, scenario=TINY, scenario_label="tiny", folder=tmp_path)
    assert path.parent == tmp_path and path.read_text(encoding="utf-8").startswith("# Overlay written by")
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == overlay
    world = build_world(loaded)
    servers = dict(zip(world.fac_ids, world.fac_servers.tolist(), strict=True))
    kinds = dict(zip(world.fac_ids, world.fac_kind.tolist(), strict=True))
    assert "isle_clinic" not in servers
    assert servers["west_hall"] == 2 and kinds["west_hall"] == kinds["east_hall"]  # a hall again
    assert servers["east_hall"] == 5
    assert "cand_w2_east" in loaded.scenario.transit.lines
    assert loaded.scenario.facility_defaults["service_point"].hours.close == "19:00"
    # the same content gives the same file name
    again, _ = save_overlay(overlay, scenario=TINY, scenario_label="tiny", folder=tmp_path)
    assert again == path
    # a file of that name the user changed is never taken for the plan, nor overwritten
    changed = path.read_text(encoding="utf-8").replace("servers: 5", "servers: 50")
    path.write_text(changed, encoding="utf-8")
    with pytest.raises(ScenarioError, match="was changed"):
        save_overlay(overlay, scenario=TINY, scenario_label="tiny", folder=tmp_path)
    assert path.read_text(encoding="utf-8") == changed


@pytest.mark.parametrize(
    ("edits", "field"),
    [
        (
            {"facilities": {"east_clinic": {"action": "keep", "servers": "-2"}}},
            "merger.facilities.east_clinic.servers",
        ),
        (
            {"facilities": {"east_clinic": {"action": "keep", "servers": "two"}}},
            "merger.facilities.east_clinic.servers",
        ),
        ({"hours": {"hall": {"open": "25:00", "close": "17:00"}}}, "facility_defaults.hall.hours.open"),
        ({"hours": {"hall": {"open": "18:00", "close": "17:00"}}}, "facility_defaults.hall.hours"),
    ],
)
def test_malformed_edits_get_the_cli_error(choices, tmp_path, edits, field):
    overlay = overlay_from_edits(choices, edits)
    with pytest.raises(ScenarioError) as err:
        save_overlay(overlay, scenario=TINY, scenario_label="tiny", folder=tmp_path)
    assert f"field '{field}'" in str(err.value)
    assert list(tmp_path.glob("*.yaml")) == []  # nothing kept of a rejected plan
    bad = Path(str(err.value).split(": field")[0])
    bad.write_text(overlay_text(overlay, scenario="tiny"), encoding="utf-8")
    cli = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", str(TINY), "--overlay", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 2
    assert cli.stderr.strip() == f"townsim: error: {err.value}"


def test_unknown_names_are_refused(choices):
    with pytest.raises(ScenarioError, match=r"lines\.nope"):
        overlay_from_edits(choices, {"lines": ["nope"]})
    with pytest.raises(ScenarioError, match=r"facilities\.east_primary"):
        overlay_from_edits(choices, {"facilities": {"east_primary": {"action": "close"}}})
    with pytest.raises(ScenarioError, match=r"facilities\.east_clinic\.action"):
        overlay_from_edits(choices, {"facilities": {"east_clinic": {"action": "downgrade"}}})


def test_candidate_clashing_with_a_base_line_is_refused(tmp_path):
    clash = tmp_path / "c.yaml"
    clash.write_text(CANDIDATES.read_text(encoding="utf-8").replace("cand_w2_east", "b1"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"lines\.b1"):
        choices_of(load_scenario(TINY), clash)


def test_own_hours_of_one_facility_keep_its_days(choices, tmp_path):
    by_id = {f.id: f for f in choices.facilities}
    assert by_id["east_clinic"].hours is None  # the clinics' hours: 7 days a week
    assert by_id["east_clinic"].week["days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    edits = {
        "facilities": {
            "east_clinic": {"action": "keep", "servers": "2", "hours": {"open": "07:00", "close": "20:00"}}
        }
    }
    overlay = overlay_from_edits(choices, edits)
    assert "merger" not in overlay  # only the hours changed
    own = overlay["facilities"]["east_clinic"]["hours"]
    assert (own["open"], own["close"]) == ("07:00", "20:00") and len(own["days"]) == 7
    _, loaded = save_overlay(overlay, scenario=TINY, scenario_label="tiny", folder=tmp_path)
    base, plan = build_world(load_scenario(TINY)), build_world(loaded)
    i, j = plan.fac_ids.index("east_clinic"), plan.fac_ids.index("isle_clinic")
    assert (plan.fac_open_wd[i] == 7 * 60).all() and (plan.fac_close_wd[i] == 20 * 60).all()
    assert (plan.fac_open_wd[j] == base.fac_open_wd[j]).all()  # the other clinic keeps the kind's hours
    assert (plan.fac_close_wd[i] > base.fac_close_wd[i]).all()


def test_own_hours_cleared_or_refused(choices, tmp_path):
    # empty fields: the kind's hours, as in the base: nothing to write
    same = {
        "facilities": {"east_clinic": {"action": "keep", "servers": 2, "hours": {"open": "", "close": ""}}}
    }
    assert overlay_from_edits(choices, same) == {}
    # a downgraded facility takes the service points' hours: its own would be dropped, so refused
    with pytest.raises(ScenarioError, match=r"facilities\.west_hall\.hours.*downgrades"):
        overlay_from_edits(
            choices,
            {
                "facilities": {
                    "west_hall": {"action": "downgrade", "hours": {"open": "08:00", "close": "12:00"}}
                }
            },
        )
    # half-typed hours get the CLI's error naming the field
    half = {
        "facilities": {
            "east_hall": {"action": "restaff", "servers": 3, "hours": {"open": "08:00", "close": ""}}
        }
    }
    with pytest.raises(ScenarioError, match=r"field 'facilities\.east_hall\.hours\.close'.*HH:MM"):
        save_overlay(overlay_from_edits(choices, half), scenario=TINY, scenario_label="tiny", folder=tmp_path)
    assert list(tmp_path.glob("*.yaml")) == []
