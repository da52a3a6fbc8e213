"""AccessModel: determinism, conservation of errands, referrals, schools, Mesa agents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.metrics.summary import summarise
from sim.model import AccessModel, Resident
from sim.results import TABLES, build_result
from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS, TINY, TINY_MERGED


@pytest.fixture(scope="module")
def merged_run():
    return run_scenario(TINY_MERGED, days=40)[1]


def test_same_seed_gives_identical_tables() -> None:
    a = run_scenario(TINY_MERGED, days=20, seed=5)[1]
    b = run_scenario(TINY_MERGED, days=20, seed=5)[1]
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.summary == b.summary


def test_other_seed_gives_different_trips() -> None:
    a = run_scenario(TINY_MERGED, days=20, seed=5)[1]
    b = run_scenario(TINY_MERGED, days=20, seed=6)[1]
    assert not a.trips[["resident", "day", "facility"]].equals(b.trips[["resident", "day", "facility"]])


def test_every_need_ends_completed_or_pending_none_lost(merged_run) -> None:
    errands, trips = merged_run.errands, merged_run.trips
    assert errands["errand"].tolist() == list(range(len(errands)))  # every id once, no gaps
    assert int(merged_run.daily["new_needs"].sum()) == len(errands)
    assert set(errands["status"].unique()) <= {"completed", "pending"}
    # each measured completed errand's last trip completed it; trips per errand add up (trips are
    # recorded from day 0, so errands that arose in the warm-up are left out here)
    assert trips["day"].min() >= 0 and (errands["arise_day"] < 0).any()
    measured = errands[errands["arise_day"] >= 0]
    last = trips.sort_values("trip").groupby("errand", observed=True)["outcome"].last()
    done = measured.set_index("errand")["status"] == "completed"
    assert (last[done[done].index] == "completed").all()
    per_errand = trips.groupby("errand").size().reindex(measured["errand"], fill_value=0).to_numpy()
    assert (per_errand == measured["trips"].to_numpy()).all()
    # a trip ends completed, referred or turned away
    assert set(trips["outcome"].unique()) <= {"completed", "referred", "turned_away"}


def test_burden_is_travel_both_ways_plus_waits(merged_run) -> None:
    trips, errands = merged_run.trips, merged_run.errands
    per_trip = 2 * trips["travel_min"] + trips["wait_min"]
    total = per_trip.groupby(trips["errand"]).sum()
    got = errands.set_index("errand")["burden_min"].loc[total.index]
    np.testing.assert_allclose(got.to_numpy(), total.to_numpy(), rtol=1e-9)


def test_service_point_refers_complex_errands_to_the_new_seat(tiny_raw, write_scenario) -> None:
    tiny_raw["behaviour"] = {"knows_service_scope": 0.0, "choice": "nearest"}
    tiny_raw["services"]["admin_complex"]["rate_per_person_year"] = {"15-59": 5.0, "60+": 5.0}
    base = write_scenario(tiny_raw, "baseline.yaml")
    merged = base.parent / "merged.yaml"
    merged.write_text(Path(TINY_MERGED).read_text(encoding="utf-8"), encoding="utf-8")
    _, result = run_scenario(merged, days=10)
    trips = result.trips
    referred = trips[trips["outcome"] == "referred"]
    assert len(referred) > 0
    assert set(referred["facility"].astype(str)) == {"west_hall"}
    follow = trips[trips["errand"].isin(referred["errand"]) & (trips["outcome"] == "completed")]
    assert set(follow["facility"].astype(str)) == {"east_hall"}  # the new seat's hall
    assert (
        follow["day"].to_numpy() > referred.set_index("errand").loc[follow["errand"], "day"].to_numpy()
    ).all()


def test_jurisdiction_keeps_admin_errands_in_own_unit(merged_run) -> None:
    trips, residents = merged_run.trips, merged_run.residents
    admin = trips[trips["purpose"].astype(str).str.startswith("admin")]
    unit_of_resident = residents.set_index("resident")["unit"].astype(str)
    facility_unit = {"east_hall": "eastwest", "west_hall": "eastwest", "isle_hall": "isle"}
    assert (
        admin["facility"].astype(str).map(facility_unit).to_numpy()
        == unit_of_resident.loc[admin["resident"]].to_numpy()
    ).all()


def test_closed_weekend_halls_get_no_visitors(merged_run) -> None:
    trips = merged_run.trips
    weekend = trips["day"] % 7 >= 5  # scenario starts on Monday
    assert not trips.loc[weekend, "purpose"].astype(str).str.startswith("admin").any()
    assert (trips.loc[weekend, "purpose"] == "clinic").any()


def test_overloaded_facility_turns_people_away_and_they_return(tiny_raw, write_scenario) -> None:
    tiny_raw["services"]["admin_simple"]["rate_per_person_year"] = {"15-59": 40.0, "60+": 40.0}
    _, result = run_scenario(write_scenario(tiny_raw), days=10)
    turned = result.trips[result.trips["outcome"] == "turned_away"]
    assert len(turned) > 0
    again = result.trips[result.trips["errand"].isin(turned["errand"])].groupby("errand").size()
    assert (again > 1).any()
    fd = result.facility_days
    assert (fd["turned_away"] > 0).any() and fd["utilisation"].max() > 0.9


def test_school_seats_are_respected() -> None:
    _, result = run_scenario(TINY, days=5)
    counts = result.schools.groupby("school", observed=True).size()
    seats = {"east_primary": 80, "west_primary": 40, "isle_primary": 20, "east_middle": 60}
    for school, n in counts.items():
        assert n <= seats[str(school)]
    assert (result.schools["days_attended"][result.schools["school"].notna()] == 5).all()


def test_resident_agents_are_views_onto_rows() -> None:
    model = AccessModel(load_scenario(TINY), resident_agents="lazy")
    assert len(model.agents_by_type.get(Resident, [])) == 0
    agent = model.resident(10)
    assert isinstance(agent, Resident)
    assert agent.village == model.world.village_ids[model.residents.village[10]]
    assert "walk" in agent.modes
    full = AccessModel(load_scenario(TINY))
    assert len(full.agents_by_type[Resident]) == len(full.residents)


def test_datacollector_records_one_row_per_day() -> None:
    model = AccessModel(load_scenario(TINY))
    warm = model.warmup_days
    model.run(6)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == warm + 6 and frame["day"].tolist() == list(range(-warm, 6))
    result = build_result(model)
    assert int(frame.loc[frame["day"] >= 0, "trips"].sum()) == len(result.trips)  # measured days


def test_sample_fraction_weights_residents() -> None:
    loaded = load_scenario(
        SCENARIOS / "pingtan" / "merged_2021.yaml", overrides={"simulation.sample_fraction": 0.05}
    )
    model = AccessModel(loaded)
    assert len(model.residents) == pytest.approx(385_981 * 0.05, rel=0.02)
    assert model.residents.weight.sum() == pytest.approx(385_981, rel=0.02)


def test_warmup_runs_first_and_its_errands_are_not_measured() -> None:
    loaded = load_scenario(TINY_MERGED, overrides={"simulation.warmup_days": 14})
    model = AccessModel(loaded, seed=2)
    assert (model.residents.mem_fac == -1).all() and model.day == -14  # memories start empty
    model.run(21)
    result = build_result(model)
    summary = summarise(
        trips=result.trips,
        errands=result.errands,
        facility_days=result.facility_days,
        residents=result.residents,
        schools=result.schools,
    )
    errands, trips = result.errands, result.trips
    warm = errands["arise_day"] < 0
    assert warm.sum() > 0 and errands["arise_day"].min() == -14 and trips["day"].max() == 20
    assert summary["errands"]["arisen"] == int((~warm).sum())
    later = trips["errand"].isin(errands.loc[~warm, "errand"])
    assert summary["errands"]["trips"] == int(later.sum())
    assert result.facility_days["day"].min() == 0  # queue metrics from day 0
    assert result.residents["errands_completed"].sum() == int(
        ((errands["status"] == "completed") & ~warm).sum()
    )
    # a warm-up errand still travelling after day 0 loads the queue of that day
    late = trips[~later & (trips["day"] >= 0)]
    assert len(late) > 0
    row = late.iloc[0]
    fd = result.facility_days
    day_row = fd[(fd["day"] == row["day"]) & (fd["facility"] == row["facility"])]
    assert int(day_row["arrivals"].iloc[0]) == int(
        ((trips["day"] == row["day"]) & (trips["facility"] == row["facility"])).sum()
    )


def test_measured_needs_do_not_depend_on_the_warmup_length() -> None:
    runs = []
    for warm in (0, 7):
        model = AccessModel(load_scenario(TINY_MERGED, overrides={"simulation.warmup_days": warm}), seed=4)
        model.run(10)
        e = build_result(model).errands
        runs.append(e.loc[e["arise_day"] >= 0, ["resident", "service", "arise_day"]].reset_index(drop=True))
    pd.testing.assert_frame_equal(runs[0], runs[1])


@pytest.mark.parametrize(
    ("scenario", "days"), [(TINY_MERGED, 40), (SCENARIOS / "pingtan" / "merged_2021.yaml", 3)]
)
def test_all_queues_of_a_day_in_one_pass_equal_facility_by_facility(scenario: Path, days: int) -> None:
    """The one-pass FIFO of a day (full population, no bookings) gives the same trips as the
    facility-by-facility queue (used with ghosts or appointments)."""
    loaded = load_scenario(scenario)
    batch = AccessModel(loaded, resident_agents="lazy")
    single = AccessModel(loaded, resident_agents="lazy")
    assert batch.batch_queues
    single.batch_queues = False
    batch.run(days)
    single.run(days)
    a, b = build_result(batch), build_result(single)
    pd.testing.assert_frame_equal(a.trips, b.trips)
    pd.testing.assert_frame_equal(a.facility_days, b.facility_days)
    assert (a.trips["wait_min"] > 0).sum() > 5  # queues formed
