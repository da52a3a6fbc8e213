"""Replicated runs: differences carry paired 95% intervals in the bars, the map and the report table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection
from scipy import stats

from sim.figures.fonts import Language
from sim.figures.measures import paired_replicates, replicate_dirs, unit_differences
from sim.figures.report import build_report
from sim.figures.runset import run_figures
from sim.results.io import read_summary, write_run
from sim.runner import run_scenario
from tests.conftest import SCENARIOS

EN = Language("en")
SEEDS = (11, 12, 13, 14)


@pytest.fixture(scope="module")
def replicated(tmp_path_factory) -> tuple[Path, Path]:
    """tiny merged and tiny baseline, each run with the same four seeds, in replications/ sub-folders."""
    root = tmp_path_factory.mktemp("replicated")
    for name in ("merged", "baseline"):
        for seed in SEEDS:
            loaded, result = run_scenario(SCENARIOS / "tiny" / f"{name}.yaml", days=14, seed=seed)
            write_run(result, root / name / "replications" / f"seed_{seed}", scenario_raw=loaded.raw)
    return root / "merged", root / "baseline"


def test_replications_are_found_and_paired_by_seed(replicated):
    merged, baseline = replicated
    assert len(replicate_dirs(merged)) == len(SEEDS)
    pairs = paired_replicates(merged, baseline)
    assert [read_summary(a)["seed"] for a, _ in pairs] == [read_summary(b)["seed"] for _, b in pairs]
    assert len(pairs) == len(SEEDS)


def test_interval_is_the_paired_t_interval_of_the_summaries(replicated):
    merged, baseline = replicated
    diffs = unit_differences(paired_replicates(merged, baseline))
    row = diffs[(diffs["metric"] == "burden_mean_min") & (diffs["group"] == "ALL")].iloc[0]
    d = np.array(
        [
            read_summary(merged / "replications" / f"seed_{s}")["burden_min"]["mean"]
            - read_summary(baseline / "replications" / f"seed_{s}")["burden_min"]["mean"]
            for s in SEEDS
        ]
    )
    low, high = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert row["n"] == len(SEEDS)
    assert row["mean_diff"] == pytest.approx(d.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))


def test_difference_figures_show_the_intervals(replicated):
    merged, baseline = replicated
    figset = run_figures(merged, language=EN, vs=baseline)
    bars = figset.figures["difference_bars"]
    assert f"{len(SEEDS)} paired replications, 95% CI" in bars.get_suptitle()
    errorbars = [c for c in bars.axes[0].collections if isinstance(c, LineCollection)]
    assert errorbars and len(errorbars[0].get_segments()) > 0
    legend = [t.get_text() for t in bars.legends[0].get_texts()]
    assert legend == ["95% CI", "95% CI includes 0"]
    themap = figset.figures["difference_map"].axes[0]
    assert f"{len(SEEDS)} paired replications" in themap.get_title(loc="left")
    drawn = [c for c in themap.collections if isinstance(c, PathCollection)]
    weak = [c for c in drawn if c.get_label() == "95% CI includes 0"]
    if weak:  # hollow markers: white faces
        assert np.allclose(weak[0].get_facecolors()[:, :3], 1.0)


def test_report_table_shows_intervals(replicated):
    merged, baseline = replicated
    text = build_report(merged, language=EN, vs=baseline)
    assert "Paired replications under common random numbers" in text
    assert text.count('<span class="ci">(') >= 3


def test_figures_command_takes_replicated_folders(replicated, tmp_path):
    import json

    from sim.cli import main

    merged, baseline = replicated
    out = tmp_path / "figs"
    assert main(["figures", str(merged), "--vs", str(baseline), "--format", "png", "--out", str(out)]) == 0
    manifest = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert {"difference_map", "difference_bars"} <= set(manifest["figures"])
