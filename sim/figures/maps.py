"""Maps: the land (a scenario's coastline), villages coloured by door-to-door burden (or its change),
former-township outlines and names, roads, the scenario's bus lines and ferries, facilities sized
by load, north arrow, scale bar."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import patheffects, rcParams
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox, ScaledTranslation
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from sim.figures.labels import Labeller
from sim.figures.placement import declutter
from sim.figures.style import (
    DIVERGING_CMAP,
    DOUBLE_IN,
    KIND_MARKERS,
    SEQUENTIAL_CMAP,
    kind_colour,
)
from sim.world.bends import edge_polylines

__all__ = [
    "MapLayers",
    "add_north_arrow",
    "add_scale_bar",
    "burden_map",
    "difference_map",
    "road_kind",
    "scale_length_km",
]

_ROADS: dict[str, tuple[str, float, str | tuple[int, tuple[int, int]]]] = {
    # drawn kind: (colour, line width pt, line style); the legend follows this order
    "trunk": ("#4d4d4d", 1.0, "-"),
    "major": ("#4d4d4d", 1.0, "-"),
    "secondary": ("#8c8c8c", 0.6, "-"),
    "rural": ("#c7c7c7", 0.4, "-"),
    "minor": ("#c7c7c7", 0.35, "-"),
    "ferry": ("#6baed6", 0.7, (0, (3, 2))),
}
_OSM_MAJOR = {"motorway", "primary"}  # OSM highway classes drawn as major roads (and "trunk")
_OSM_SECONDARY = {"secondary", "tertiary"}
_LINES = {"bus": ("#D55E00", 1.3, "-"), "ferry": ("#0072B2", 1.3, (0, (4, 1.5)))}
_NICE_KM = (0.5, 1, 2, 5, 10, 20, 50, 100)
_NO_DATA = "#d9d9d9"
_LAND, _COAST, _SEA = "#f4f1e6", "#8c8c8c", "#eaf2f8"
_HULL_FILL = "#f7f7f7"
_HALO = [patheffects.withStroke(linewidth=2.0, foreground="white")]
_LEGEND_IN = 2.25  # width of the legend column (in)
_DODGE_PT = 6.5  # facilities at one place are spread this far apart (points)


@dataclass
class MapLayers:
    """What a map draws besides the villages.

    Attributes:
        edges: x0_km, y0_km, x1_km, y1_km, road_class (trunk, rural, ferry), bends_km (the
            points of an edge that follows the land; see ``sim.world.bends``).
        facilities: id, x_km, y_km, kind, arrivals_per_day (marker area grows with load).
        hulls: former township id -> closed outline (k x 2, km).
        lines: transit line id -> (kind, polyline k x 2 km).
        land: rings of the land (k x 2 km each), e.g. a county's coastline; none: no sea drawn.
    """

    edges: pd.DataFrame
    facilities: pd.DataFrame
    hulls: Mapping[str, np.ndarray] = field(default_factory=dict)
    lines: Mapping[str, tuple[str, np.ndarray]] = field(default_factory=dict)
    land: Sequence[np.ndarray] = ()


def scale_length_km(span_km: float) -> float:
    """A round scale-bar length close to a fifth of the map's width (km)."""
    target = span_km / 5
    return min(_NICE_KM, key=lambda k: abs(np.log(k / target))) if target > 0 else 1.0


def add_scale_bar(ax: Axes, *, labels: Labeller, span_km: float) -> AnchoredSizeBar:
    """Draw a km scale bar in the lower left corner of a map whose axes are in km."""
    length = scale_length_km(span_km)
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        f"{length:g} {labels.t('km')}",
        "lower left",
        pad=0.4,
        borderpad=0.3,
        sep=2,
        frameon=False,
        size_vertical=span_km / 250,
    )
    ax.add_artist(bar)
    return bar


def add_north_arrow(ax: Axes, *, labels: Labeller, x: float = 0.95, y: float = 0.03) -> None:
    """Draw a north arrow whose tail is at axes fraction (x, y) (the map's y axis points north)."""
    ax.annotate(
        "",
        xy=(x, y + 0.07),
        xytext=(x, y),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.0, "shrinkA": 0, "shrinkB": 0},
    )
    ax.text(
        x,
        y + 0.08,
        labels.t("north"),
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
        fontweight="bold",
        gid="north_arrow",
    )


def road_kind(road_class: str) -> str:
    """How a road class is drawn: the generated network's ``trunk``, ``rural`` and ``ferry`` as
    they are; OSM highway classes (a built scenario) as ``major`` (motorway, primary, their links),
    ``secondary`` (secondary, tertiary, their links) or ``minor`` (every other class)."""
    if road_class in ("trunk", "rural", "ferry"):
        return road_class
    base = road_class.removesuffix("_link")
    if base in _OSM_MAJOR or base == "trunk":
        return "major"
    return "secondary" if base in _OSM_SECONDARY else "minor"


def _draw_edges(ax: Axes, edges: pd.DataFrame, labels: Labeller) -> list[Line2D]:
    """Every road and ferry edge, styled by :func:`road_kind`; one legend entry per kind drawn."""
    handles = []
    kinds = edges["road_class"].astype(str).map(road_kind)
    for kind, (colour, width, style) in _ROADS.items():
        sub = edges[(kinds == kind).to_numpy()]
        if sub.empty:
            continue
        label = labels.t(f"road_{kind}")
        ax.add_collection(
            LineCollection(
                edge_polylines(sub), colors=colour, linewidths=width, linestyles=style, zorder=1, label=label
            )
        )
        handles.append(Line2D([], [], color=colour, lw=width, ls=style, label=label))
    return handles


_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")  # CJK: about twice a Latin letter


def _wrap(text: str, width_in: float) -> str:
    """Break a title into lines no wider than ``width_in`` inches at the axes title size (Latin
    letters ~0.55 em, CJK characters ~1.1 em), at spaces or between CJK characters."""
    size = FontProperties(size=rcParams["axes.titlesize"]).get_size_in_points()
    room = width_in * 72 / (0.55 * size)
    out = []
    for para in text.split("\n"):
        line, used = "", 0.0
        for token in re.findall(
            r"\s+|[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+",
            para,
        ):
            wide = len(_WIDE.findall(token))
            width = len(token) + wide
            if line.strip() and used + width > room and not token.isspace():
                out.append(line.rstrip())
                line, used = "", 0.0
            if line or not token.isspace():
                line, used = line + token, used + width
        out.append(line.rstrip())
    return "\n".join(out)


def _map_label(ax: Axes, text: str, xy: np.ndarray, *, gid: str, **style: Any) -> Annotation:
    """A text centred on a map point (km), as an annotation in offset points that ``declutter``
    may move."""
    return ax.annotate(
        text,
        xy=(float(xy[0]), float(xy[1])),
        xytext=(0, 0),
        textcoords="offset points",
        ha="center",
        va="center",
        gid=gid,
        **style,
    )


def _draw_land(ax: Axes, land: Sequence[np.ndarray]) -> None:
    """Land polygons over a sea-coloured background (nothing without land)."""
    if not land:
        return
    ax.set_facecolor(_SEA)
    for ring in land:
        ax.add_patch(
            Polygon(ring, closed=True, facecolor=_LAND, edgecolor=_COAST, lw=0.5, zorder=-1, gid="land")
        )


def _draw_hulls(
    ax: Axes, hulls: Mapping[str, np.ndarray], labels: Labeller, *, filled: bool
) -> list[Annotation]:
    names = []
    for unit, ring in hulls.items():
        ax.add_patch(
            Polygon(
                ring,
                closed=True,
                facecolor=_HULL_FILL if filled else "none",
                edgecolor="#969696",
                lw=0.6,
                ls="--",
                zorder=0,
                gid=f"hull:{unit}",
            )
        )
        centre = ring[:-1].mean(axis=0)
        names.append(
            _map_label(
                ax,
                labels.name(unit),
                centre,
                gid=f"township:{unit}",
                fontsize=6.5,
                color="#252525",
                zorder=6,
                path_effects=_HALO,
            )
        )
    return names


def _draw_lines(
    ax: Axes, lines: Mapping[str, tuple[str, np.ndarray]], labels: Labeller
) -> tuple[list[Line2D], list[Annotation]]:
    handles, badges = [], []
    for number, (lid, (kind, xy)) in enumerate(lines.items(), start=1):
        colour, width, style = _LINES.get(kind, _LINES["bus"])
        ax.plot(xy[:, 0], xy[:, 1], color=colour, lw=width, ls=style, zorder=2.5, solid_capstyle="round")
        middle = xy[len(xy) // 2] if len(xy) > 2 else xy.mean(axis=0)
        badges.append(
            _map_label(
                ax,
                str(number),
                middle,
                gid=f"line:{lid}",
                fontsize=5.5,
                color="white",
                zorder=7,
                bbox={"boxstyle": "round,pad=0.2", "fc": colour, "ec": "none"},
            )
        )
        handles.append(
            Line2D([], [], color=colour, lw=width, ls=style, label=f"{number}  {labels.name(lid)}")
        )
    return handles, badges


def _marker_area(load: np.ndarray, top: float) -> np.ndarray:
    return 8 + 110 * np.sqrt(np.clip(load, 0, None) / top) if top > 0 else np.full(len(load), 8.0)


def _draw_facilities(ax: Axes, facilities: pd.DataFrame, labels: Labeller) -> list[Line2D]:
    """Facilities as filled shapes by kind; those sharing a place are spread side by side."""
    fac = facilities[facilities["kind"].astype(str).isin(KIND_MARKERS)].copy()
    load = fac["arrivals_per_day"].to_numpy(float)
    top = float(np.nanmax(load)) if len(load) else 0.0
    place = fac["x_km"].round(3).astype(str) + "," + fac["y_km"].round(3).astype(str)
    fac["slot"] = fac.groupby(place).cumcount()
    fac["count"] = fac.groupby(place)["id"].transform("size")
    handles = []
    for kind, marker in KIND_MARKERS.items():
        sub = fac[fac["kind"].astype(str) == kind]
        if sub.empty:
            continue
        for _, rows in sub.groupby(["slot", "count"]):
            slot, count = int(rows["slot"].iloc[0]), int(rows["count"].iloc[0])
            shift = (slot - (count - 1) / 2) * _DODGE_PT / 72
            ax.scatter(
                rows["x_km"],
                rows["y_km"],
                s=_marker_area(rows["arrivals_per_day"].to_numpy(float), top),
                marker=marker,
                facecolors=kind_colour(kind),
                edgecolors="black",
                linewidths=0.5,
                zorder=4,
                label=labels.kind(kind),
                transform=ax.transData + ScaledTranslation(shift, 0, ax.figure.dpi_scale_trans),
            )
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                ls="",
                mfc=kind_colour(kind),
                mec="black",
                mew=0.5,
                ms=5,
                label=labels.kind(kind),
            )
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
                    mew=0.5,
                    ms=float(np.sqrt(_marker_area(np.array([n]), top)[0])),
                    label=labels.t("load_key", n=n),
                )
            )
    return handles


def _marker_boxes(ax: Axes, facilities: pd.DataFrame) -> list[Bbox]:
    """Display boxes (pixels) covering the facility markers at each place, dodged ones included."""
    at = facilities.assign(x=facilities["x_km"].round(3), y=facilities["y_km"].round(3))
    places = at.groupby(["x", "y"]).size().reset_index(name="n")
    scale = ax.figure.dpi / 72
    boxes = []
    for x, y, count in places[["x", "y", "n"]].itertuples(index=False, name=None):
        cx, cy = ax.transData.transform((x, y))
        half_w = (6 + (count - 1) * _DODGE_PT / 2) * scale
        boxes.append(Bbox.from_extents(cx - half_w, cy - 6 * scale, cx + half_w, cy + 6 * scale))
    return boxes


def _extent(villages: pd.DataFrame, layers: MapLayers) -> tuple[float, float, float, float]:
    xs = [villages["x_km"].to_numpy(float), layers.edges[["x0_km", "x1_km"]].to_numpy(float).ravel()]
    ys = [villages["y_km"].to_numpy(float), layers.edges[["y0_km", "y1_km"]].to_numpy(float).ravel()]
    for ring in layers.hulls.values():
        xs.append(ring[:, 0])
        ys.append(ring[:, 1])
    for _, xy in layers.lines.values():
        xs.append(xy[:, 0])
        ys.append(xy[:, 1])
    x, y = np.concatenate(xs), np.concatenate(ys)
    pad = 0.03 * max(np.ptp(x), np.ptp(y), 1.0)
    return float(x.min() - pad), float(x.max() + pad), float(y.min() - 2.5 * pad), float(y.max() + pad)


def _map(
    villages: pd.DataFrame,
    layers: MapLayers,
    *,
    value: str,
    cmap: str,
    norm: Normalize,
    colour_label: str,
    title: str,
    labels: Labeller,
    uncertain: np.ndarray | None = None,
    note: str = "",
) -> Figure:
    x0, x1, y0, y1 = _extent(villages, layers)
    map_w = DOUBLE_IN - _LEGEND_IN - 0.55
    height = float(np.clip(map_w * (y1 - y0) / (x1 - x0) + 0.75, 3.2, 8.8))
    fig = Figure(figsize=(DOUBLE_IN, height), layout="constrained")
    ax, side = fig.subplots(ncols=2, width_ratios=[map_w, _LEGEND_IN])
    _draw_land(ax, layers.land)
    names = _draw_hulls(ax, layers.hulls, labels, filled=not layers.land)
    handles: list[Artist] = list(_draw_edges(ax, layers.edges, labels))
    line_handles, badges = _draw_lines(ax, layers.lines, labels)
    pop = villages["population"].to_numpy(float)
    size = 4 + 40 * pop / pop.max() if len(pop) and pop.max() > 0 else np.full(len(pop), 4.0)
    vals = villages[value].to_numpy(float)
    has = np.isfinite(vals)
    ax.scatter(
        villages["x_km"][~has],
        villages["y_km"][~has],
        s=size[~has],
        c=_NO_DATA,
        edgecolors="none",
        zorder=3,
        label=labels.t("no_data"),
    )
    sure = has & ~(uncertain if uncertain is not None else np.zeros(len(vals), bool))
    points = ax.scatter(
        villages["x_km"][sure],
        villages["y_km"][sure],
        s=size[sure],
        c=vals[sure],
        cmap=cmap,
        norm=norm,
        edgecolors="#525252",
        linewidths=0.25,
        zorder=3,
        label=labels.t("villages_pop"),
    )
    handles.append(Line2D([], [], marker="o", ls="", color="#7f7f7f", ms=4, label=labels.t("villages_pop")))
    if uncertain is not None and (has & uncertain).any():
        weak = has & uncertain
        ax.scatter(
            villages["x_km"][weak],
            villages["y_km"][weak],
            s=size[weak],
            facecolors="white",
            edgecolors=points.cmap(norm(vals[weak])),
            linewidths=0.9,
            zorder=3,
            label=labels.t("ci_includes_0"),
        )
        handles.append(
            Line2D(
                [], [], marker="o", ls="", mfc="white", mec="#525252", ms=4, label=labels.t("ci_includes_0")
            )
        )
    if not has.all():
        handles.append(Line2D([], [], marker="o", ls="", color=_NO_DATA, ms=4, label=labels.t("no_data")))
    if layers.hulls:
        fill = "none" if layers.land else _HULL_FILL
        handles.append(Patch(fc=fill, ec="#969696", ls="--", lw=0.6, label=labels.t("township_hull")))
    if layers.land:
        handles.append(Patch(fc=_LAND, ec=_COAST, lw=0.5, label=labels.t("land")))
    handles += _draw_facilities(ax, layers.facilities, labels)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel(labels.t("x_km"))
    ax.set_ylabel(labels.t("y_km"))
    ax.set_title(_wrap(title + (f"\n{note}" if note else ""), map_w), loc="left")
    add_north_arrow(ax, labels=labels)
    add_scale_bar(ax, labels=labels, span_km=x1 - x0)
    side.axis("off")
    bar_axes = side.inset_axes((0.02, 0.955, 0.9, 0.022))
    fig.colorbar(points, cax=bar_axes, orientation="horizontal")
    bar_axes.set_title(colour_label, fontsize=7, loc="left")
    bar_axes.tick_params(labelsize=6)
    side.legend(
        handles=handles + line_handles,
        loc="upper left",
        bbox_to_anchor=(0.0, 0.89),
        borderaxespad=0,
        handletextpad=0.5,
        labelspacing=0.7,
        fontsize=6.5,
        title=None,
    )
    fixed = [t for t in ax.texts if t.get_gid() == "north_arrow"]
    fixed += [
        c
        for bar in ax.artists
        if isinstance(bar, AnchoredSizeBar)
        for c in bar.findobj()
        if hasattr(c, "get_text")
    ]
    declutter(fig, [*badges, *names], fixed=fixed, obstacles=lambda: _marker_boxes(ax, layers.facilities))
    return fig


def burden_map(villages: pd.DataFrame, layers: MapLayers, *, labels: Labeller, run: str) -> Figure:
    """Map of mean burden per errand by village, with outlines, names, roads, lines and facility load.

    Args:
        villages: id, x_km, y_km, population, burden_min (mean minutes per completed errand, NaN if none).
        layers: roads, facilities, township outlines, transit lines.
        labels: language and names.
        run: display name of the run for the title.
    """
    vals = villages["burden_min"].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    norm = Normalize(float(finite.min()), float(finite.max())) if len(finite) else Normalize(0, 1)
    return _map(
        villages,
        layers,
        value="burden_min",
        cmap=SEQUENTIAL_CMAP,
        norm=norm,
        colour_label=labels.t("village_burden"),
        title=labels.t("t_map", run=run),
        labels=labels,
    )


def difference_map(
    villages: pd.DataFrame, layers: MapLayers, *, labels: Labeller, run: str, other: str, note: str
) -> Figure:
    """Map of the change in mean burden per errand (this run minus the other, min) by village.

    ``villages`` carries ``burden_change_min`` and, when the runs are replicated, ``ci_low`` and
    ``ci_high`` (villages whose 95% interval includes 0 are drawn hollow). The colour scale is
    symmetric about zero (red: longer). ``note`` says "single run, no CI" or how many replications.
    """
    vals = villages["burden_change_min"].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    top = float(np.abs(finite).max()) if len(finite) and np.abs(finite).max() > 0 else 1.0
    uncertain = None
    if {"ci_low", "ci_high"} <= set(villages.columns) and villages["ci_low"].notna().any():
        lo, hi = villages["ci_low"].to_numpy(float), villages["ci_high"].to_numpy(float)
        uncertain = ~((lo > 0) | (hi < 0))
    return _map(
        villages,
        layers,
        value="burden_change_min",
        cmap=DIVERGING_CMAP,
        norm=TwoSlopeNorm(0.0, -top, top),
        colour_label=labels.t("burden_change"),
        title=labels.t("t_diff", run=run, other=other),
        labels=labels,
        uncertain=uncertain,
        note=note,
    )
