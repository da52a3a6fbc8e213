"""Overlay and ``extends:`` semantics, strict reading (BOM, duplicates), and run identity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario.load import load_scenario, scenario_digest
from tests.conftest import SCENARIOS, TINY, TINY_MERGED

PINGTAN = SCENARIOS / "pingtan"
TINY_BUSES = SCENARIOS / "tiny" / "buses.yaml"


@pytest.mark.parametrize(
    ("base", "overlay", "direct"),
    [
        (
            PINGTAN / "merged_2021.yaml",
            PINGTAN / "merged_2021_buses.yaml",
            PINGTAN / "merged_2021_buses.yaml",
        ),
        (TINY_MERGED, TINY_BUSES, TINY_BUSES),
    ],
)
def test_overlay_and_extends_forms_resolve_identically(base: Path, overlay: Path, direct: Path) -> None:
    as_overlay = load_scenario(base, overlays=[overlay])
    as_file = load_scenario(direct)
    assert as_overlay.raw == as_file.raw
    assert as_overlay.scenario == as_file.scenario
    assert scenario_digest(as_overlay) == scenario_digest(as_file)


def test_overlay_nulls_delete_the_fixed_ferries() -> None:
    base = load_scenario(PINGTAN / "merged_2021.yaml")
    assert len(base.scenario.roads.ferries) == 4
    with_buses = load_scenario(PINGTAN / "merged_2021.yaml", overlays=[PINGTAN / "merged_2021_buses.yaml"])
    assert with_buses.scenario.roads.ferries == {}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_nulls_at_any_depth_and_at_the_top_level(tmp_path: Path) -> None:
    # a partial file with its own extends: its nulls must still delete in the scenario it overlays
    _write(tmp_path / "part.yaml", "behaviour: {choice: nearest}\n")
    overlay = _write(
        tmp_path / "overlay.yaml",
        "extends: part.yaml\n"
        "transit: null\n"  # top level
        "roads: {ferries: {isle_ferry: null}}\n"  # depth 2
        "facilities: {isle_clinic: {services: null}}\n",  # depth 2, a field back to its default
    )
    loaded = load_scenario(TINY_BUSES, overlays=[overlay])
    assert "transit" not in loaded.raw and loaded.scenario.transit is None
    assert "isle_ferry" not in loaded.scenario.roads.ferries
    assert loaded.scenario.behaviour.choice == "nearest"
    assert "services" not in loaded.raw["facilities"]["isle_clinic"]
    assert loaded.origin("transit") == str(overlay)


def test_a_null_inside_a_new_value_is_dropped_not_kept(tmp_path: Path) -> None:
    overlay = _write(tmp_path / "o.yaml", "behaviour: {choice: nearest, prior_wait_min: null}\n")
    loaded = load_scenario(TINY, overlays=[overlay])
    assert loaded.raw["behaviour"] == {"choice": "nearest"}


def test_each_file_is_applied_once(tmp_path: Path) -> None:
    # the overlay extends the scenario itself: applying it must not re-apply the base over later edits
    first = _write(tmp_path / "first.yaml", f"extends: {TINY}\nbehaviour: {{choice: nearest}}\n")
    second = _write(tmp_path / "second.yaml", f"extends: {TINY}\nsimulation: {{days: 3, seed: 7}}\n")
    loaded = load_scenario(first, overlays=[second])
    assert loaded.scenario.behaviour.choice == "nearest" and loaded.scenario.simulation.days == 3


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + TINY.read_bytes())
    assert load_scenario(path).scenario.name == "tiny_baseline"


def test_villages_csv_with_byte_order_mark(tmp_path: Path) -> None:
    raw = yaml.safe_load((PINGTAN / "baseline.yaml").read_text(encoding="utf-8"))
    (tmp_path / "villages.csv").write_bytes(b"\xef\xbb\xbf" + (PINGTAN / "villages.csv").read_bytes())
    (tmp_path / "outline.geojson").write_bytes((PINGTAN / "outline.geojson").read_bytes())
    path = _write(tmp_path / "s.yaml", yaml.safe_dump(raw, allow_unicode=True))
    assert len(load_scenario(path).scenario.villages) == len(
        load_scenario(PINGTAN / "baseline.yaml").scenario.villages
    )


def test_duplicate_key_names_key_and_line(tmp_path: Path) -> None:
    text = TINY.read_text(encoding="utf-8").replace(
        "simulation: {days: 14, seed: 7}", "simulation: {days: 14, days: 3}"
    )
    with pytest.raises(ScenarioError, match=r"field 'days': expected each key once.*line \d+"):
        load_scenario(_write(tmp_path / "dup.yaml", text))


def test_run_name_and_provenance_record_overlays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    overlay = _write(tmp_path / "nearest.yaml", "behaviour: {choice: nearest}\n")
    assert main(["run", str(TINY), "--overlay", str(overlay), "--days", "2", "--quiet"]) == 0
    out = tmp_path / "runs" / "tiny_baseline+nearest_seed7"
    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == provenance["scenario"] == "tiny_baseline+nearest"
    import hashlib

    assert provenance["overlays"] == [
        {"file": str(overlay.resolve()), "sha256": hashlib.sha256(overlay.read_bytes()).hexdigest()}
    ]
    assert provenance["scenario_sha256"] == scenario_digest(load_scenario(TINY, overlays=[overlay]))
    # --name wins; the base run without overlay goes to its own folder
    assert (
        main(["run", str(TINY), "--overlay", str(overlay), "--days", "2", "--quiet", "--name", "mine"]) == 0
    )
    assert (tmp_path / "runs" / "mine_seed7" / "summary.json").is_file()


def test_a_run_of_another_scenario_is_replaced_only_with_force(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert main(["run", str(TINY), "--days", "2", "--out", str(out), "--quiet"]) == 0
    assert main(["run", str(TINY), "--days", "3", "--out", str(out), "--quiet"]) == 0  # same scenario
    capsys.readouterr()
    assert main(["run", str(TINY_MERGED), "--days", "2", "--out", str(out), "--quiet"]) == 2
    assert "another scenario (tiny_baseline)" in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["days"] == 3
    assert main(["run", str(TINY_MERGED), "--days", "2", "--out", str(out), "--quiet", "--force"]) == 0
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenario"] == "tiny_merged"
