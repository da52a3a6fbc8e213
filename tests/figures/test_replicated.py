"""Replicated run folders as `townsim run --replications N` writes them by default (full tables of the
first seed only): difference figures and the report carry sim.replications' paired 95% intervals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection

from sim.cli import main
from sim.figures.fonts import Language
from sim.figures.report import _fmt, build_report
from sim.figures.runset import primary_dir, run_figures
from sim.replications import paired_difference, paired_place_difference, read_replications
from sim.results.io import is_run_dir
from tests.conftest import SCENARIOS

EN = Language("en")
N = 3


@pytest.fixture(scope="module")
def replicated(tmp_path_factory) -> tuple[Path, Path]:
    """tiny merged and tiny baseline, each `townsim run --replications 3` with default options."""
    root = tmp_path_factory.mktemp("replicated")
    for name in ("merged", "baseline"):
        scenario = str(SCENARIOS / "tiny" / f"{name}.yaml")
        assert main(["run", scenario, "--replications", str(N), "--out", str(root / name)]) == 0
    return root / "merged", root / "baseline"


def test_default_folders_hold_full_tables_of_the_first_seed_only(replicated):
    merged, _ = replicated
    seeds = read_replications(merged).seeds
    assert len(seeds) == N
    assert [is_run_dir(merged / f"seed_{s}") for s in seeds] == [True] + [False] * (N - 1)
    assert primary_dir(merged) == merged / f"seed_{seeds[0]}"


def _bar_intervals(figure, panel: int) -> list[tuple[float, float]]:
    bars = [c for c in figure.axes[panel].collections if isinstance(c, LineCollection)]
    return sorted((float(s[:, 0].min()), float(s[:, 0].max())) for s in bars[0].get_segments())


def test_difference_bars_show_the_intervals_of_paired_difference(replicated):
    merged, baseline = replicated
    figset = run_figures(merged, language=EN, vs=baseline)
    bars = figset.figures["difference_bars"]
    assert f"{N} paired replications, 95% CI" in bars.get_suptitle()
    expected = paired_difference(read_replications(baseline), read_replications(merged))
    for panel, (metric, scale) in enumerate(
        [("burden_min.mean", 1), ("burden_min.p90", 1), ("burden_share_over_min.60", 100)]
    ):
        rows = expected[
            (expected["metric"] == metric) & expected["group_kind"].isin(["overall", "former_unit"])
        ]
        rows = rows[rows["ci_low"].notna()]
        assert len(rows) >= 2  # everyone and at least one former township
        want = sorted(zip(rows["ci_low"] * scale, rows["ci_high"] * scale, strict=True))
        np.testing.assert_allclose(np.array(_bar_intervals(bars, panel)), np.array(want), rtol=1e-9)
    legend = [t.get_text() for t in bars.legends[0].get_texts()]
    assert legend == ["95% CI", "95% CI includes 0"]


def test_difference_map_hollows_the_villages_paired_place_difference_cannot_tell(replicated):
    merged, baseline = replicated
    figset = run_figures(merged, language=EN, vs=baseline)
    themap = figset.figures["difference_map"].axes[0]
    assert f"{N} paired replications" in themap.get_title(loc="left")
    places = paired_place_difference(read_replications(baseline), read_replications(merged))
    drawn = [c for c in themap.collections if isinstance(c, PathCollection)]
    weak = [c for c in drawn if c.get_label() == "95% CI includes 0"]
    assert sum(len(c.get_offsets()) for c in weak) == int(places["ci_includes_zero"].sum())
    if weak:  # hollow markers: white faces
        assert np.allclose(weak[0].get_facecolors()[:, :3], 1.0)


def test_figures_and_report_commands_take_replicated_folders(replicated, tmp_path):
    merged, baseline = replicated
    out = tmp_path / "figs"
    assert main(["figures", str(merged), "--vs", str(baseline), "--format", "png", "--out", str(out)]) == 0
    manifest = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert {"difference_map", "difference_bars", "burden_map"} <= set(manifest["figures"])
    html = tmp_path / "report.html"
    assert main(["report", str(merged), "--vs", str(baseline), "--out", str(html)]) == 0
    text = html.read_text(encoding="utf-8")
    assert "Paired replications under common random numbers" in text
    assert text.count('<span class="ci">(') >= 3


def test_report_table_shows_the_intervals_of_paired_difference(replicated):
    merged, baseline = replicated
    text = build_report(merged, language=EN, vs=baseline)
    expected = paired_difference(read_replications(baseline), read_replications(merged))
    row = expected[(expected["metric"] == "burden_min.mean") & (expected["group_kind"] == "overall")].iloc[0]
    assert f'<span class="ci">({_fmt(float(row["ci_low"]))}, {_fmt(float(row["ci_high"]))})' in text


def test_report_equity_and_access_carry_intervals_over_seeds(replicated):
    from sim.replications import mean_interval

    merged, _ = replicated
    text = build_report(merged, language=EN)
    sums = read_replications(merged).summaries
    for values in (
        [s.equity.profiles["burden_min_per_errand"]["gini"] for s in sums],
        [s.access.services["admin_complex"].queue_aware_nearest_min.mean for s in sums],
    ):
        n, mean, low, high = mean_interval(np.array(values, dtype=float))
        assert n == N and low < mean < high
        assert f'>{_fmt(mean)}<span class="ci">({_fmt(low)}, {_fmt(high)})</span>' in text
