"""Maps: villages coloured by door-to-door burden, facilities sized by load, roads, north arrow, scale bar."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from sim.figures.labels import Labeller
from sim.figures.style import DIVERGING_CMAP, KIND_MARKERS, SEQUENTIAL_CMAP, new_figure

__all__ = ["add_north_arrow", "add_scale_bar", "burden_map", "difference_map", "scale_length_km"]

_ROADS = {  # road_class: (colour, line width pt, line style)
    "trunk": ("#4d4d4d", 1.2, "-"),
    "rural": ("#b3b3b3", 0.5, "-"),
    "ferry": ("#0072B2", 0.8, (0, (3, 2))),
}
_NICE_KM = (0.5, 1, 2, 5, 10, 20, 50, 100)
_NO_DATA = "#d9d9d9"


def scale_length_km(span_km: float) -> float:
    """A round scale-bar length close to a fifth of the map's width (km)."""
    target = span_km / 5
    return min(_NICE_KM, key=lambda k: abs(np.log(k / target))) if target > 0 else 1.0


def add_scale_bar(ax: Axes, *, labels: Labeller, span_km: float) -> AnchoredSizeBar:
    """Draw a km scale bar in the lower left corner of a map whose axes are in km."""
    length = scale_length_km(span_km)
    text = f"{length:g} {labels.t('km')}"
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        text,
        "lower left",
        pad=0.4,
        borderpad=0.3,
        sep=2,
        frameon=False,
        size_vertical=span_km / 200,
    )
    ax.add_artist(bar)
    return bar


def add_north_arrow(ax: Axes, *, labels: Labeller, x: float = 0.96, y: float = 0.03) -> None:
    """Draw a north arrow whose tail is at axes fraction (x, y) (the map's y axis points north)."""
    ax.annotate(
        "",
        xy=(x, y + 0.08),
        xytext=(x, y),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.0, "shrinkA": 0, "shrinkB": 0},
    )
    ax.text(
        x,
        y + 0.09,
        labels.t("north"),
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
        fontweight="bold",
        gid="north_arrow",
    )


def _draw_edges(ax: Axes, edges: pd.DataFrame, labels: Labeller) -> list[Line2D]:
    handles = []
    for road_class, (colour, width, style) in _ROADS.items():
        sub = edges[edges["road_class"].astype(str) == road_class]
        if sub.empty:
            continue
        segs = np.stack(
            [sub[["x0_km", "y0_km"]].to_numpy(float), sub[["x1_km", "y1_km"]].to_numpy(float)], axis=1
        )
        ax.add_collection(
            LineCollection(
                list(segs),
                colors=colour,
                linewidths=width,
                linestyles=style,
                zorder=1,
                label=labels.t(f"road_{road_class}"),
            )
        )
        handles.append(Line2D([], [], color=colour, lw=width, ls=style, label=labels.t(f"road_{road_class}")))
    return handles


def _marker_area(load: np.ndarray, top: float) -> np.ndarray:
    return 10 + 140 * np.sqrt(np.clip(load, 0, None) / top) if top > 0 else np.full(len(load), 10.0)


def _draw_facilities(ax: Axes, facilities: pd.DataFrame, labels: Labeller) -> list[Line2D]:
    load = facilities["arrivals_per_day"].to_numpy(float)
    top = float(np.nanmax(load)) if len(load) else 0.0
    handles = []
    for kind, marker in KIND_MARKERS.items():
        sub = facilities[facilities["kind"].astype(str) == kind]
        if sub.empty:
            continue
        ax.scatter(
            sub["x_km"],
            sub["y_km"],
            s=_marker_area(sub["arrivals_per_day"].to_numpy(float), top),
            marker=marker,
            facecolors="none",
            edgecolors="black",
            linewidths=0.7,
            zorder=4,
            label=labels.kind(kind),
        )
        handles.append(
            Line2D([], [], marker=marker, ls="", mfc="none", mec="black", ms=5, label=labels.kind(kind))
        )
    if top > 0:
        for n in (top / 4, top):
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    mfc="none",
                    mec="black",
                    ms=float(np.sqrt(_marker_area(np.array([n]), top)[0])),
                    label=labels.t("load_key", n=n),
                )
            )
    return handles


def _map(
    villages: pd.DataFrame,
    edges: pd.DataFrame,
    facilities: pd.DataFrame,
    *,
    value: str,
    cmap: str,
    norm: Normalize,
    colour_label: str,
    title: str,
    labels: Labeller,
) -> Figure:
    fig, (ax, side) = new_figure(width="double", height_in=5.0, ncols=2, width_ratios=[3, 1])
    handles = _draw_edges(ax, edges, labels)
    pop = villages["population"].to_numpy(float)
    size = 6 + 60 * pop / pop.max() if len(pop) and pop.max() > 0 else np.full(len(pop), 6.0)
    vals = villages[value].to_numpy(float)
    has = np.isfinite(vals)
    ax.scatter(
        villages["x_km"][~has],
        villages["y_km"][~has],
        s=size[~has],
        c=_NO_DATA,
        edgecolors="none",
        zorder=2,
        label=labels.t("no_data"),
    )
    points = ax.scatter(
        villages["x_km"][has],
        villages["y_km"][has],
        s=size[has],
        c=vals[has],
        cmap=cmap,
        norm=norm,
        edgecolors="#636363",
        linewidths=0.3,
        zorder=3,
        label=labels.t("villages_pop"),
    )
    handles.append(Line2D([], [], marker="o", ls="", color="#7f7f7f", ms=4, label=labels.t("villages_pop")))
    if not has.all():
        handles.append(Line2D([], [], marker="o", ls="", color=_NO_DATA, ms=4, label=labels.t("no_data")))
    handles += _draw_facilities(ax, facilities, labels)
    side.axis("off")
    colour_axes = side.inset_axes((0.0, 0.02, 0.08, 0.42))
    fig.colorbar(points, cax=colour_axes, label=colour_label)
    xs = np.concatenate([villages["x_km"], edges[["x0_km", "x1_km"]].to_numpy().ravel()])
    ys = np.concatenate([villages["y_km"], edges[["y0_km", "y1_km"]].to_numpy().ravel()])
    pad = 0.05 * max(np.ptp(xs), np.ptp(ys), 1.0)
    ax.set_xlim(xs.min() - pad, xs.max() + pad)
    ax.set_ylim(ys.min() - 4 * pad, ys.max() + pad)
    ax.set_aspect("equal")
    ax.set_xlabel(labels.t("x_km"))
    ax.set_ylabel(labels.t("y_km"))
    ax.set_title(title)
    add_north_arrow(ax, labels=labels)
    add_scale_bar(ax, labels=labels, span_km=float(np.ptp(xs)))
    side.legend(handles=handles, loc="upper left", borderaxespad=0, handletextpad=0.4, labelspacing=0.9)
    return fig


def burden_map(
    villages: pd.DataFrame, edges: pd.DataFrame, facilities: pd.DataFrame, *, labels: Labeller, run: str
) -> Figure:
    """Map of mean burden per errand by village and facility load.

    Args:
        villages: id, x_km, y_km, population, burden_min (mean minutes per completed errand, NaN if none).
        edges: x0_km, y0_km, x1_km, y1_km, road_class (trunk, rural, ferry).
        facilities: x_km, y_km, kind, arrivals_per_day (marker area grows with load).
        labels: language and names.
        run: run name for the title.
    """
    vals = villages["burden_min"].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    norm = Normalize(float(finite.min()), float(finite.max())) if len(finite) else Normalize(0, 1)
    return _map(
        villages,
        edges,
        facilities,
        value="burden_min",
        cmap=SEQUENTIAL_CMAP,
        norm=norm,
        colour_label=labels.t("village_burden"),
        title=labels.t("t_map", run=run),
        labels=labels,
    )


def difference_map(
    villages: pd.DataFrame,
    edges: pd.DataFrame,
    facilities: pd.DataFrame,
    *,
    labels: Labeller,
    run: str,
    other: str,
) -> Figure:
    """Map of the change in mean burden per errand (this run minus the other, min) by village.

    ``villages`` carries ``burden_change_min``; the colour scale is symmetric about zero (red: longer).
    Roads and facilities are this run's.
    """
    vals = villages["burden_change_min"].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    top = float(np.abs(finite).max()) if len(finite) and np.abs(finite).max() > 0 else 1.0
    norm = TwoSlopeNorm(0.0, -top, top)
    return _map(
        villages,
        edges,
        facilities,
        value="burden_change_min",
        cmap=DIVERGING_CMAP,
        norm=norm,
        colour_label=labels.t("burden_change"),
        title=labels.t("t_diff", run=run, other=other),
        labels=labels,
    )
