"""The run report's equity and accessibility sections (sim/figures/report_blocks.py): every number
shown is the one in summary.json, in both languages."""

from __future__ import annotations

import pytest

from sim.figures.fonts import Language, choose_language
from sim.figures.report import _fmt, build_report
from sim.results.io import read_summary


@pytest.mark.parametrize(
    ("lang", "headings"),
    [
        ("en", ["Equity", "Theil T decomposition", "Accessibility", "Life-circle coverage (% of users)"]),
        ("zh", ["公平性", "泰尔T指数分解", "可达性", "生活圈覆盖（使用者%）"]),
    ],
)
def test_report_shows_equity_and_accessibility_from_summary(run_dirs, lang, headings):
    language = choose_language(lang)
    if language.lang != lang:
        pytest.skip("no CJK font installed")
    run = run_dirs["tiny_merged"]
    text = build_report(run, language=language)
    summary = read_summary(run)
    for heading in headings:
        assert f">{heading}<" in text
    eq = summary.equity.profiles["burden_min_per_errand"]
    for key in ("gini", "palma", "theil", "theil_between_former_unit", "theil_within_former_unit",
                "theil_between_island", "theil_within_island", "concentration_index_age"):  # fmt: skip
        assert f">{_fmt(eq[key])}<" in text, key
    assert f">{_fmt(100 * eq['theil_between_share_former_unit'])}<" in text
    access = summary.access.services
    for entry in access.values():
        for method in ("2sfca", "e2sfca", "gravity", "e2sfca_queue"):
            block = entry.index_per_1000[method]
            assert f">{_fmt(block.mean)}<" in text, method
            for value in block.by_former_unit.values():
                assert f">{_fmt(value)}<" in text, method
        assert f">{_fmt(entry.queue_aware_nearest_min.mean)}<" in text
        for t in ("5", "15", "30"):
            assert f">{_fmt(100 * entry.life_circle_share['own_mode'][t])}<" in text
            assert f">{_fmt(100 * entry.life_circle_share['walk'][t])}<" in text


def test_report_against_another_run_shows_the_changes(run_dirs):
    text = build_report(run_dirs["tiny_merged"], language=Language("en"), vs=run_dirs["tiny_baseline"])
    mine = read_summary(run_dirs["tiny_merged"]).equity.profiles["burden_min_per_errand"]["gini"]
    theirs = read_summary(run_dirs["tiny_baseline"]).equity.profiles["burden_min_per_errand"]["gini"]
    assert ">Change in equity and accessibility<" in text
    assert f">{_fmt(mine - theirs, signed=True)}<" in text
