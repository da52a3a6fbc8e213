"""Every run figure is drawn for the built-in scenarios and holds what it should."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.image import AxesImage
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from sim.figures.runset import RUN_FIGURES
from sim.results.io import read_run

SCENARIO_RUNS = ["tiny_baseline", "tiny_merged", "pingtan_baseline", "pingtan_merged"]


def _legend_texts(legend) -> list[str]:
    return [t.get_text() for t in legend.get_texts()]


@pytest.mark.parametrize("name", SCENARIO_RUNS)
def test_every_figure_is_drawn_or_skipped_with_a_reason(figure_sets, name):
    figset = figure_sets(name)
    assert set(figset.figures) | set(figset.skipped) == set(RUN_FIGURES)
    assert figset.skipped == {
        "difference_map": "needs --vs OTHER_RUN",
        "line_loads": "no transit in this run",
    }
    assert set(figset.captions) == set(figset.figures)


@pytest.mark.parametrize(
    ("name", "vs"), [("tiny_merged", "tiny_baseline"), ("pingtan_merged", "pingtan_baseline")]
)
def test_maps_have_burden_colours_roads_arrow_scale_bar(figure_sets, run_dirs, name, vs):
    figset = figure_sets(name, vs)
    places = read_run(run_dirs[name]).places
    for key in ("burden_map", "difference_map"):
        fig = figset.figures[key]
        ax = fig.axes[0]
        assert ax.get_aspect() == 1.0
        assert ax.get_xlabel() == "Easting (km)" and ax.get_ylabel() == "Northing (km)"
        assert any(isinstance(a, AnchoredSizeBar) for a in ax.artists), "scale bar"
        assert any(t.get_gid() == "north_arrow" and t.get_text() == "N" for t in ax.texts), "north arrow"
        roads = {c.get_label() for c in ax.collections if isinstance(c, LineCollection)}
        assert {"Trunk road", "Rural road"} <= roads
        points = [c for c in ax.collections if isinstance(c, PathCollection)]
        villages = [
            c for c in points if c.get_label() in ("Villages (area: population)", "no completed errands")
        ]
        assert sum(len(c.get_offsets()) for c in villages) == int((places["kind"] == "village").sum())
        coloured = next(c for c in villages if c.get_label() == "Villages (area: population)")
        assert coloured.colorbar is not None and coloured.colorbar.ax.get_ylabel().endswith("(min)")
        legend = _legend_texts(fig.axes[1].get_legend())
        assert "Health centre" in legend and any("arrivals/day" in t for t in legend)
    assert figset.figures["burden_map"].axes[0].get_title().startswith("Door-to-door burden")
    diff_points = next(
        c
        for c in figset.figures["difference_map"].axes[0].collections
        if c.get_label() == "Villages (area: population)"
    )
    assert isinstance(diff_points.norm, TwoSlopeNorm) and diff_points.norm.vcenter == 0


@pytest.mark.parametrize("name", SCENARIO_RUNS)
def test_burden_cdf_has_one_line_per_former_township(figure_sets, run_dirs, name):
    fig = figure_sets(name).figures["burden_cdf"]
    ax = fig.axes[0]
    summary = read_run(run_dirs[name]).summary
    units = [u for u, e in summary["by_former_unit"].items() if e["errands_completed"] > 0]
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "Former township"
    assert len(_legend_texts(legend)) == len(units)
    assert ax.get_xlabel() == "Door-to-door burden per errand (min)"
    assert ax.get_ylabel() == "Cumulative share of errands (%)"
    for line in legend.get_lines():
        assert line.get_label() in _legend_texts(legend)
    ys = np.concatenate(
        [line.get_ydata() for line in ax.get_lines() if line.get_label() in _legend_texts(legend)]
    )
    assert ys.min() >= 0 and ys.max() == pytest.approx(100)


@pytest.mark.parametrize("name", ["tiny_merged", "pingtan_merged"])
def test_threshold_shares_match_the_summary(figure_sets, run_dirs, name):
    fig = figure_sets(name).figures["threshold_shares"]
    by_unit, by_band = fig.axes[0], fig.axes[1]
    summary = read_run(run_dirs[name]).summary
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["> 15 min", "> 30 min", "> 60 min"]
    assert by_unit.get_ylabel() == "Errands over threshold (%)" and by_band.get_xlabel() == "Age band (years)"
    units = [u for u, e in summary["by_former_unit"].items() if e["errands_completed"] > 0]
    assert len(by_unit.patches) == 3 * len(units)
    heights = [p.get_height() for p in by_unit.containers[2]]  # > 60 min
    expected = [100 * summary["by_former_unit"][u]["burden_share_over_min"]["60"] for u in units]
    assert heights == pytest.approx(expected, abs=0.01)
    bands = [b for b, e in summary["by_age_band"].items() if e["errands_completed"] > 0]
    assert [t.get_text() for t in by_band.get_xticklabels()] == bands


@pytest.mark.parametrize("name", ["tiny_merged", "pingtan_merged"])
def test_queue_heatmap_and_utilisation(figure_sets, run_dirs, name):
    figset = figure_sets(name)
    result = read_run(run_dirs[name])
    heat = figset.figures["queue_heatmap"]
    panels = [a for a in heat.axes if a.images]
    kinds = set(result.facility_days["kind"].astype(str))
    assert len(panels) == len(kinds)
    for ax in panels:
        assert isinstance(ax.images[0], AxesImage)
        assert ax.get_ylabel() == "Hour of arrival (h)"
    assert panels[-1].get_xlabel() == "Day of simulation"
    assert any(a.get_ylabel() == "Mean wait in queue (min)" for a in heat.axes)
    util = figset.figures["utilisation"].axes[0]
    assert len(util.patches) == result.facility_days["facility"].nunique()
    assert util.get_xlabel() == "Server utilisation (%)"
    assert "Busiest day" in _legend_texts(util.get_legend())


def test_lorenz_curves_carry_gini(figure_sets, run_dirs):
    fig = figure_sets("pingtan_merged", "pingtan_baseline").figures["lorenz"]
    ax = fig.axes[0]
    texts = _legend_texts(ax.get_legend())
    summary = read_run(run_dirs["pingtan_merged"]).summary
    n_access = sum(1 for k in summary if k.startswith("access_"))
    assert len(texts) == 1 + 1 + n_access + 1  # equality, burden, each service, comparison run
    assert texts[0] == "Equality line"
    gini = summary["equity"]["gini_burden_per_resident"]
    assert texts[1] == f"Burden per errand, Gini {gini:.3f}"
    assert "(pingtan_baseline)" in texts[-1]
    assert ax.get_xlabel() == "Cumulative share of residents (%)"


def test_line_loads_drawn_when_transit_exists(figure_sets, run_dirs):
    if "tiny_buses" not in run_dirs:
        pytest.skip("scenarios/tiny/buses.yaml not present (transit not merged)")
    figset = figure_sets("tiny_buses")
    assert "line_loads" in figset.figures and "line_loads" not in figset.skipped
    ax = figset.figures["line_loads"].axes[0]
    texts = _legend_texts(ax.get_legend())
    assert "East-West bus" in texts and "Capacity" in texts
    assert ax.get_xlabel() == "Departure time (h)" and ax.get_ylabel() == "Peak load (% of capacity)"


def test_figures_fit_journal_widths(figure_sets):
    for fig in figure_sets("tiny_merged").figures.values():
        assert fig.get_figwidth() in (3.5, 7.2)
