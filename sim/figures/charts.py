"""Charts of a run (and of a comparison run): burden CDFs in small multiples, shares beyond thresholds,
queue waits by weekday and hour, utilisation per kind, Lorenz curves, bus loads, differences with CIs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

from sim.figures.labels import Labeller
from sim.figures.style import (
    COLUMN_IN,
    DOUBLE_IN,
    OKABE_ITO,
    QUEUE_CMAP,
    footnote,
    kind_colour,
    new_figure,
)
from sim.metrics.equity import gini, lorenz
from sim.metrics.summary import THRESHOLDS_MIN

__all__ = [
    "burden_cdf",
    "difference_bars",
    "line_loads_chart",
    "lorenz_chart",
    "queue_heatmap",
    "threshold_shares_chart",
    "utilisation_chart",
]

_ECDF_POINTS = 600
_CDF_TICKS = (5, 15, 30, 60, 120, 240, 480)
_PANEL_COLOURS = OKABE_ITO[:6]
_OTHER = "#737373"  # the comparison run, wherever it is drawn


def _weighted_ecdf(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(values, kind="stable")
    x, w = values[order], weights[order]
    y = np.cumsum(w) / w.sum()
    if len(x) > _ECDF_POINTS:  # thin to keep vector files small; steps narrower than a line width vanish
        keep = np.unique(np.linspace(0, len(x) - 1, _ECDF_POINTS).astype(np.int64))
        x, y = x[keep], y[keep]
    return x, y


def _grid(n: int, ncols_max: int = 4) -> tuple[int, int]:
    ncols = min(ncols_max, max(n, 1))
    return math.ceil(max(n, 1) / ncols), ncols


def _step(ax: Axes, frame: pd.DataFrame, **style: Any) -> None:
    x, y = _weighted_ecdf(frame["burden_min"].to_numpy(float), frame["weight"].to_numpy(float))
    x = np.maximum(x, 1.0)  # log axis: the rare sub-minute errand is drawn at 1 min
    ax.step(np.concatenate([[1.0], x]), 100 * np.concatenate([[0.0], y]), where="post", **style)


def burden_cdf(
    done: pd.DataFrame,
    *,
    panels: Mapping[str, Sequence[str]],
    labels: Labeller,
    run_name: str = "",
    other: pd.DataFrame | None = None,
    other_name: str = "",
) -> Figure:
    """Cumulative distribution of burden per completed errand (min, log axis), small multiples: one
    panel per group of former townships (e.g. the township they merged into), one colour per former
    township; the comparison run's curve of the same township dashed in the same colour. The 15, 30
    and 60 min thresholds are gridlines and ticks.

    Args:
        done: completed errands (burden_min, weight, former_unit).
        panels: panel title id -> former township ids in it.
        labels: language and names.
        run_name: display name of this run.
        other: the comparison run's completed errands, or None.
        other_name: display name of the comparison run.
    """
    nrows, ncols = _grid(len(panels))
    width = DOUBLE_IN if ncols > 1 else COLUMN_IN
    fig, axes = new_figure(
        width="double" if width == DOUBLE_IN else "single",
        height_in=0.6 + 1.75 * nrows,
        nrows=nrows,
        ncols=ncols,
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    upper = float(np.nanpercentile(done["burden_min"], 99.5)) if len(done) else 120.0
    top = max(120.0, min(480.0, upper))
    for ax, (panel, members) in zip(axes.ravel(), panels.items(), strict=False):
        for t in THRESHOLDS_MIN:
            ax.axvline(t, color="#d9d9d9", lw=0.6, zorder=0)
        for unit, colour in zip(members, _PANEL_COLOURS, strict=False):
            mine = done[done["former_unit"].astype(str) == unit]
            if len(mine):
                _step(ax, mine, color=colour, lw=1.1, label=labels.name(unit))
            if other is not None:
                theirs = other[other["former_unit"].astype(str) == unit]
                if len(theirs):
                    _step(ax, theirs, color=colour, lw=0.8, ls=(0, (2.5, 1.5)))
        ax.set_title(labels.name(panel), loc="left", fontsize=7)
        ax.legend(loc="lower right", fontsize=6, handlelength=1.4, borderaxespad=0.2)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    for ax in axes.ravel():
        ax.set_xscale("log")
        ax.set_xlim(3, top)
        ax.set_ylim(0, 100)
        ax.xaxis.set_major_locator(FixedLocator([t for t in _CDF_TICKS if t <= top]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{t}" for t in _CDF_TICKS if t <= top])
        ax.tick_params(labelsize=6)
    fig.supxlabel(labels.t("burden_min"), fontsize=7)
    fig.supylabel(labels.t("cum_errands"), fontsize=7)
    if other is not None:
        fig.legend(
            handles=[
                Line2D([], [], color="black", lw=1.1, label=run_name),
                Line2D([], [], color="black", lw=0.8, ls=(0, (2.5, 1.5)), label=other_name),
            ],
            loc="outside upper center",
            ncol=2,
            fontsize=6.5,
        )
    return fig


def threshold_shares_chart(
    by_unit: pd.DataFrame,
    by_band: pd.DataFrame,
    *,
    labels: Labeller,
    other_unit: pd.DataFrame | None = None,
    other_band: pd.DataFrame | None = None,
    other_name: str = "",
) -> Figure:
    """Grouped bars: share (%) of errands beyond each threshold, (a) by former township, (b) by age band;
    the comparison run's shares as black ticks across the bars.

    All frames: index = groups, columns = thresholds in minutes, values = shares 0..1.
    """
    fig, axes = new_figure(
        width="double", height_in=3.4, ncols=2, width_ratios=[max(len(by_unit), 1), max(len(by_band), 1) + 1]
    )
    colours = colormaps["cividis"](np.linspace(0.85, 0.1, len(by_unit.columns)))
    for ax, frame, before, title, xlabel in (
        (axes[0], by_unit, other_unit, labels.t("t_shares_unit"), labels.t("former_unit")),
        (axes[1], by_band, other_band, labels.t("t_shares_band"), labels.t("age_band")),
    ):
        n, k = len(frame), len(frame.columns)
        width = 0.8 / max(k, 1)
        pos = np.arange(n)
        for j, (t, colour) in enumerate(zip(frame.columns, colours, strict=True)):
            x = pos + (j - (k - 1) / 2) * width
            ax.bar(x, 100 * frame[t].to_numpy(float), width, color=colour, label=labels.t("over_min", t=t))
            if before is not None:
                ref = (
                    before.reindex(frame.index)[t].to_numpy(float)
                    if t in before.columns
                    else np.full(n, np.nan)
                )
                ax.scatter(x, 100 * ref, marker="_", s=40, color="black", lw=1.0, zorder=3)
        rotate = n > 6 or (labels.lang == "en" and n > 4)
        ax.set_xticks(
            pos,
            [labels.group("former_unit" if frame is by_unit else "age_band", g) for g in frame.index],
            rotation=90 if rotate else 0,
        )
        ax.set_ylim(0, 100)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(labels.t("share_errands"))
        ax.set_title(title, loc="left")
    handles, texts = axes[0].get_legend_handles_labels()
    if other_unit is not None:
        handles.append(Line2D([], [], marker="_", ls="", color="black", ms=8, mew=1.0))
        texts.append(other_name)
    fig.legend(handles, texts, loc="outside upper center", ncol=len(texts))
    return fig


def queue_heatmap(
    hourly: pd.DataFrame, *, labels: Labeller, other: pd.DataFrame | None = None, names: Sequence[str] = ()
) -> Figure:
    """Mean queue wait (min) by weekday (columns) and hour of arrival (rows), pooled over the
    simulated weeks and over the facilities of a kind: one row of panels per kind, one column per run
    (this run, then the comparison run). Blank: no arrivals (closed). All panels share one scale; a
    note under the figure names the longest mean wait and why such waits occur.

    ``hourly``: kind, weekday (0 = Monday), hour, arrivals, mean_wait_min (see ``measures.weekly_queue``).
    """
    runs = [hourly] if other is None else [hourly, other]
    pooled = pd.concat(runs)
    kinds = [k for k in ("clinic", "hall", "service_point") if k in set(pooled["kind"])] or ["clinic"]
    fig, axes = new_figure(
        width="double" if other is not None else "single",
        height_in=0.9 + 1.45 * len(kinds),
        nrows=len(kinds),
        ncols=len(runs),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    h0 = int(pooled["hour"].min()) if len(pooled) else 8
    h1 = int(pooled["hour"].max()) if len(pooled) else 17
    hours = np.arange(h0, h1 + 1)
    top = float(pooled["mean_wait_min"].max()) if len(pooled) else 1.0
    image = None
    for c, frame in enumerate(runs):
        for r, kind in enumerate(kinds):
            ax = axes[r, c]
            grid = (
                frame[frame["kind"] == kind]
                .pivot_table(index="hour", columns="weekday", values="mean_wait_min")
                .reindex(index=hours, columns=range(7))
            )
            image = ax.imshow(
                np.ma.masked_invalid(grid.to_numpy(float)),
                aspect="auto",
                origin="lower",
                cmap=QUEUE_CMAP,
                vmin=0,
                vmax=max(top, 1e-9),
                interpolation="nearest",
                extent=(-0.5, 6.5, hours[0] - 0.5, hours[-1] + 0.5),
            )
            title = (
                labels.kind(kind)
                if not names
                else labels.t("panel_run", kind=labels.kind(kind), run=names[c])
            )
            ax.set_title(title, loc="left", fontsize=7)
            ax.set_xticks(range(7), [labels.t(f"wd{d}") for d in range(7)])
            ax.tick_params(labelsize=6)
            ax.set_yticks(range(hours[0] + 1, hours[-1], 3) if len(hours) > 4 else hours)
            if c == 0:
                ax.set_ylabel(labels.t("hour"))
    assert image is not None
    fig.colorbar(image, ax=axes.ravel().tolist(), label=labels.t("mean_wait"), shrink=0.85)
    fig.suptitle(labels.t("t_queue"), fontsize=8)
    if len(hourly):
        worst = hourly.iloc[int(np.nanargmax(hourly["mean_wait_min"].to_numpy(float)))]
        footnote(
            fig,
            labels.t(
                "wait_note",
                top=float(worst["mean_wait_min"]),
                kind=labels.kind(worst["kind"]),
                day=labels.t(f"wd{int(worst['weekday'])}"),
                hour=int(worst["hour"]),
            ),
        )
    return fig


def utilisation_chart(
    util: pd.DataFrame, *, labels: Labeller, other: pd.DataFrame | None = None, other_name: str = ""
) -> Figure:
    """Mean daily utilisation (%) per facility, one panel per kind (doctors at health centres, windows
    at halls and service points), bars coloured by the kind the site has in this run (a downgraded hall
    is a service point); dots: busiest day; open diamonds: the comparison run's mean.

    ``util``: index = facility id; columns kind, mean_utilisation, max_utilisation (0..1).
    """
    kinds = [k for k in ("clinic", "hall", "service_point") if k in set(util["kind"])]
    heights = [max(len(util[util["kind"] == k]), 1) for k in kinds]
    fig, axes = new_figure(
        width="single",
        height_in=1.2 + 0.13 * sum(heights) + 0.35 * len(kinds),
        nrows=len(kinds),
        squeeze=False,
        height_ratios=[h + 2 for h in heights],
    )
    top = max(105.0, 100 * float(util["max_utilisation"].max()) + 5)
    for ax, kind in zip(axes[:, 0], kinds, strict=True):
        sub = util[util["kind"] == kind].sort_values("mean_utilisation")
        pos = np.arange(len(sub))
        ax.barh(pos, 100 * sub["mean_utilisation"].to_numpy(float), color=kind_colour(kind), height=0.7)
        ax.scatter(100 * sub["max_utilisation"].to_numpy(float), pos, s=7, color="black", zorder=3)
        if other is not None:
            ref = other.reindex(sub.index)["mean_utilisation"].to_numpy(float)
            ax.scatter(
                100 * ref, pos, s=14, marker="D", facecolors="none", edgecolors="black", lw=0.6, zorder=4
            )
        ax.set_yticks(pos, [labels.name(f) for f in sub.index], fontsize=6)
        ax.axvline(100, color="#737373", lw=0.6, ls="--")
        ax.set_xlim(0, top)
        ax.set_ylim(-0.7, len(sub) - 0.3)
        ax.set_xlabel(labels.t("util_doctors" if kind == "clinic" else "util_windows"), fontsize=7)
        ax.set_title(labels.kind(kind), loc="left", fontsize=7)
    handles = [Line2D([], [], marker="o", ls="", color="black", ms=2.5, label=labels.t("util_max"))]
    if other is not None:
        handles.append(Line2D([], [], marker="D", ls="", mfc="none", mec="black", ms=3.5, label=other_name))
    fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), fontsize=6.5)
    if (util["max_utilisation"] > 1).any():
        footnote(fig, labels.t("util_over"))
    return fig


def lorenz_chart(
    samples: Mapping[str, pd.DataFrame], *, labels: Labeller, dashed: tuple[str, ...] = ()
) -> Figure:
    """Lorenz curves with the Gini coefficient in the legend.

    Args:
        samples: legend label -> frame with ``value`` (minutes) and ``weight`` columns.
        labels: language.
        dashed: labels drawn dashed (the comparison run's curves, in the colour of the same measure).
    """
    fig, ax = new_figure(width="single", height_in=3.3 + 0.13 * len(samples))
    ax.plot([0, 100], [0, 100], color="#737373", lw=0.6, ls=":", label=labels.t("equality"))
    linestyles = ("-", (0, (5, 1.5)), "-.", (0, (1, 1)))
    solid = [n for n in samples if n not in dashed]
    for i, (name, frame) in enumerate(samples.items()):
        values, weights = frame["value"].to_numpy(float), frame["weight"].to_numpy(float)
        pop, val = lorenz(values, weights)
        g = gini(values, weights)
        if name in dashed:
            base = next((j for j, s in enumerate(solid) if name.startswith(s)), 0)
            style = {"color": OKABE_ITO[base % 7], "ls": (0, (2, 1.2)), "lw": 0.9}
        else:
            style = {"color": OKABE_ITO[i % 7], "ls": linestyles[i % 4]}
        ax.plot(100 * pop, 100 * val, label=f"{name}, {labels.t('gini', g=g)}", **style)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_aspect("equal")
    ax.set_xlabel(labels.t("pop_share"))
    ax.set_ylabel(labels.t("minutes_share"))
    ax.set_title(labels.t("t_lorenz"))
    fig.legend(loc="outside lower center", fontsize=6, ncol=1)
    return fig


def line_loads_chart(loads: pd.DataFrame, *, labels: Labeller) -> Figure:
    """Bus and ferry loads: peak load per departure (% of capacity, or passengers when capacity is
    unknown) by departure time, one panel per direction, one line per transit line, legend below;
    a third panel of passengers left behind per day only when someone was left behind (else a note).

    ``loads``: line, direction (0 outbound, 1 return), departure_h, peak_load, capacity, left_behind.
    """
    lines = sorted(loads["line"].unique())
    directions = sorted(loads["direction"].unique())
    behind = loads.groupby("line")["left_behind"].sum(min_count=1).reindex(lines).fillna(0)
    show_behind = bool((behind > 0).any())
    ncols = len(directions) + int(show_behind)
    fig, axes = new_figure(
        width="double",
        height_in=3.0 + 0.12 * math.ceil(len(lines) / 3),
        ncols=ncols,
        squeeze=False,
        width_ratios=[2] * len(directions) + ([1.3] if show_behind else []),
    )
    has_capacity = bool(loads["capacity"].notna().all() and (loads["capacity"] > 0).all())
    colours = {line: OKABE_ITO[i % 7] for i, line in enumerate(lines)}
    styles = {line: ("-", "--", ":")[(i // 7) % 3] for i, line in enumerate(lines)}
    for ax, direction in zip(axes[0], directions, strict=False):
        for line in lines:
            sub = loads[(loads["line"] == line) & (loads["direction"] == direction)].sort_values(
                "departure_h"
            )
            if sub.empty:
                continue
            y = 100 * sub["peak_load"] / sub["capacity"] if has_capacity else sub["peak_load"]
            ax.plot(
                sub["departure_h"],
                y,
                marker="o",
                ms=2,
                lw=0.9,
                color=colours[line],
                ls=styles[line],
                label=labels.name(line),
            )
        if has_capacity:
            ax.axhline(100, color="black", lw=0.6, ls=":")
        ax.set_xlabel(labels.t("departure_h"))
        ax.set_title(labels.t("outbound" if direction == 0 else "inbound"), loc="left", fontsize=7)
    axes[0, 0].set_ylabel(labels.t("load_pct" if has_capacity else "load_pax"))
    if show_behind:
        ax = axes[0, -1]
        ax.barh(np.arange(len(lines)), behind.to_numpy(float), color=[colours[v] for v in lines])
        ax.set_yticks(np.arange(len(lines)), [labels.name(v) for v in lines], fontsize=6)
        ax.set_xlabel(labels.t("left_behind"))
    handles = [
        Line2D([], [], color=colours[v], ls=styles[v], marker="o", ms=2, lw=0.9, label=labels.name(v))
        for v in lines
    ]
    if has_capacity:
        handles.append(Line2D([], [], color="black", lw=0.6, ls=":", label=labels.t("capacity")))
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=6, title=labels.t("line"))
    title = labels.t("t_lines")
    fig.suptitle(title if show_behind else f"{title}\n{labels.t('none_left')}", fontsize=8)
    return fig


def difference_bars(
    diffs: pd.DataFrame,
    *,
    metrics: Sequence[str],
    order: Sequence[str],
    labels: Labeller,
    title: str,
    note: str,
) -> Figure:
    """Dot charts of this run minus the comparison run by former township (and everyone), one panel per
    metric, with 95% confidence intervals as error bars when the runs are replicated (``ci_low``,
    ``ci_high`` not NaN); dots whose interval excludes 0 are filled, others hollow. ``note`` says
    "single run, no CI" or how many paired replications.

    ``diffs``: DIFFERENCE_COLUMNS rows (see ``measures.unit_differences``); ``order``: groups top to bottom.
    """
    fig, axes = new_figure(
        width="double", height_in=1.0 + 0.17 * len(order), ncols=len(metrics), squeeze=False, sharey=True
    )
    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)  # new_figure uses constrained layout
    engine.set(wspace=0.06)
    pos = np.arange(len(order))[::-1]
    for ax, metric in zip(axes[0], metrics, strict=True):
        rows = diffs[diffs["metric"] == metric].set_index("group").reindex(list(order))
        mean = rows["mean_diff"].to_numpy(float)
        lo, hi = rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float)
        has_ci = np.isfinite(lo) & np.isfinite(hi)
        if has_ci.any():
            ax.errorbar(
                mean[has_ci],
                pos[has_ci],
                xerr=[mean[has_ci] - lo[has_ci], hi[has_ci] - mean[has_ci]],
                fmt="none",
                ecolor="#525252",
                elinewidth=0.8,
                capsize=1.5,
            )
        clear = has_ci & ((lo > 0) | (hi < 0))
        colours = np.where(mean > 0, "#b2182b", "#2166ac")
        ax.scatter(mean[clear | ~has_ci], pos[clear | ~has_ci], s=14, c=colours[clear | ~has_ci], zorder=3)
        weak = has_ci & ~clear
        ax.scatter(mean[weak], pos[weak], s=14, facecolors="white", edgecolors=colours[weak], zorder=3)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlabel(labels.t("diff_axis", metric=labels.metric(metric)), fontsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(4, symmetric=True))
        ax.tick_params(labelsize=6)
    axes[0, 0].set_yticks(pos, [labels.group("former_unit", g) for g in order], fontsize=6)
    fig.suptitle(f"{title}\n{note}", fontsize=8)
    if diffs["ci_low"].notna().any():
        fig.legend(
            handles=[
                Line2D([], [], marker="o", ls="", color="#525252", ms=3.5, label=labels.t("r_ci")),
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    mfc="white",
                    mec="#525252",
                    ms=3.5,
                    label=labels.t("ci_includes_0"),
                ),
            ],
            loc="outside lower center",
            ncol=2,
            fontsize=6,
        )
    return fig
