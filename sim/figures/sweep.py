"""Sweep figures: outcome against a parameter with 95% bands across seeds, heatmaps, Sobol or Morris bars."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.errors import SimError
from sim.figures.figset import FigureSet
from sim.figures.fonts import Language
from sim.figures.labels import TEXT, Labeller, scenario_names
from sim.figures.style import OKABE_ITO, SEQUENTIAL_CMAP, figure_style, footnote, new_figure

__all__ = [
    "POINT_COLUMNS",
    "is_sweep_dir",
    "outcome_curve",
    "parameter_heatmap",
    "parameter_labels",
    "read_sweep",
    "sensitivity_bars",
    "sweep_figures",
    "sweep_labeller",
    "sweep_parameters",
    "unique_stems",
]

POINT_COLUMNS = ("lever", "outcome", "n", "mean", "std", "ci_low", "ci_high")
_GRID_MAX = 8  # more distinct values than this: treat the parameter as continuous and bin it
_INDEX_PAIRS = {"sobol": ("S1", "ST"), "morris": ("mu_star", "sigma")}


def _table(folder: Path, name: str) -> pd.DataFrame | None:
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    if parquet.is_file():
        return pd.read_parquet(parquet)
    return pd.read_csv(csv) if csv.is_file() else None


def is_sweep_dir(path: str | Path) -> bool:
    """Whether ``path`` is an analysed sweep folder (experiment.yaml and analysis/points)."""
    path = Path(path)
    analysis = path / "analysis"
    has_points = (analysis / "points.parquet").is_file() or (analysis / "points.csv").is_file()
    return (path / "experiment.yaml").is_file() and has_points


def read_sweep(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A sweep folder's points table and its sensitivity table (None when absent or empty).

    Raises:
        SimError: not an analysed sweep folder, or points lacks the contract's columns.
    """
    path = Path(path)
    if not is_sweep_dir(path):
        raise SimError(f"{path}: not an analysed sweep folder (expected experiment.yaml and analysis/points)")
    points = _table(path / "analysis", "points")
    assert points is not None
    missing = [c for c in POINT_COLUMNS if c not in points.columns]
    if missing:
        raise SimError(f"{path}/analysis/points: missing column(s) {', '.join(missing)}")
    points = points.assign(
        lever=points["lever"].fillna("").astype(str), outcome=points["outcome"].astype(str)
    )
    sens = _table(path / "analysis", "sensitivity")
    return points, sens if sens is not None and not sens.empty else None


def sweep_parameters(points: pd.DataFrame) -> list[str]:
    """Parameter columns of a points table that vary (numeric, more than one value)."""
    params = [c for c in points.columns if c not in POINT_COLUMNS]
    return [c for c in params if pd.api.types.is_numeric_dtype(points[c]) and points[c].nunique() > 1]


def _held(points: pd.DataFrame, keep: list[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    """Rows where every other gridded parameter sits at its middle value (continuous ones are left free)."""
    held: dict[str, float] = {}
    for p in sweep_parameters(points):
        values = np.sort(points[p].unique())
        if p in keep or len(values) > _GRID_MAX:
            continue
        held[p] = float(values[(len(values) - 1) // 2])
        points = points[points[p] == held[p]]
    return points, held


def _lever_label(lever: str, labels: Labeller) -> str:
    return labels.scenario(lever) if lever else labels.t("baseline_lever")


def outcome_curve(points: pd.DataFrame, *, outcome: str, parameter: str, labels: Labeller) -> Figure:
    """Seed-mean ``outcome`` against ``parameter``, one line per lever with its 95% interval as a band.

    Other gridded parameters are held at their middle value (said in the panel); for a continuous
    (sampled) parameter each design point is drawn with its interval as an error bar.
    """
    sub, held = _held(points[points["outcome"] == outcome], [parameter])
    fig, ax = new_figure(width="single", height_in=2.9)
    continuous = sub[parameter].nunique() > _GRID_MAX
    for i, (lever, rows) in enumerate(sub.groupby("lever", sort=True)):
        rows = rows.sort_values(parameter)
        colour = OKABE_ITO[i % 7]
        x, y = rows[parameter].to_numpy(float), rows["mean"].to_numpy(float)
        lo, hi = rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float)
        if continuous:
            ax.errorbar(
                x,
                y,
                yerr=[y - lo, hi - y],
                fmt="o",
                ms=2.5,
                lw=0.6,
                color=colour,
                label=_lever_label(str(lever), labels),
            )
        else:
            ax.plot(x, y, marker="o", ms=3, color=colour, label=_lever_label(str(lever), labels))
            ax.fill_between(x, lo, hi, color=colour, alpha=0.25, lw=0)
    handles, texts = ax.get_legend_handles_labels()
    if not continuous:
        handles.append(Patch(color="#7f7f7f", alpha=0.25))
        texts.append(labels.t("ci"))
    ax.legend(handles, texts, fontsize=6)
    ax.set_xlabel(labels.parameter(parameter))
    ax.set_ylabel(labels.metric(outcome))
    if held:
        values = "; ".join(f"{labels.parameter(k)} = {v:g}" for k, v in held.items())
        footnote(fig, labels.t("held_at", values=values))
    return fig


def _axis_values(values: pd.Series) -> pd.Series:
    if values.nunique() <= _GRID_MAX:
        return values.astype(float)
    return pd.cut(values, bins=6).map(lambda iv: float(iv.mid)).astype(float)


def parameter_heatmap(points: pd.DataFrame, *, outcome: str, x: str, y: str, labels: Labeller) -> Figure:
    """Seed-mean ``outcome`` over parameters ``x`` and ``y``, one panel per lever (continuous
    parameters are binned into 6 intervals; other gridded parameters held at their middle value)."""
    sub, _ = _held(points[points["outcome"] == outcome], [x, y])
    sub = sub.assign(_x=_axis_values(sub[x]), _y=_axis_values(sub[y]))
    levers = sorted(sub["lever"].unique())
    fig, axes = new_figure(width="double", height_in=2.8, ncols=len(levers), squeeze=False)
    lo, hi = float(sub["mean"].min()), float(sub["mean"].max())
    images = []
    for ax, lever in zip(axes[0], levers, strict=True):
        grid = sub[sub["lever"] == lever].pivot_table(index="_y", columns="_x", values="mean", aggfunc="mean")
        images.append(
            ax.imshow(
                grid.to_numpy(float),
                origin="lower",
                aspect="auto",
                cmap=SEQUENTIAL_CMAP,
                vmin=lo,
                vmax=hi if hi > lo else lo + 1e-9,
            )
        )
        ax.set_xticks(range(len(grid.columns)), [f"{v:g}" for v in grid.columns])
        ax.set_yticks(range(len(grid.index)), [f"{v:g}" for v in grid.index])
        if grid.size <= 36:
            for (r, c), value in np.ndenumerate(grid.to_numpy(float)):
                if np.isfinite(value):
                    ax.text(
                        c,
                        r,
                        f"{value:.3g}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if value < (lo + hi) / 2 else "black",
                    )
        ax.set_xlabel(labels.parameter(x))
        ax.set_title(_lever_label(str(lever), labels), loc="left")
        ax.spines[["top", "right"]].set_visible(True)
    axes[0, 0].set_ylabel(labels.parameter(y))
    fig.colorbar(images[0], ax=axes[0].tolist(), label=labels.metric(outcome))
    return fig


def sensitivity_bars(sens: pd.DataFrame, *, method: str, outcome: str, labels: Labeller) -> Figure:
    """Horizontal bars of Sobol (S1, ST) or Morris (mu*, sigma) indices per parameter, with their 95%
    confidence half-widths as error bars; one panel per lever."""
    sub = sens[(sens["method"] == method) & (sens["outcome"] == outcome)]
    if "lever" not in sub.columns:
        sub = sub.assign(lever="")
    sub = sub.assign(lever=sub["lever"].fillna("").astype(str))
    levers = sorted(sub["lever"].unique())
    params = sorted(sub["parameter"].unique())
    indices = _INDEX_PAIRS.get(method, tuple(sorted(sub["index"].unique())))
    fig, axes = new_figure(
        width="double", height_in=1.2 + 0.3 * len(params), ncols=len(levers), squeeze=False, sharey=True
    )
    height = 0.8 / len(indices)
    pos = np.arange(len(params))
    for ax, lever in zip(axes[0], levers, strict=True):
        rows = sub[sub["lever"] == lever]
        for j, index in enumerate(indices):
            vals = rows[rows["index"] == index].set_index("parameter").reindex(params)
            conf = vals["conf"].to_numpy(float)
            ax.barh(
                pos + (j - (len(indices) - 1) / 2) * height,
                vals["value"].to_numpy(float),
                height,
                xerr=np.where(np.isfinite(conf), conf, 0),
                color=OKABE_ITO[j],
                label=labels.t(index) if index in TEXT else index,
                error_kw={"lw": 0.6, "capsize": 1.5},
            )
        ax.axvline(0, color="black", lw=0.5)
        ax.set_xlabel(labels.t("index_value"))
        ax.set_title(_lever_label(lever, labels), loc="left")
    axes[0, 0].set_yticks(pos, list(parameter_labels(params, labels).values()), fontsize=6)
    axes[0, 0].set_ylabel(labels.t("parameter"))
    handles, texts = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, texts, loc="outside upper center", ncol=len(indices), fontsize=6)
    return fig


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "-", text.replace("+", "plus")).strip("-")


def unique_stems(paths: list[str]) -> dict[str, str]:
    """A file-name part per dotted parameter path, built from the whole path (``.`` -> ``-``); paths
    that still collide after slugging get a short hash of the path, so every name is unique."""
    slugs = {p: _slug(p) for p in paths}
    counts = pd.Series(list(slugs.values())).value_counts()
    return {
        p: s if counts[s] == 1 else f"{s}-{hashlib.sha1(p.encode()).hexdigest()[:6]}"
        for p, s in slugs.items()
    }


def parameter_labels(paths: list[str], labels: Labeller) -> dict[str, str]:
    """Human label per parameter path; labels that would repeat get the whole path to tell them apart."""
    human = {p: labels.parameter(p) for p in paths}
    counts = pd.Series(list(human.values())).value_counts()
    return {p: h if counts[h] == 1 else f"{h} ({p})" for p, h in human.items()}


def sweep_labeller(path: Path, language: Language) -> Labeller:
    """Labeller with the zh/en names of the sweep's base scenario (units, facilities, lines)."""
    from sim.scenario.load import load_raw

    labels = Labeller(language.lang)
    try:
        experiment = yaml.safe_load((path / "experiment.yaml").read_text(encoding="utf-8")) or {}
        base = experiment.get("base")
        if base:
            raw, _ = load_raw(Path(base) if Path(base).is_absolute() else path / base)
            labels.add_names(scenario_names(raw))
    except (OSError, SimError, yaml.YAMLError):
        pass  # names are a nicety: without the base scenario, ids are shown
    return labels


def sweep_figures(path: str | Path, *, language: Language) -> FigureSet:
    """Every figure of an analysed sweep folder: a curve per outcome and varied parameter (a parameter
    that cannot be drawn is listed in ``skipped`` with the reason), a heatmap per outcome over the
    first two varied parameters, index bars per method and outcome. File names carry the whole
    parameter path, so no two parameters share a file.

    Raises:
        SimError: ``path`` is not an analysed sweep folder.
    """
    path = Path(path)
    points, sens = read_sweep(path)
    figset = FigureSet(source=path, language=language)
    labels = sweep_labeller(path, language)
    declared = [c for c in points.columns if c not in POINT_COLUMNS]
    params = sweep_parameters(points)
    stems = unique_stems(declared)
    outcomes = list(dict.fromkeys(points["outcome"]))
    with figure_style(language):
        for outcome in outcomes:
            for parameter in declared:
                stem = f"sweep_{_slug(outcome)}_vs_{stems[parameter]}"
                if parameter not in params:
                    figset.skipped[stem] = labels.t("skip_not_numeric")
                    continue
                figset.figures[stem] = outcome_curve(
                    points, outcome=outcome, parameter=parameter, labels=labels
                )
                figset.captions[stem] = labels.t(
                    "cap_curve", outcome=labels.metric(outcome), parameter=labels.parameter(parameter)
                )
            stem = f"sweep_{_slug(outcome)}_heatmap"
            if len(params) >= 2:
                figset.figures[stem] = parameter_heatmap(
                    points, outcome=outcome, x=params[0], y=params[1], labels=labels
                )
                figset.captions[stem] = labels.t(
                    "cap_heat",
                    outcome=labels.metric(outcome),
                    x=labels.parameter(params[0]),
                    y=labels.parameter(params[1]),
                )
            else:
                figset.skipped[stem] = labels.t("skip_two_params")
        if sens is None:
            figset.skipped["sensitivity"] = labels.t("skip_sensitivity")
        else:
            for method in sorted(sens["method"].astype(str).unique()):
                for outcome in list(dict.fromkeys(sens.loc[sens["method"] == method, "outcome"].astype(str))):
                    stem = f"sensitivity_{_slug(method)}_{_slug(outcome)}"
                    figset.figures[stem] = sensitivity_bars(
                        sens, method=method, outcome=outcome, labels=labels
                    )
                    figset.captions[stem] = labels.t(
                        "cap_sens",
                        method=labels.t(method) if method in TEXT else method,
                        outcome=labels.metric(outcome),
                    )
    return figset
