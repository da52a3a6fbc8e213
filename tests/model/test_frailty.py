"""The frail elderly: impairment, companions and fare concessions (elderly: block)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.errors import ScenarioError
from sim.metrics.effect import pair_effect
from sim.model import AccessModel
from sim.results.io import write_run
from sim.results.tables import build_result
from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS

TINY_BUSES = SCENARIOS / "tiny" / "buses.yaml"
DAYS = 56


def _overlay(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _bands(result) -> np.ndarray:
    res = result.residents.set_index("resident")
    return res.loc[result.trips["resident"], "age_band"].astype(str).to_numpy()


def test_an_empty_block_changes_no_table(tmp_path: Path) -> None:
    _, off = run_scenario(TINY_BUSES, days=DAYS, seed=4)
    on_file = _overlay(tmp_path, "empty", {"elderly": {}})
    _, on = run_scenario(TINY_BUSES, overlays=[on_file], days=DAYS, seed=4)
    for name in ("trips", "errands", "facility_days", "residents", "schools", "line_loads"):
        pd.testing.assert_frame_equal(getattr(off, name), getattr(on, name))


def test_free_fares_for_60_plus_cost_them_nothing_and_raise_their_bus_share(tmp_path: Path) -> None:
    _, paid = run_scenario(TINY_BUSES, days=DAYS, seed=4)
    free_file = _overlay(tmp_path, "free", {"elderly": {"fare_discount": {"60+": 1.0}}})
    _, free = run_scenario(TINY_BUSES, overlays=[free_file], days=DAYS, seed=4)

    def bus(result) -> tuple[pd.DataFrame, float]:
        old = _bands(result) == "60+"
        trips = result.trips[old]
        by_bus = trips[(trips["mode"].astype(str) == "bus") & ~trips["no_way_home"]]
        return by_bus, len(by_bus) / len(trips)

    free_bus, free_share = bus(free)
    paid_bus, paid_share = bus(paid)
    assert len(free_bus) > 20 and (free_bus["money_yuan"] == 0.0).all()
    assert (paid_bus["money_yuan"] > 0).all()
    assert free_share > paid_share
    block = free.summary.elderly
    assert block.bus_money_yuan_by_age_band["60+"] == pytest.approx(
        free.trips.loc[_bands(free) == "60+"].query("mode == 'bus'")["money_yuan"].sum()
    )
    assert block.fare_subsidy_yuan > 0
    assert block.fare_subsidy_yuan_per_year == pytest.approx(block.fare_subsidy_yuan * 365 / DAYS, rel=1e-5)


def test_companion_minutes_are_the_sum_over_accompanied_trips(tmp_path: Path) -> None:
    overlay = _overlay(
        tmp_path, "frail", {"elderly": {"impaired_share": {"60+": 0.5}, "companion_share": 0.8}}
    )
    loaded = load_scenario(TINY_BUSES, overlays=[overlay])
    model = AccessModel(loaded, seed=4)
    model.run(DAYS)
    result = build_result(model)
    f = model.frailty
    assert f is not None
    trips = result.trips
    with_companion = f.companion[trips["resident"].to_numpy()]
    minutes = (trips["travel_min"] + trips["wait_min"] + trips["return_min"]).to_numpy()[with_companion]
    assert with_companion.sum() == f.companion_trips > 10
    assert f.companion_min == pytest.approx(minutes.sum(), rel=1e-12)
    # only the impaired have companions, about the share asked for; nobody outside 60+ is impaired
    band = np.asarray(model.world.age_bands)[model.residents.band]
    assert not f.impaired[band != "60+"].any()
    assert 0.4 < f.impaired[band == "60+"].mean() < 0.6
    assert (f.companion <= f.impaired).all()


def test_the_impaired_walk_slower(tmp_path: Path) -> None:
    overlay = _overlay(
        tmp_path, "frail", {"elderly": {"impaired_share": {"60+": 1.0}, "walk_speed_factor": 0.5}}
    )
    _, frail = run_scenario(TINY_BUSES, overlays=[overlay], days=DAYS, seed=4)
    _, base = run_scenario(TINY_BUSES, days=DAYS, seed=4)
    for result, factor in ((base, 1.0), (frail, 0.5)):
        trips = result.trips[(_bands(result) == "60+") & (result.trips["mode"].astype(str) == "walk")]
        trips = trips[trips["distance_km"] > 0]
        assert len(trips) > 10
        speed = trips["distance_km"] / (trips["travel_min"] / 60)  # km/h along the road
        np.testing.assert_allclose(speed.to_numpy(), 5.0 * factor, rtol=1e-6)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"impaired_share": {"70+": 0.2}}, "elderly.impaired_share.70+"),
        ({"fare_discount": {"old": 1.0}}, "elderly.fare_discount.old"),
        ({"companion_band": "adults"}, "elderly.companion_band"),
    ],
)
def test_unknown_bands_name_the_field(tmp_path: Path, data: dict, field: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(TINY_BUSES, overlays=[_overlay(tmp_path, "bad", {"elderly": data})])
    assert field in str(err.value)


@pytest.mark.parametrize(
    "data",
    [
        {"impaired_share": {"60+": 1.5}},
        {"walk_speed_factor": 0},
        {"fare_discount": {"60+": -0.1}},
        {"nope": 1},
    ],
)
def test_bad_values_are_refused(tmp_path: Path, data: dict) -> None:
    with pytest.raises(ScenarioError, match="elderly"):
        load_scenario(TINY_BUSES, overlays=[_overlay(tmp_path, "bad", {"elderly": data})])


@pytest.mark.parametrize("seed", [1])
def test_impairment_widens_the_age_gap_of_the_merger_effect(tmp_path: Path, seed: int) -> None:
    """Pingtan, 25% sample, 28 days: the did_merged burden per admin errand of 60+ minus 15-59 grows
    when 18.3% of people 60+ are impaired (against the same block with nobody impaired)."""
    gaps = []
    for name, share in (("none", {}), ("frail", {"60+": 0.183})):
        overlay = _overlay(
            tmp_path, name, {"elderly": {"impaired_share": share}, "simulation": {"sample_fraction": 0.25}}
        )
        runs = []
        for scenario in ("baseline", "merged_2021"):
            loaded, result = run_scenario(
                SCENARIOS / "pingtan" / f"{scenario}.yaml", overlays=[overlay], days=28, seed=seed
            )
            folder = tmp_path / f"{scenario}_{name}"
            write_run(result, folder, scenario_raw=loaded.raw)
            runs.append(folder)
        did = pair_effect(*runs).loc["did_merged", "burden_min_per_errand_admin"]
        gaps.append(did["60+"] - did["15-59"])
    assert gaps[1] > gaps[0] + 0.5
