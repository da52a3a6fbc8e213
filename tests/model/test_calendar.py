"""The calendar: suspension generator against its monthly means, ferry days conserve errands, CRN."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.errors import ScenarioError
from sim.model.calendar import draw_suspensions, expected_suspension
from sim.model.streams import Streams
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.scenario.calendar import PINGTAN_WIND_DAYS, FerryDraw, Typhoons
from tests.conftest import TINY

DAYS = 42
START = "2024-01-01"  # a Monday, as the tiny county's day 0
#: East and Isle merge and Isle's hall closes: islanders' admin errands must cross to the main island.
ISLE_MERGED = {
    "merger": {
        "units": {
            "eastisle": {"zh": "东屿镇", "en": "East-Isle", "members": ["east", "isle"], "seat": "east"}
        },
        "facilities": {"isle_hall": {"action": "close"}},
    },
    "simulation": {"warmup_days": 7},
}


def _years(first: int, n: int) -> list[dt.date]:
    start, end = dt.date(first, 1, 1), dt.date(first + n, 1, 1)
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def _monthly_means(dates: list[dt.date], flag: np.ndarray, n_years: int) -> np.ndarray:
    months = np.array([d.month for d in dates])
    return np.bincount(months, weights=flag.astype(float), minlength=13)[1:] / n_years


def test_windy_days_reproduce_the_monthly_means_over_1000_years() -> None:
    dates = _years(2001, 1000)
    spec = FerryDraw(typhoons=None)
    means = _monthly_means(dates, draw_suspensions(spec, dates, Streams(11)), 1000)
    given = np.array([PINGTAN_WIND_DAYS[m] for m in range(1, 13)])
    assert np.abs(means - given).max() <= 0.5, (means, given)


def test_typhoon_closures_add_what_their_probability_says_over_1000_years() -> None:
    dates = _years(2001, 1000)
    spec = FerryDraw(typhoons=Typhoons(per_year=5.8, closure_days=4))
    drawn = draw_suspensions(spec, dates, Streams(5))
    p_wind, p_typhoon = expected_suspension(spec, dates)
    expected = _monthly_means(dates, 1 - (1 - p_wind) * (1 - p_typhoon), 1000)
    means = _monthly_means(dates, drawn, 1000)
    assert np.abs(means - expected).max() <= 0.5, (means, expected)
    # typhoons lengthen the summer months' suspensions beyond the windy days alone
    assert means[7] > PINGTAN_WIND_DAYS[8] + 1.0


def test_a_date_has_the_same_draw_in_any_span_that_holds_it() -> None:
    spec = FerryDraw()
    dates = _years(2024, 2)
    full = draw_suspensions(spec, dates, Streams(3))
    part = draw_suspensions(spec, dates[100:400], Streams(3))
    assert (full[100:400] == part).all()


def _run(overrides: dict[str, Any], days: int = DAYS):
    return run_scenario(TINY, overrides={**ISLE_MERGED, **overrides}, days=days, seed=4)


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index(drop=True)


@pytest.fixture(scope="module")
def runs():
    """Without a calendar, and with one whose ferries stop on days 7 and 8."""
    plain = _run({})
    suspended = _run({"calendar": {"start_date": START, "ferry": {"dates": ["2024-01-08", "2024-01-09"]}}})
    return plain, suspended


def _crossing_trips(loaded, result) -> pd.Series:
    places = result[1].places.set_index("id")
    unit_island = {u: spec.island != "main" for u, spec in loaded.scenario.units.items()}
    trips = result[1].trips
    origin_isle = trips["origin"].astype(str).map(places["former_unit"]).map(unit_island)
    dest_isle = trips["facility"].astype(str).map(places["former_unit"]).map(unit_island)
    return origin_isle != dest_isle


def test_no_trip_crosses_water_on_a_day_without_ferries(runs) -> None:
    plain, suspended = runs
    crossing = _crossing_trips(suspended[0], suspended)
    days = suspended[1].trips["day"]
    assert crossing.sum() > 0  # islanders do cross on other days
    assert not crossing[days.isin([7, 8])].any()
    assert _crossing_trips(plain[0], plain)[plain[1].trips["day"].isin([7, 8])].any()


def test_a_suspended_day_moves_every_island_errand_needing_the_mainland_to_a_later_day(runs) -> None:
    plain, suspended = runs
    crossing = _crossing_trips(plain[0], plain)
    trips = plain[1].trips
    stopped = set(trips.loc[crossing & trips["day"].isin([7, 8]), "errand"])
    assert stopped
    later = suspended[1].trips[suspended[1].trips["errand"].isin(stopped)]
    first_day = later.groupby("errand")["day"].min()
    assert set(first_day.index) == stopped  # every one of them travels ...
    assert (first_day > 8).all()  # ... after the ferries sail again
    errands_a, errands_b = plain[1].errands, suspended[1].errands
    assert len(errands_a) == len(errands_b)  # nothing is lost: the same errands arise
    assert (errands_a["arise_day"].to_numpy() == errands_b["arise_day"].to_numpy()).all()
    held = suspended[1].summary.calendar.errands_held_by_ferry
    assert held >= len(stopped)


def test_tables_are_identical_up_to_the_first_suspended_day(runs) -> None:
    plain, suspended = runs
    first = suspended[1].summary.calendar.first_suspended_day
    assert first == 7
    for table in ("trips", "facility_days"):
        a, b = getattr(plain[1], table), getattr(suspended[1], table)
        pd.testing.assert_frame_equal(_comparable(a[a["day"] < first]), _comparable(b[b["day"] < first]))
    daily_a, daily_b = plain[1].daily, suspended[1].daily
    before = daily_a["day"] < first
    same = daily_b[daily_a.columns]  # the calendar adds date, ferry_suspended, public_holiday
    pd.testing.assert_frame_equal(daily_a[before], same[same["day"] < first])
    assert (
        not plain[1]
        .trips[plain[1].trips["day"] >= first]
        .equals(suspended[1].trips[suspended[1].trips["day"] >= first])
    )


def test_public_holidays_close_halls_and_schools() -> None:
    _, result = _run({"calendar": {"start_date": "2024-09-30", "public_holidays": True}}, days=14)
    fd = result.facility_days
    halls = fd[fd["kind"] == "hall"]
    # National Day holiday 2024: 1-7 October = days 1..7; halls are closed, clinics open
    assert not halls["day"].isin(range(1, 8)).any()
    assert fd[fd["kind"] == "clinic"]["day"].isin(range(1, 8)).any()
    assert result.summary.calendar.public_holidays == 7
    # 10 weekdays of which 5 (1-4 and 7 October) are holidays; make-up Saturdays are not modelled
    assert (result.schools["days_attended"] == 10 - 5).all()


def test_spring_festival_brings_the_absent_home(tmp_path: Path) -> None:
    festival = {"start_date": "2024-01-29", "spring_festival": {"absent_share": 0.5}}
    _, result = _run({"calendar": festival}, days=42)
    absent = result.residents["registered_absent"].to_numpy()
    assert 0.4 < absent.mean() < 0.6
    errands = result.errands
    by_absent = absent[errands["resident"].to_numpy()]
    # holiday 2024-02-10 = day 12; migrants are home on days 2..27
    home = errands["arise_day"].between(2, 27)
    assert by_absent[home.to_numpy()].any()
    assert not by_absent[(~home & (errands["arise_day"] >= 0)).to_numpy()].any()


def test_bad_calendars_are_refused_with_the_field(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    cases = [
        ({"start_date": "2024-01-02"}, "calendar.start_date"),  # a Tuesday
        ({"start_date": START, "spring_festival": {"by_village": {"nowhere": 0.2}}}, "nowhere"),
        ({"start_date": START, "ferry": {"draw": {"monthly_days": {13: 2.0}}}}, "monthly_days"),
        ({"start_date": START, "ferry": {"draw": {"monthly_days": {2: 29.0}}}}, "monthly_days"),
        ({"start_date": START, "ferry": {"draw": {"monthly_days": {2: float("nan")}}}}, "monthly_days"),
        ({"start_date": "2024-13-01"}, "start_date"),
    ]
    for calendar, field in cases:
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump({**tiny_raw, "calendar": calendar}), encoding="utf-8")
        with pytest.raises(ScenarioError) as err:
            load_scenario(path)
        assert field in str(err.value)
        assert err.value.exit_code == 2


def test_dates_beyond_the_holiday_tables_are_refused() -> None:
    with pytest.raises(ScenarioError, match=r"calendar\.start_date"):
        _run({"calendar": {"start_date": "2040-01-02", "public_holidays": True}}, days=7)


def test_a_date_that_does_not_exist_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"extends: {TINY.as_posix()}\ncalendar:\n  start_date: 2024-01-01\n"
        "  ferry: {dates: [2024-02-30]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="line 4") as err:
        load_scenario(path)
    assert "date that exists" in str(err.value) and err.value.exit_code == 2


def test_no_ghost_queues_at_halls_closed_for_a_holiday() -> None:
    from sim.model import AccessModel
    from sim.world.world import FACILITY_KINDS

    overrides = {
        **ISLE_MERGED,
        "calendar": {"start_date": "2024-09-30", "public_holidays": True},
        "simulation": {"warmup_days": 7, "sample_fraction": 0.5},
    }
    model = AccessModel(load_scenario(TINY, overrides=overrides))
    model.run(10)
    hall = FACILITY_KINDS.index("hall")
    seen = {(int(d), int(f)) for day, fac, _ in model.facility_log for d, f in zip(day, fac, strict=True)}
    halls = {(d, f) for d, f in seen if model.world.fac_kind[f] == hall}
    assert {d for d, _ in halls} & set(range(1, 8)) == set()  # 1-7 October: closed, no ghosts
    assert {d for d, _ in halls} & {0, 8, 9}  # open on the days around the holiday
