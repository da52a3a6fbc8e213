"""Every run figure is drawn for the built-in scenarios and holds what a reader looks for."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.image import AxesImage
from matplotlib.patches import Polygon
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar
from shapely.geometry import Polygon as ShapelyPolygon

from sim.figures.labels import Labeller
from sim.figures.runset import RUN_FIGURES
from sim.results.io import read_run
from sim.world.outline import outline_rings_km

SCENARIO_RUNS = ["tiny_baseline", "tiny_merged", "pingtan_baseline", "pingtan_merged"]


def _legend_texts(legend) -> list[str]:
    return [t.get_text() for t in legend.get_texts()]


@pytest.mark.parametrize("name", SCENARIO_RUNS)
def test_every_figure_is_drawn_or_skipped_with_a_reason(figure_sets, name):
    figset = figure_sets(name)
    assert set(figset.figures) | set(figset.skipped) == set(RUN_FIGURES)
    assert figset.skipped == {
        "difference_map": "needs --vs OTHER_RUN",
        "difference_bars": "needs --vs OTHER_RUN",
        "unit_age_change": "needs --vs OTHER_RUN",
        "line_loads": "no transit in this run",
    }
    assert set(figset.captions) == set(figset.figures)


@pytest.mark.parametrize(
    ("name", "vs"), [("tiny_merged", "tiny_baseline"), ("pingtan_merged", "pingtan_baseline")]
)
def test_maps_have_outlines_names_roads_arrow_scale_bar(figure_sets, run_dirs, name, vs):
    figset = figure_sets(name, vs)
    result = read_run(run_dirs[name])
    places = result.places
    units = places.loc[places["kind"] == "seat"]
    for key in ("burden_map", "difference_map"):
        fig = figset.figures[key]
        ax = fig.axes[0]
        assert ax.get_aspect() == 1.0
        assert ax.get_xlabel() == "Easting (km)" and ax.get_ylabel() == "Northing (km)"
        assert any(isinstance(a, AnchoredSizeBar) for a in ax.artists), "scale bar"
        assert any(t.get_gid() == "north_arrow" and t.get_text() == "N" for t in ax.texts), "north arrow"
        roads = {c.get_label() for c in ax.collections if isinstance(c, LineCollection)}
        assert {"Trunk road", "Rural road"} <= roads
        outlines = [p for p in ax.patches if isinstance(p, Polygon) and str(p.get_gid()).startswith("hull:")]
        assert len(outlines) == len(units), "one outline per former township"
        land = [p for p in ax.patches if isinstance(p, Polygon) and p.get_gid() == "land"]
        if name.startswith("pingtan"):  # the county's coastline under the villages, every village on it
            assert len(land) == len(outline_rings_km())
            xy = places.loc[places["kind"] == "village", ["x_km", "y_km"]].to_numpy()
            on_land = np.zeros(len(xy), bool)
            for patch in land:
                on_land |= patch.get_path().contains_points(xy)
            assert on_land.all()
            # roads are drawn along the land: no drawn road crosses more than max_water_km of sea
            land_km = shapely.union_all([ShapelyPolygon(r) for r in outline_rings_km()])
            drawn = [
                shapely.LineString(path.vertices)
                for c in ax.collections
                if isinstance(c, LineCollection) and c.get_label() in ("Trunk road", "Rural road")
                for path in c.get_paths()
            ]
            wet = shapely.length(drawn) - shapely.length(shapely.intersection(drawn, land_km))
            assert len(drawn) > 500 and wet.max() <= 0.3 + 1e-9
        else:
            assert land == []
        names = {
            t.get_text() for t in ax.texts if str(t.get_gid()).startswith("township:") and t.get_visible()
        }
        assert names == set(units["en"]), "every former township named, none hidden"
        points = [c for c in ax.collections if isinstance(c, PathCollection)]
        villages = [
            c for c in points if c.get_label() in ("Villages (area: population)", "no completed errands")
        ]
        assert sum(len(c.get_offsets()) for c in villages) == int((places["kind"] == "village").sum())
        coloured = next(c for c in villages if c.get_label() == "Villages (area: population)")
        assert coloured.colorbar is not None and coloured.colorbar.ax.get_title(loc="left").endswith("(min)")
        legend = _legend_texts(fig.axes[1].get_legend())
        assert {"Health centre", "Service hall"} <= set(legend) and any("arrivals/day" in t for t in legend)
        # the map ends where the county ends: every village inside, little empty margin
        x0, x1 = ax.get_xlim()
        span = places["x_km"].max() - places["x_km"].min()
        assert x0 <= places["x_km"].min() and x1 >= places["x_km"].max() and (x1 - x0) < 1.15 * span + 2
    assert figset.figures["burden_map"].axes[0].get_title(loc="left").startswith("Door-to-door burden")
    diff_points = next(
        c
        for c in figset.figures["difference_map"].axes[0].collections
        if c.get_label() == "Villages (area: population)"
    )
    assert isinstance(diff_points.norm, TwoSlopeNorm) and diff_points.norm.vcenter == 0
    assert "single run, no CI" in figset.figures["difference_map"].axes[0].get_title(loc="left")


def test_facilities_at_one_place_do_not_hide_each_other(figure_sets):
    fig = figure_sets("pingtan_merged").figures["burden_map"]
    ax = fig.axes[0]
    fig.canvas.draw()
    centres = []
    for c in ax.collections:
        if isinstance(c, PathCollection) and c.get_label() in (
            "Health centre",
            "Service hall",
            "Service point",
        ):
            centres += [tuple(np.round(c.get_offset_transform().transform(xy), 1)) for xy in c.get_offsets()]
    assert len(centres) == len(set(centres)), "no two facility markers share a centre on the page"


def test_bus_and_ferry_lines_are_drawn_numbered_and_named(figure_sets, run_dirs):
    if "tiny_buses" not in run_dirs:
        pytest.skip("scenarios/tiny/buses.yaml not present")
    fig = figure_sets("tiny_buses").figures["burden_map"]
    badges = [t for t in fig.axes[0].texts if str(t.get_gid()).startswith("line:")]
    assert badges and all(t.get_visible() for t in badges)
    legend = _legend_texts(fig.axes[1].get_legend())
    assert any(t.endswith("East-West bus") for t in legend)


@pytest.mark.parametrize("name", SCENARIO_RUNS)
def test_burden_cdf_small_multiples_one_colour_per_township(figure_sets, run_dirs, name):
    fig = figure_sets(name).figures["burden_cdf"]
    summary = read_run(run_dirs[name]).summary
    units = [u for u, e in summary.by_former_unit.items() if e.errands_completed > 0]
    panels = [a for a in fig.axes if a.get_visible() and a.get_legend() is not None]
    named = [t for ax in panels for t in _legend_texts(ax.get_legend())]
    labels = Labeller("en", places=read_run(run_dirs[name]).places)
    assert sorted(named) == sorted(labels.name(u) for u in units)
    for ax in panels:
        colours = [line.get_color() for line in ax.get_legend().get_lines()]
        assert len(colours) == len(set(colours)) <= 6, "distinct colours within a panel"
        assert ax.get_xscale() == "log"
        assert {15, 30, 60} <= {round(t) for t in ax.get_xticks()}
    assert fig.get_supxlabel() == "Door-to-door burden per errand (min)"
    assert fig.get_supylabel() == "Cumulative share of errands (%)"


def test_burden_cdf_groups_by_new_township_and_shows_the_comparison(figure_sets):
    fig = figure_sets("pingtan_merged", "pingtan_baseline").figures["burden_cdf"]
    titles = [a.get_title(loc="left") for a in fig.axes if a.get_visible()]
    assert titles == ["Haitan", "Jinjing", "Junshan", "Suping", "Not merged"]
    assert _legend_texts(fig.legends[0]) == ["Pingtan 2021 merger", "Pingtan before the 2021 merger"]
    haitan = fig.axes[0]
    assert len(haitan.get_lines()) == 3 + 3 + 3  # 3 thresholds, 3 townships in each run


@pytest.mark.parametrize("name", ["tiny_merged", "pingtan_merged"])
def test_threshold_shares_match_the_summary(figure_sets, run_dirs, name):
    fig = figure_sets(name).figures["threshold_shares"]
    by_unit, by_band = fig.axes[0], fig.axes[1]
    summary = read_run(run_dirs[name]).summary
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["> 15 min", "> 30 min", "> 60 min"]
    assert by_unit.get_ylabel() == "Errands over threshold (%)" and by_band.get_xlabel() == "Age band (years)"
    units = [u for u, e in summary.by_former_unit.items() if e.errands_completed > 0]
    assert len(by_unit.patches) == 3 * len(units)
    heights = [p.get_height() for p in by_unit.containers[2]]  # > 60 min
    expected = [100 * summary.by_former_unit[u].burden_share_over_min["60"] for u in units]
    assert heights == pytest.approx(expected, abs=0.01)
    bands = [b for b, e in summary.by_age_band.items() if e.errands_completed > 0]
    assert [t.get_text() for t in by_band.get_xticklabels()] == bands


def test_threshold_shares_mark_the_comparison_run(figure_sets, run_dirs):
    fig = figure_sets("pingtan_merged", "pingtan_baseline").figures["threshold_shares"]
    assert _legend_texts(fig.legends[0])[-1] == "Pingtan before the 2021 merger"
    before = read_run(run_dirs["pingtan_baseline"]).summary.by_former_unit
    ticks = fig.axes[0].collections[2].get_offsets()[:, 1]  # the > 60 min ticks
    expected = [100 * e.burden_share_over_min["60"] for e in before.values() if e.errands_completed]
    assert list(ticks) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("name", ["tiny_merged", "pingtan_merged"])
def test_queue_heatmap_is_weekday_by_hour_and_explains_long_waits(figure_sets, run_dirs, name):
    heat = figure_sets(name).figures["queue_heatmap"]
    result = read_run(run_dirs[name])
    panels = [a for a in heat.axes if a.images]
    assert len(panels) == len(set(result.facility_days["kind"].astype(str)))
    for ax in panels:
        assert isinstance(ax.images[0], AxesImage)
        assert ax.images[0].get_array().shape[1] == 7, "seven weekdays, not one column per day"
    weekdays = [t.get_text() for t in panels[-1].get_xticklabels()]
    assert weekdays == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert panels[0].get_ylabel() == "Hour of arrival (h)"
    assert any(a.get_ylabel() == "Mean wait in queue (min)" for a in heat.axes)
    top = float(np.nanmax([np.ma.filled(a.images[0].get_array(), np.nan) for a in panels]))
    assert f"Longest mean wait {top:.0f} min" in heat.get_supxlabel() and "closing" in heat.get_supxlabel()


def test_queue_heatmap_before_and_after(figure_sets):
    heat = figure_sets("pingtan_merged", "pingtan_baseline").figures["queue_heatmap"]
    titles = [a.get_title(loc="left") for a in heat.axes if a.images]
    assert (
        "Service point: Pingtan 2021 merger" in titles
        and "Service hall: Pingtan before the 2021 merger" in titles
    )


def test_utilisation_names_downgraded_sites_as_service_points_and_labels_per_kind(figure_sets, run_dirs):
    fig = figure_sets("pingtan_merged", "pingtan_baseline").figures["utilisation"]
    result = read_run(run_dirs["pingtan_merged"])
    panels = {a.get_title(loc="left"): a for a in fig.axes}
    assert panels["Health centre"].get_xlabel() == "Doctor utilisation (%)"
    assert panels["Service point"].get_xlabel() == "Window utilisation (%)"
    points = [t.get_text() for t in panels["Service point"].get_yticklabels()]
    assert "Aoqian service point" in points and not any("hall" in p for p in points)
    n_bars = sum(len(a.patches) for a in fig.axes)
    assert n_bars == result.facility_days["facility"].nunique()
    assert _legend_texts(fig.legends[0]) == ["Busiest day", "Pingtan before the 2021 merger"]
    if (result.facility_days["utilisation"] > 1).any():
        assert "Over 100%" in fig.get_supxlabel()


def test_lorenz_curves_carry_gini(figure_sets, run_dirs):
    fig = figure_sets("pingtan_merged", "pingtan_baseline").figures["lorenz"]
    ax = fig.axes[0]
    texts = _legend_texts(fig.legends[0])
    summary = read_run(run_dirs["pingtan_merged"]).summary
    n_access = len(summary.access_by_service)
    assert len(texts) == 1 + 2 * (1 + n_access)  # equality, then each measure in both runs
    assert texts[0] == "Equality line"
    gini = summary.equity.gini_burden_per_resident
    assert texts[1] == f"Burden per errand, Gini {gini:.3f}"
    assert sum("(Pingtan before the 2021 merger)" in t for t in texts) == 1 + n_access
    assert ax.get_xlabel() == "Cumulative share of residents (%)"


def test_difference_bars_single_run_are_labelled_as_such(figure_sets, run_dirs):
    fig = figure_sets("pingtan_merged", "pingtan_baseline").figures["difference_bars"]
    assert "single run, no CI" in fig.get_suptitle()
    first = fig.axes[0]
    assert first.get_xlabel() == "Change: Burden per errand, mean (min)"
    ticks = [t.get_text() for t in first.get_yticklabels()]
    assert ticks[0] == "All residents" and "Aoqian" in ticks
    a = read_run(run_dirs["pingtan_baseline"]).summary.burden_min.mean
    b = read_run(run_dirs["pingtan_merged"]).summary.burden_min.mean
    dots = np.concatenate([c.get_offsets() for c in first.collections if isinstance(c, PathCollection)])
    top = dots[np.argmax(dots[:, 1])]  # "All residents" is the top row
    assert top[0] == pytest.approx(b - a)


def test_line_loads_by_direction_without_empty_panels(figure_sets, run_dirs):
    if "tiny_buses" not in run_dirs:
        pytest.skip("scenarios/tiny/buses.yaml not present (transit not merged)")
    figset = figure_sets("tiny_buses")
    assert "line_loads" in figset.figures and "line_loads" not in figset.skipped
    fig = figset.figures["line_loads"]
    assert [a.get_title(loc="left") for a in fig.axes] == ["Outbound", "Return"]
    assert all(a.get_lines() for a in fig.axes), "no empty panel"
    texts = _legend_texts(fig.legends[0])
    assert "East-West bus" in texts and "Capacity" in texts
    assert fig.axes[0].get_xlabel() == "Departure time (h)"
    assert fig.axes[0].get_ylabel() == "Peak load (% of capacity)"
    loads = read_run(run_dirs["tiny_buses"]).line_loads
    if loads["left_behind"].sum() == 0:
        assert "Nobody was left behind" in fig.get_suptitle()


def test_figures_fit_journal_widths(figure_sets):
    for fig in figure_sets("tiny_merged", "tiny_baseline").figures.values():
        assert fig.get_figwidth() in (3.5, 7.2)
        assert fig.get_figheight() <= 9.0, "fits a page with its caption"
