"""Families: IPF against ipfn, households and caregivers, escorts, boarding (大练, Zhao and Barakat)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from ipfn import ipfn

from sim.errors import ScenarioError
from sim.model import AccessModel
from sim.model.households import Shares, _composition, ipf, village_margins
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.scenario.families import Households
from tests.conftest import SCENARIOS, TINY

PINGTAN_SCHOOLS = SCENARIOS / "pingtan" / "merged_2021_schools.yaml"
FAMILIES = SCENARIOS / "pingtan" / "families"
HOUSEHOLDS = {
    "families": {
        "households": {"left_behind_share": 0.25, "three_generation_share": 0.3},
        "levels": {"primary": {"escort_below_age": 12}, "middle": {"board_across_water": True}},
        "escort_clinic_below_age": 12,
    }
}


def test_own_ipf_agrees_with_the_ipfn_package() -> None:
    seed = _composition()
    margins = [
        m[0] for m in village_margins(Shares.of(Households(), ["v"]), np.array([[300.0, 900.0, 250.0]]), seed)
    ]
    ours = ipf(seed, margins, [0, 1, 2])
    theirs = ipfn.ipfn(
        seed.copy(), [m.copy() for m in margins], [[0], [1], [2]], convergence_rate=1e-12, max_iteration=5000
    ).iteration()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)
    for k, margin in enumerate(margins):
        other = tuple(a for a in range(3) if a != k)
        np.testing.assert_allclose(ours.sum(axis=other), margin, rtol=1e-8)
    assert (ours[seed == 0] == 0).all()  # structural zeros stay zero


@pytest.fixture(scope="module")
def tiny_families():
    return run_scenario(TINY, overrides=HOUSEHOLDS, days=28, seed=2)[1]


def test_every_child_has_a_caregiver_in_their_household(tiny_families) -> None:
    res = tiny_families.residents
    child = res["age"].to_numpy() < 15
    carer = res["caregiver"].to_numpy()
    assert (carer[child] >= 0).all()
    household = res["household"].to_numpy()
    assert (household[carer[child]] == household[child]).all()  # lives with them
    assert (res["age"].to_numpy()[carer[child]] >= 15).all()  # an adult or an elder
    households = tiny_families.summary.families.households
    assert households.children_without_caregiver == 0
    assert abs(households.left_behind_share_of_children - 0.25) < 0.1


def test_escort_minutes_are_twice_the_escorted_one_way_minutes_over_school_days(tiny_families) -> None:
    schools, res = tiny_families.schools, tiny_families.residents
    esc = schools[schools["escort"]].copy()
    assert len(esc) > 10
    esc["carer"] = res["caregiver"].to_numpy()[esc["resident"].to_numpy()]
    # one trip per caregiver and school: twice its one-way minutes on each school day
    trips = esc.groupby(["carer", "school"], observed=True).agg(
        one_way=("one_way_min", "max"), days=("days_attended", "max"), n=("resident", "size")
    )
    expected = float((2 * trips["one_way"] * trips["days"]).sum())
    assert esc["escort_min"].sum() == pytest.approx(expected, rel=1e-12)
    assert res["escort_school_min"].sum() == pytest.approx(expected, rel=1e-12)
    single = esc.groupby(["carer", "school"], observed=True)["resident"].transform("size") == 1
    np.testing.assert_allclose(
        esc.loc[single, "escort_min"], 2 * esc.loc[single, "one_way_min"] * esc.loc[single, "days_attended"]
    )
    assert (trips["n"] > 1).any()  # siblings share a trip: less than escorting each alone
    assert expected < float((2 * esc["one_way_min"] * esc["days_attended"]).sum())


def test_clinic_escorts_are_whole_trips_of_young_children(tiny_families) -> None:
    trips, res = tiny_families.trips, tiny_families.residents
    age = res["age"].to_numpy()[trips["resident"].to_numpy()]
    kids = trips[(age < 12) & (trips["purpose"] == "clinic")]
    minutes = kids["travel_min"] + kids["wait_min"] + kids["service_min"] + kids["return_min"]
    assert len(kids) > 0
    assert res["escort_clinic_min"].sum() == pytest.approx(float(minutes.sum()), rel=1e-12)


def test_families_leave_errands_and_trips_unchanged(tiny_families) -> None:
    plain = run_scenario(TINY, days=28, seed=2)[1]
    for table in ("trips", "errands", "facility_days"):
        pd.testing.assert_frame_equal(getattr(plain, table), getattr(tiny_families, table))


def test_dalian_middle_pupils_board_when_their_school_closes() -> None:
    loaded = load_scenario(PINGTAN_SCHOOLS, overlays=[FAMILIES / "boarding.yaml"])
    model = AccessModel(loaded, resident_agents="lazy")
    fam = model.families
    assert fam is not None
    sa = model.schools
    dalian = model.world.unit_ids.index("dalian")
    middle = list(loaded.scenario.schools.levels).index("middle")
    pupils = (model.residents.unit[sa.resident] == dalian) & (sa.level == middle) & (sa.school >= 0)
    assert pupils.sum() > 100
    assert fam.travel.crosses[pupils].all()  # their school is across the water
    assert fam.travel.boarding[pupils].all()
    assert (fam.travel.weekly_trips[pupils] == 2).all()  # home on Friday, back on Sunday
    assert not (fam.travel.crosses & ~fam.travel.boarding)[pupils].any()  # no daily crossings


def _county(consolidated: bool) -> dict[str, Any]:
    """Pupils in village p; a school 2 km away at q, one 10 km away at r (the road passes q)."""
    pop = {"6-11": 0, "12-14": 60, "15-59": 100, "60+": 20}
    empty = {"6-11": 0, "12-14": 0, "15-59": 10, "60+": 0}
    raw: dict[str, Any] = {
        "name": "consolidation",
        "age_bands": ["6-11", "12-14", "15-59", "60+"],
        "units": {"a": {"zh": "甲", "en": "A", "seat": [-3.0, 5.0], "island": "main"}},
        "villages": [
            {"id": "p", "unit": "a", "x_km": 0.0, "y_km": 0.0, "population": pop},
            {"id": "q", "unit": "a", "x_km": 0.0, "y_km": 2.0, "population": dict(empty)},
            {"id": "r", "unit": "a", "x_km": 0.0, "y_km": 10.0, "population": dict(empty)},
            {"id": "w", "unit": "a", "x_km": 5.0, "y_km": 5.0, "population": dict(empty)},
        ],
        "roads": {"generate": {"detour_factor": 1.0, "max_rural_edge_km": 8.0}},
        "modes": {"walk": {"speed_kph": {"trunk": 5.0, "rural": 5.0}}},
        "services": {
            "clinic": {"group": "health", "jurisdiction": False, "rate_per_person_year": {"60+": 1.0}}
        },
        "facilities": {
            "clinic": {
                "kind": "clinic",
                "unit": "a",
                "at": "r",
                "servers": 1,
                "services": ["clinic"],
                "service_time": {"mean_min": 10.0},
                "hours": {"open": "08:00", "close": "17:00"},
            },
            "near": {"kind": "school", "unit": "a", "at": "q", "level": "middle", "seats": 100},
            "far": {"kind": "school", "unit": "a", "at": "r", "level": "middle", "seats": 100},
        },
        "schools": {"levels": {"middle": {"attendance": {"12-14": 1.0}}}},
        "families": {"levels": {"middle": {"board_over_min": 60}}},
        "simulation": {"days": 7, "warmup_days": 0},
    }
    if consolidated:
        raw["merger"] = {"facilities": {"near": {"action": "close"}}}
    return raw


def test_boarding_leaves_weekly_pupil_km_about_neutral(write_scenario) -> None:
    """Zhao and Barakat (2015): five times the distance, boarding, about the same weekly km."""
    runs = {}
    for consolidated in (False, True):
        path = write_scenario(_county(consolidated), f"county_{consolidated}.yaml")
        runs[consolidated] = run_scenario(path, days=7)[1]
    before, after = runs[False].schools, runs[True].schools
    ratio = after["distance_km"].to_numpy() / before["distance_km"].to_numpy()
    np.testing.assert_allclose(ratio, 5.0, rtol=1e-9)
    assert not before["boarding"].any() and after["boarding"].all()
    change = after["weekly_km"].sum() / before["weekly_km"].sum() - 1
    assert abs(change) <= 0.01
    radius = [r.summary.families.school_levels["middle"].service_radius_km for r in runs.values()]
    assert radius[1] == pytest.approx(5 * radius[0])


def test_teaching_points_take_the_youngest_pupils_of_their_villages(write_scenario, tiny_raw) -> None:
    tiny_raw["families"] = {"teaching_points": {"level": "primary", "below_age": 9, "villages": ["i1", "i2"]}}
    result = run_scenario(write_scenario(tiny_raw), days=7)[1]
    s, res = result.schools, result.residents
    age = res["age"].to_numpy()[s["resident"].to_numpy()]
    island = s["origin"].astype(str).isin(["i1", "i2"]).to_numpy()
    primary = (s["level"] == "primary").to_numpy()
    tp = s["teaching_point"].to_numpy()
    assert (tp == (island & primary & (age < 9))).all() and tp.any()
    assert (s.loc[tp, "school"].astype(str) == "tp:" + s.loc[tp, "origin"].astype(str)).all()
    assert (s.loc[tp, "distance_km"] == 0.5).all()


def test_bad_families_blocks_are_refused(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    cases = [
        ({"levels": {"college": {"board_over_min": 30}}}, "families.levels.college"),
        ({"levels": {"primary": {"escort_below_age": 9}}}, "families.households"),
        ({"teaching_points": {"level": "primary", "villages": ["nowhere"]}}, "teaching_points.villages"),
        ({"households": {"size_shares": {1: 0.5, 2: 0.4}}}, "size_shares"),
        ({"households": {"left_behind_share": 1.5}}, "left_behind_share"),
        ({"households": {"left_behind_share": 0.8, "three_generation_share": 0.3}}, "at most 1"),
        ({"households": {"by_village": {"nowhere": {"left_behind_share": 0.3}}}}, "by_village.nowhere"),
        ({"households": {"by_village": {"e1": {"size_shares": {1: 0.5}}}}}, "size_shares"),
        ({"levels": {"middle": {"board_over_min": float("nan")}}}, "board_over_min"),
    ]
    for families, field in cases:
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump({**tiny_raw, "families": families}), encoding="utf-8")
        with pytest.raises(ScenarioError) as err:
            load_scenario(path)
        assert field in str(err.value)
        assert err.value.exit_code == 2


def test_compare_shows_the_school_radius_and_its_change(
    tmp_path: Path, tiny_raw: dict[str, Any], capsys
) -> None:
    from sim.cli import main

    tiny_raw["families"] = {"levels": {"middle": {"board_across_water": True}}}
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(tiny_raw), encoding="utf-8")
    tiny_raw["merger"] = {"facilities": {"west_primary": {"action": "close"}}}
    closed = tmp_path / "closed.yaml"
    closed.write_text(yaml.safe_dump(tiny_raw), encoding="utf-8")
    for path in (base, closed):
        assert main(["run", str(path), "--days", "3", "--out", str(tmp_path / path.stem), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "closed")]) == 0
    text = capsys.readouterr().out
    block = text.split("== families.school_levels.primary.service_radius_km ==")[1].split("==")[0]
    before, after = (run.families for run in (_summary(tmp_path / "base"), _summary(tmp_path / "closed")))
    radius = [s.school_levels["primary"].service_radius_km for s in (before, after)]
    assert radius[1] > radius[0]  # closing a primary school lengthens the others' radius
    assert f"{radius[1] - radius[0]:.3f}" in block


def _summary(run: Path):
    from sim.results.io import read_summary

    return read_summary(run)


def test_the_households_table_is_written_only_with_households(
    tmp_path: Path, tiny_raw: dict[str, Any]
) -> None:
    from sim.cli import main
    from sim.results.io import read_run

    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(tiny_raw), encoding="utf-8")
    families = tmp_path / "families.yaml"
    families.write_text(yaml.safe_dump({**tiny_raw, **HOUSEHOLDS}), encoding="utf-8")
    for path in (plain, families):
        assert main(["run", str(path), "--days", "2", "--out", str(tmp_path / path.stem), "--quiet"]) == 0
    assert not (tmp_path / "plain" / "households.parquet").exists()
    assert read_run(tmp_path / "plain").households is None
    households = read_run(tmp_path / "families").households
    residents = read_run(tmp_path / "families").residents
    assert households is not None
    assert households["members"].sum() == len(residents)
    assert (households["members"].to_numpy() == np.bincount(residents["household"])).all()
    with_children = households[households["children"] > 0]
    assert (with_children["caregiver"] >= 0).all()
    assert households.loc[households["left_behind"], "type"].eq("skipped").all()


def test_school_buses_carry_pupils_up_to_capacity(write_scenario, tiny_raw: dict[str, Any]) -> None:
    bus = {"school": "east_middle", "stops": ["e2", "e1"], "capacity": 12, "speed_kph": 30, "dwell_min": 1.0}
    tiny_raw["families"] = {"school_buses": {"b1": bus}, "levels": {"middle": {"board_over_min": 90}}}
    plain = run_scenario(
        write_scenario({k: v for k, v in tiny_raw.items() if k != "families"}, "p.yaml"), days=7
    )
    result = run_scenario(write_scenario(tiny_raw), days=7)[1]
    s, before = result.schools, plain[1].schools
    riders = (s["school_bus"] == "b1").to_numpy()
    eligible = (s["school"].astype(str) == "east_middle") & s["origin"].astype(str).isin(["e1", "e2"])
    assert riders.sum() == 12 < eligible.sum()  # full, and some pupils left to their own modes
    assert (s.loc[riders, "mode"] == "school_bus").all()
    later = np.where(s.loc[riders, "origin"].astype(str) == "e2", 1, 0)  # e2 is picked up first
    expected = s.loc[riders, "distance_km"].to_numpy() / 30 * 60 + later
    np.testing.assert_allclose(s.loc[riders, "one_way_min"], expected)
    assert (s.loc[~riders, "one_way_min"].to_numpy() == before.loc[~riders, "one_way_min"].to_numpy()).all()
    assert result.summary.families.school_buses["b1"].riders == 12


def test_a_school_bus_cannot_cross_water_or_serve_a_closed_school(write_scenario, tiny_raw) -> None:
    for bus, field in (
        ({"school": "east_middle", "stops": ["i1"], "capacity": 10}, "stops"),
        ({"school": "west_primary", "stops": ["w1"], "capacity": 10}, "school"),
    ):
        raw = {**tiny_raw, "families": {"school_buses": {"b": bus}}}
        raw["merger"] = {"facilities": {"west_primary": {"action": "close"}}}
        with pytest.raises(ScenarioError, match=field) as err:
            run_scenario(write_scenario(raw), days=1)
        assert err.value.exit_code == 2


def test_the_planners_page_rows_carry_the_radius_change(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    from sim.app.families import families_rows
    from sim.cli import main
    from sim.replications import paired_difference, read_replications

    tiny_raw["families"] = {"levels": {"middle": {"board_across_water": True}}}
    tiny_raw["calendar"] = {"start_date": "2024-01-01"}
    runs = []
    for name, merger in (("base", None), ("closed", {"facilities": {"west_primary": {"action": "close"}}})):
        raw = dict(tiny_raw, **({"merger": merger} if merger else {}))
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        assert main(["run", str(path), "--days", "2", "--out", str(tmp_path / name), "--quiet"]) == 0
        runs.append(read_replications(tmp_path / name))
    rows = {r["metric"]: r for r in families_rows(paired_difference(*runs))}
    radius = rows["families.school_levels.primary.service_radius_km"]
    assert radius["mean_diff"] > 0 and radius["mean_b"] == pytest.approx(
        radius["mean_a"] + radius["mean_diff"]
    )
    assert radius["label"]["zh"] == "primary：服务半径（公里）"
    assert rows["calendar.ferry_suspended_days"]["mean_a"] == 0
    assert families_rows(paired_difference(*[read_replications(tmp_path / "base")] * 2))  # same run: rows, 0


def test_built_households_follow_the_size_and_left_behind_shares() -> None:
    from sim.model.households import build_households
    from sim.model.streams import Streams

    rng = np.random.default_rng(0)
    per_village = [(400, 1200, 400), (250, 900, 500), (600, 1500, 300)] * 5  # children, adults, elders
    klass = np.concatenate([np.repeat([0, 1, 2], c) for c in per_village]).astype(np.int8)
    village = np.concatenate([np.full(sum(c), v) for v, c in enumerate(per_village)])
    age = np.where(klass == 0, rng.integers(0, 15, len(klass)), np.where(klass == 1, 40, 70))
    spec = Households(left_behind_share=0.25, by_village={"v0": {"left_behind_share": 0.6}})
    hh = build_households(
        spec,
        village=village,
        klass=klass,
        age=age,
        key=np.arange(len(klass), dtype=np.uint64),
        n_villages=len(per_village),
        village_ids=[f"v{i}" for i in range(len(per_village))],
        streams=Streams(1),
        file="test",
    )
    sizes = np.bincount(np.minimum(hh.size, 6), minlength=7)[1:] / len(hh.size)
    target = np.array([spec.size_shares[s] for s in range(1, 7)])
    assert np.abs(sizes - target).max() < 0.03, (sizes, target)
    assert (np.bincount(hh.household, minlength=len(hh.size)) == hh.size).all()
    children = klass == 0
    behind = hh.kind[hh.household[children]] == 1
    at_v0 = village[children] == 0
    assert abs(behind[~at_v0].mean() - 0.25) < 0.05
    assert abs(behind[at_v0].mean() - 0.6) < 0.1  # the village's own share
    assert (hh.caregiver[hh.household[children]] >= 0).all()
    assert hh.fit_error.max() < 1e-9
