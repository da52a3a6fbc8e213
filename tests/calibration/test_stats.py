"""Statistics of records: values by hand on small records, jackknife variances by brute force."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.calibration.stats import Window, observed_statistics, statistics

START = dt.date(2024, 3, 4)  # Monday


def _tickets() -> pd.DataFrame:
    t = pd.Timestamp
    rows = [  # facility, ticket, call (None: never called), end
        ("hall_a", "2024-03-04 09:00", "2024-03-04 09:10", "2024-03-04 09:20"),
        ("hall_a", "2024-03-04 09:05", "2024-03-04 09:35", "2024-03-04 09:50"),
        ("hall_a", "2024-03-04 16:50", None, None),
        ("hall_a", "2024-03-11 10:00", "2024-03-11 10:00", "2024-03-11 10:12"),
        ("hall_a", "2024-03-05 10:00", "2024-03-05 10:04", "2024-03-05 10:10"),
        ("hall_a", "2024-03-25 10:00", "2024-03-25 10:00", "2024-03-25 10:01"),  # outside a 14-day window
    ]
    return pd.DataFrame(
        {
            "facility": pd.Categorical([r[0] for r in rows]),
            "service": pd.Categorical(["admin"] * len(rows)),
            "ticket_time": [t(r[1]) for r in rows],
            "call_time": [t(r[2]) if r[2] else pd.NaT for r in rows],
            "end_time": [t(r[3]) if r[3] else pd.NaT for r in rows],
        }
    )


def test_ticket_statistics_by_hand() -> None:
    s = statistics({"hall_tickets": _tickets()}, Window(START, 14))
    # Mondays in the window: 4 and 11 March; 3 + 1 tickets
    assert s["hall_tickets/hall_a/mon/arrivals"] == pytest.approx(2.0)
    assert s["hall_tickets/hall_a/mon/turned_away"] == pytest.approx(1 / 4)
    assert s["hall_tickets/hall_a/mon/mean_wait_min"] == pytest.approx((10 + 30 + 0) / 3)
    assert s["hall_tickets/hall_a/mon/p90_wait_min"] == pytest.approx(np.quantile([10, 30, 0], 0.9))
    assert s["hall_tickets/hall_a/tue/arrivals"] == pytest.approx(0.5)  # 1 ticket over 2 Tuesdays
    assert s["hall_tickets/hall_a/all/mean_service_min"] == pytest.approx((10 + 15 + 12 + 6) / 4)
    # a sampled run's tickets stand for 1/fraction residents each
    weighted = statistics({"hall_tickets": _tickets()}, Window(START, 14), ticket_weight=10.0)
    assert weighted["hall_tickets/hall_a/mon/arrivals"] == pytest.approx(20.0)
    assert weighted["hall_tickets/hall_a/mon/mean_wait_min"] == s["hall_tickets/hall_a/mon/mean_wait_min"]


def test_jackknife_variance_of_daily_visits_is_the_variance_of_the_mean() -> None:
    dates = pd.date_range("2024-03-04", periods=28)
    rng = np.random.default_rng(3)
    visits = rng.poisson(20, len(dates))
    frame = pd.DataFrame({"facility": pd.Categorical(["c"] * len(dates)), "date": dates, "visits": visits})
    obs = observed_statistics({"clinic_visits": frame}, Window(START, 28))
    i = obs.names.index("clinic_visits/c/wed/visits")
    wed = visits[dates.day_of_week == 2].astype(float)
    assert obs.values[i] == pytest.approx(wed.mean())
    assert obs.variances[i] == pytest.approx(max(wed.var(ddof=1) / len(wed), wed.mean() / len(wed)))


def test_survey_statistics_and_dropping_thin_cells() -> None:
    survey = pd.DataFrame(
        {
            "village": pd.Categorical(["v"] * 9),
            "age_band": pd.Categorical(["60+"] * 6 + ["15-59"] * 3),
            "service": pd.Categorical(["clinic"] * 9),
            "mode": pd.Categorical(["walk"] * 5 + ["car"] + ["car"] * 3),
            "door_to_door_min": [30.0, 40, 50, 60, 70, 20, 25, 35, 30],
            "trips": np.array([1, 1, 2, 1, 1, 1, 1, 1, 1]),
        }
    )
    obs = observed_statistics({"survey": survey}, Window(START, 7), min_records=5)
    values = dict(zip(obs.names, obs.values, strict=True))
    assert values["survey/60+/walk/door_to_door_min"] == pytest.approx(50.0)
    assert values["survey/60+/walk/trips"] == pytest.approx(1.2)
    assert values["survey/60+/walk/share"] == pytest.approx(5 / 6)
    var = dict(zip(obs.names, obs.variances, strict=True))
    assert var["survey/60+/walk/door_to_door_min"] == pytest.approx(np.var([30, 40, 50, 60, 70], ddof=1) / 5)
    assert obs.dropped["survey/60+/car/door_to_door_min"].startswith("1 records")
    assert "survey/15-59/car/trips" in obs.dropped  # 3 records < 5
