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


def test_the_report_has_the_families_and_calendar_tables(tmp_path) -> None:
    import yaml

    from sim.cli import main
    from sim.figures.fonts import Language
    from sim.figures.report import build_report

    raw = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    raw["families"] = {
        "households": {},
        "levels": {"primary": {"escort_below_age": 9}, "middle": {"board_across_water": True}},
    }
    raw["calendar"] = {"start_date": "2024-01-01", "ferry": {"dates": ["2024-01-02"]}}
    path = tmp_path / "families.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert main(["run", str(path), "--days", "3", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    text = build_report(tmp_path / "run", language=Language("en"))
    families = text[text.index('id="families"') : text.index('id="scenario"')]
    for heading in ("School travel by level", "Escort time", "Calendar and weather"):
        assert heading.lower() in families.lower()
    assert "middle: share boarding" in families and "Days without ferries" in families
    plain = tmp_path / "plain"
    assert main(["run", str(TINY), "--days", "3", "--out", str(plain), "--quiet"]) == 0
    assert 'id="families"' not in build_report(plain, language=Language("en"))
