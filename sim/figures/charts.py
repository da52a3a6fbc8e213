"""Charts of a run: burden CDFs, shares beyond thresholds, queue heatmaps, utilisation, Lorenz, bus loads."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.figures.labels import Labeller
from sim.figures.style import OKABE_ITO, QUEUE_CMAP, kind_colour, new_figure, series_styles
from sim.metrics.equity import gini, lorenz
from sim.metrics.summary import THRESHOLDS_MIN

__all__ = [
    "burden_cdf",
    "line_loads_chart",
    "lorenz_chart",
    "queue_heatmap",
    "threshold_shares_chart",
    "utilisation_chart",
]


_ECDF_POINTS = 800


def _weighted_ecdf(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(values, kind="stable")
    x, w = values[order], weights[order]
    y = np.cumsum(w) / w.sum()
    if len(x) > _ECDF_POINTS:  # thin to keep vector files small; steps narrower than a line width vanish
        keep = np.unique(np.linspace(0, len(x) - 1, _ECDF_POINTS).astype(np.int64))
        x, y = x[keep], y[keep]
    return x, y


def burden_cdf(done: pd.DataFrame, *, by: str = "former_unit", labels: Labeller) -> Figure:
    """Cumulative distribution of burden per completed errand (min), one line per group of ``by``.

    ``done`` has burden_min, weight and the ``by`` column; grey verticals mark 15, 30 and 60 min.
    """
    fig, ax = new_figure(width="double", height_in=3.6)
    groups = [g for g in pd.unique(done[by]) if g == g]
    if isinstance(done[by].dtype, pd.CategoricalDtype):
        groups = [g for g in done[by].cat.categories if g in set(groups)]
    for t in THRESHOLDS_MIN:
        ax.axvline(t, color="#bdbdbd", lw=0.6, zorder=0)
        ax.text(
            t,
            1.01,
            f"{t}",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=6,
            color="#737373",
        )
    for group, style in zip(groups, series_styles(len(groups)), strict=True):
        sub = done[done[by] == group]
        x, y = _weighted_ecdf(sub["burden_min"].to_numpy(float), sub["weight"].to_numpy(float))
        ax.step(
            np.concatenate([[0.0], x]),
            100 * np.concatenate([[0.0], y]),
            where="post",
            label=labels.name(group),
            **style,
        )
    upper = float(np.nanpercentile(done["burden_min"], 99)) if len(done) else 60.0
    ax.set_xlim(0, max(upper, 65.0))
    ax.set_ylim(0, 100)
    ax.set_xlabel(labels.t("burden_min"))
    ax.set_ylabel(labels.t("cum_errands"))
    ax.set_title(labels.t("t_cdf"), pad=10)
    ax.legend(
        title=labels.t("former_unit"),
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        ncol=2 if len(groups) > 8 else 1,
        handlelength=2.4,
        columnspacing=1.0,
    )
    return fig


def threshold_shares_chart(by_unit: pd.DataFrame, by_band: pd.DataFrame, *, labels: Labeller) -> Figure:
    """Grouped bars: share (%) of errands beyond each threshold, (a) by former township, (b) by age band.

    Both frames: index = groups, columns = thresholds in minutes, values = shares 0..1.
    """
    fig, axes = new_figure(
        width="double", height_in=3.4, ncols=2, width_ratios=[max(len(by_unit), 1), max(len(by_band), 1) + 1]
    )
    colours = colormaps["cividis"](np.linspace(0.85, 0.1, len(by_unit.columns)))
    for ax, frame, title, xlabel in (
        (axes[0], by_unit, labels.t("t_shares_unit"), labels.t("former_unit")),
        (axes[1], by_band, labels.t("t_shares_band"), labels.t("age_band")),
    ):
        n, k = len(frame), len(frame.columns)
        width = 0.8 / max(k, 1)
        pos = np.arange(n)
        for j, (t, colour) in enumerate(zip(frame.columns, colours, strict=True)):
            ax.bar(
                pos + (j - (k - 1) / 2) * width,
                100 * frame[t].to_numpy(float),
                width,
                color=colour,
                label=labels.t("over_min", t=t),
            )
        ax.set_xticks(
            pos,
            [labels.name(g) for g in frame.index],
            rotation=60 if n > 6 else 0,
            ha="right" if n > 6 else "center",
            rotation_mode="anchor",
        )
        ax.set_ylim(0, 100)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(labels.t("share_errands"))
        ax.set_title(title, loc="left")
    handles, texts = axes[0].get_legend_handles_labels()
    fig.legend(handles, texts, loc="outside upper center", ncol=len(texts))
    return fig


def queue_heatmap(hourly: pd.DataFrame, *, labels: Labeller) -> Figure:
    """Heatmaps of mean queue wait (min) by hour of arrival (rows) and day (columns), one panel per kind.

    ``hourly``: kind, day, hour, arrivals, mean_wait_min (see ``measures.hourly_queue``). Cells
    without arrivals are blank; all panels share one colour scale.
    """
    kinds = [k for k in ("clinic", "hall", "service_point") if k in set(hourly["kind"])] or ["clinic"]
    fig, axes = new_figure(
        width="double", height_in=1.0 + 1.5 * len(kinds), nrows=len(kinds), squeeze=False, sharex=True
    )
    days = np.arange(int(hourly["day"].max()) + 1 if len(hourly) else 1)
    h0 = int(hourly["hour"].min()) if len(hourly) else 8
    h1 = int(hourly["hour"].max()) if len(hourly) else 17
    hours = np.arange(h0, h1 + 1)
    top = float(hourly["mean_wait_min"].max()) if len(hourly) else 1.0
    images = []
    for ax, kind in zip(axes[:, 0], kinds, strict=True):
        sub = hourly[hourly["kind"] == kind]
        grid = sub.pivot_table(index="hour", columns="day", values="mean_wait_min").reindex(
            index=hours, columns=days
        )
        images.append(
            ax.imshow(
                np.ma.masked_invalid(grid.to_numpy(float)),
                aspect="auto",
                origin="lower",
                cmap=QUEUE_CMAP,
                vmin=0,
                vmax=max(top, 1e-9),
                interpolation="nearest",
                extent=(days[0] - 0.5, days[-1] + 0.5, hours[0] - 0.5, hours[-1] + 0.5),
            )
        )
        ax.set_ylabel(labels.t("hour"))
        ax.set_title(labels.kind(kind), loc="left")
        ax.set_facecolor("white")
    axes[-1, 0].set_xlabel(labels.t("day"))
    fig.suptitle(labels.t("t_queue"), fontsize=8)
    fig.colorbar(images[0], ax=axes[:, 0].tolist(), label=labels.t("mean_wait"), shrink=0.9)
    return fig


def utilisation_chart(util: pd.DataFrame, *, labels: Labeller) -> Figure:
    """Horizontal bars of mean daily utilisation (%) per facility, coloured by kind; dots: busiest day.

    ``util``: index = facility id; columns kind, mean_utilisation, max_utilisation (0..1).
    """
    fig, ax = new_figure(width="single", height_in=1.0 + 0.14 * len(util))
    pos = np.arange(len(util))
    colours = [kind_colour(k) for k in util["kind"]]
    ax.barh(pos, 100 * util["mean_utilisation"].to_numpy(float), color=colours, height=0.7)
    ax.scatter(
        100 * util["max_utilisation"].to_numpy(float),
        pos,
        s=8,
        color="black",
        zorder=3,
        label=labels.t("util_max"),
    )
    ax.set_yticks(pos, [labels.name(f) for f in util.index], fontsize=6)
    ax.axvline(100, color="#737373", lw=0.6, ls="--")
    ax.set_xlim(0, max(105.0, 100 * float(util["max_utilisation"].max()) + 5))
    ax.set_ylim(-0.7, len(util) - 0.3)
    ax.set_xlabel(labels.t("utilisation"))
    ax.set_title(labels.t("t_util"))
    kinds = list(dict.fromkeys(util["kind"]))
    handles = [Patch(color=kind_colour(k), label=labels.kind(k)) for k in kinds]
    handles.append(ax.collections[0])
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.4, -0.5 / (1.0 + 0.14 * len(util))), ncol=2
    )
    return fig


def lorenz_chart(
    samples: Mapping[str, pd.DataFrame], *, labels: Labeller, dashed: tuple[str, ...] = ()
) -> Figure:
    """Lorenz curves with the Gini coefficient in the legend.

    Args:
        samples: legend label -> frame with ``value`` (minutes) and ``weight`` columns.
        labels: language.
        dashed: labels drawn dashed (e.g. the comparison run).
    """
    fig, ax = new_figure(width="single", height_in=3.2 + 0.13 * len(samples))
    ax.plot([0, 100], [0, 100], color="#737373", lw=0.6, ls=":", label=labels.t("equality"))
    linestyles = ("-", (0, (5, 1.5)), "-.", (0, (1, 1)))
    for i, (name, frame) in enumerate(samples.items()):
        values, weights = frame["value"].to_numpy(float), frame["weight"].to_numpy(float)
        pop, val = lorenz(values, weights)
        g = gini(values, weights)
        style = (
            {"color": "black", "ls": "--"}
            if name in dashed
            else {"color": OKABE_ITO[i % 7], "ls": linestyles[i % 4]}
        )
        ax.plot(100 * pop, 100 * val, label=f"{name}, {labels.t('gini', g=g)}", **style)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_aspect("equal")
    ax.set_xlabel(labels.t("pop_share"))
    ax.set_ylabel(labels.t("minutes_share"))
    ax.set_title(labels.t("t_lorenz"))
    ax.legend(loc="upper left", bbox_to_anchor=(-0.15, -0.16), fontsize=6)
    return fig


def line_loads_chart(loads: pd.DataFrame, *, labels: Labeller) -> Figure:
    """Bus loads: (a) peak load per departure (% of capacity, or passengers when capacity is unknown)
    by departure time, one line per bus line; (b) passengers left behind per day by line.

    ``loads``: line, departure_h, peak_load, capacity, left_behind (see ``measures.read_line_loads``).
    """
    fig, axes = new_figure(width="double", height_in=3.0, ncols=2, width_ratios=[2, 1])
    lines = sorted(loads["line"].unique())
    has_capacity = bool(loads["capacity"].notna().all() and (loads["capacity"] > 0).all())
    for line, style in zip(lines, series_styles(len(lines)), strict=True):
        sub = loads[loads["line"] == line].sort_values("departure_h")
        y = 100 * sub["peak_load"] / sub["capacity"] if has_capacity else sub["peak_load"]
        axes[0].plot(sub["departure_h"], y, marker="o", ms=2.5, label=labels.name(line), **style)
    if has_capacity:
        axes[0].axhline(100, color="black", lw=0.6, ls=":", label=labels.t("capacity"))
    axes[0].set_xlabel(labels.t("departure_h"))
    axes[0].set_ylabel(labels.t("load_pct" if has_capacity else "load_pax"))
    axes[0].set_title(labels.t("t_lines"), loc="left")
    axes[0].legend(title=labels.t("line"), fontsize=6, ncol=2 if len(lines) > 6 else 1)
    behind = loads.groupby("line")["left_behind"].sum(min_count=1).reindex(lines).fillna(0)
    axes[1].barh(
        np.arange(len(lines)), behind.to_numpy(float), color=[s["color"] for s in series_styles(len(lines))]
    )
    axes[1].set_yticks(np.arange(len(lines)), [labels.name(v) for v in lines])
    axes[1].set_xlim(0, max(1.0, 1.1 * float(behind.max())))
    axes[1].set_xlabel(labels.t("left_behind"))
    return fig
