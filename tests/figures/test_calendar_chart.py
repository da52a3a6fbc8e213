"""The year-by-month figure of a run with a calendar."""

from __future__ import annotations

from sim.figures.calendar_chart import monthly_calendar, year_chart
from sim.runner import run_scenario
from tests.conftest import TINY


def test_the_year_figure_marks_the_days_without_ferries() -> None:
    calendar = {
        "start_date": "2024-01-01",
        "ferry": {"dates": ["2024-01-08", "2024-01-09"]},
        "public_holidays": True,
    }
    result = run_scenario(TINY, overrides={"calendar": calendar, "simulation": {"warmup_days": 7}}, days=21)[
        1
    ]
    table = monthly_calendar(result.trips, result.daily)
    assert list(table.index[table["ferry_suspended"]]) == [7, 8]
    assert list(table.index[table["public_holiday"]]) == [0]  # New Year's Day
    assert table["trips"].sum() == len(result.trips)
    fig = year_chart(table, lang="zh", run="tiny")
    spans = [p for p in fig.axes[0].patches if p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
    assert len(spans) >= 3  # two days without ferries and a holiday, shaded on the burden panel
