"""Analysis of a sweep folder: mean and 95% t interval per design point, Sobol or Morris indices."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
from scipy import stats

from sim.ownership import adopt_folder, write_dir_owned
from sim.sweep.experiment import LoadedExperiment, load_experiment
from sim.sweep.samplers import build_design, salib_problem
from sim.sweep.store import SweepStore

__all__ = ["Analysis", "analyze_sweep", "point_stats", "sensitivity"]

SENSITIVITY_COLUMNS = [
    "method",
    "lever",
    "outcome",
    "parameter",
    "index",
    "value",
    "conf",
    "ci_low",
    "ci_high",
]
#: The tables ``townsim analyze`` writes in ``analysis/``.
_ANALYSIS_FILES = re.compile(r"(points|sensitivity)\.(parquet|csv)")


@dataclass
class Analysis:
    """Tables of one sweep.

    Attributes:
        points: one row per design point x lever x outcome: parameter columns (by dotted path),
            lever, outcome, n, mean, std, ci_low, ci_high.
        sensitivity: method, lever, outcome, parameter, index, value, conf (None for grid and LHS).
        notes: what could not be computed and why.
    """

    points: pd.DataFrame
    sensitivity: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)


def _ok_runs(store: SweepStore) -> pd.DataFrame:
    """Planned runs joined with their stored outcomes (only runs whose newest row is ok)."""
    plan = store.read_plan()
    rows = store.read_rows()
    ok = rows[rows["status"] == "ok"].drop(
        columns=[c for c in plan.columns if c != "run_key"], errors="ignore"
    )
    return plan.merge(ok, on="run_key", how="left", validate="many_to_one")


def point_stats(runs: pd.DataFrame, *, parameters: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Mean, sample std and 95% t interval across seeds, per design point, lever and outcome.

    ``n`` counts successful runs; with n < 2 the std and interval are NaN.
    """
    keys = ["design_point", "lever"]
    long = runs.melt(
        id_vars=[*keys, *parameters], value_vars=outcomes, var_name="outcome", value_name="value"
    )
    grouped = long.groupby([*keys, "outcome"], sort=False, dropna=False)
    table = grouped["value"].agg(n="count", mean="mean", std="std").reset_index()
    first = long.drop_duplicates([*keys])[[*keys, *parameters]]
    table = first.merge(table, on=keys, how="right")
    half = stats.t.ppf(0.975, np.maximum(table["n"] - 1, 1)) * table["std"] / np.sqrt(table["n"])
    half = half.where(table["n"] >= 2)
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    table["outcome"] = pd.Categorical(table["outcome"], categories=outcomes)
    table = table.sort_values(["lever", "design_point", "outcome"])
    table["outcome"] = table["outcome"].astype(str)
    return table[[*parameters, "lever", "outcome", "n", "mean", "std", "ci_low", "ci_high"]].reset_index(
        drop=True
    )


def sensitivity(exp: LoadedExperiment, runs: pd.DataFrame) -> tuple[pd.DataFrame | None, list[str]]:
    """Sobol (S1, ST) or Morris (mu_star, sigma) indices per lever and outcome, from seed-mean outcomes.

    Indices refer to the parameters' unit-cube (quantile) scale. ``conf`` is SALib's bootstrap
    half-width of the 95% interval (resampling the design points), ``ci_low``/``ci_high`` the
    interval; an index whose interval is wider than the index itself, or a negative index whose
    interval stays below 0 (a Sobol estimate outside [0, 1] by more than its noise), is named in
    the notes: the design has too few points for that index. A lever and outcome with a design
    point lacking any successful run is skipped and named in the notes.
    """
    experiment = exp.experiment
    method = experiment.sampler.method
    if method not in ("sobol", "morris"):
        return None, [f"sampler '{method}' gives no sensitivity indices (use sobol or morris)"]
    from SALib.analyze import morris, sobol

    problem = salib_problem(experiment)
    design = build_design(experiment)
    n_points = len(design.points)
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    means = runs.groupby(["lever", "design_point"])[list(experiment.outcomes)].mean()
    for lever in experiment.levers:
        for outcome in experiment.outcomes:
            y = means[outcome].reindex(pd.MultiIndex.from_product([[lever], range(n_points)])).to_numpy(float)
            missing = int(np.isnan(y).sum())
            if missing:
                notes.append(
                    f"{method} {lever}/{outcome}: skipped, {missing} of {n_points} points lack an ok run"
                )
                continue
            flagged: list[str] = []
            if method == "sobol":
                res = sobol.analyze(
                    problem,
                    y,
                    calc_second_order=experiment.sampler.second_order,
                    seed=experiment.sampler.seed,
                )
                pairs: list[tuple[str, str, str | None]] = [("S1", "S1", "S1_conf"), ("ST", "ST", "ST_conf")]
            else:
                res = morris.analyze(
                    problem,
                    design.unit,
                    y,
                    num_levels=experiment.sampler.levels,
                    seed=experiment.sampler.seed,
                )
                pairs = [("mu_star", "mu_star", "mu_star_conf"), ("sigma", "sigma", None)]
            for i, name in enumerate(problem["names"]):
                for index, value_key, conf_key in pairs:
                    conf = float(res[conf_key][i]) if conf_key else float("nan")
                    value = float(res[value_key][i])
                    flagged.extend(_interval_flags(f"{index}({name})", value, conf))
                    rows.append(
                        {
                            "method": method,
                            "lever": lever,
                            "outcome": outcome,
                            "parameter": name,
                            "index": index,
                            "value": value,
                            "conf": conf,
                            "ci_low": value - conf,
                            "ci_high": value + conf,
                        }
                    )
            if flagged:
                notes.append(
                    f"warning: {method} {lever}/{outcome}: {'; '.join(flagged)}; "
                    "these indices cannot be told from noise: more design points (sampler.n) needed"
                )
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS), notes


def _interval_flags(what: str, value: float, conf: float) -> list[str]:
    """``what`` with its interval when it is wider than the index or the index is negative beyond
    it (nothing when ``conf`` is NaN)."""
    if not np.isfinite(conf):
        return []
    text = f"{what} = {value:.3g} ± {conf:.3g}"
    if value + conf < 0:
        return [f"{text} negative beyond its interval"]
    if 2 * conf > abs(value):
        return [f"{text} interval wider than the index"]
    return []


def format_indices(table: pd.DataFrame) -> str:
    """The sensitivity indices as a text table: lever, outcome, parameter, index, value and 95% interval."""
    lines = [f"{'lever':<12} {'outcome':<20} {'parameter':<40} {'index':<8} {'value':>8}  95% interval"]
    for r in table.itertuples(index=False):
        interval = f"[{r.ci_low:.3f}, {r.ci_high:.3f}]" if np.isfinite(cast(float, r.conf)) else "-"
        lines.append(
            f"{r.lever:<12} {r.outcome:<20} {r.parameter:<40} {r.index:<8} {r.value:>8.3f}  {interval}"
        )
    return "\n".join(lines)


def analyze_sweep(out: str | Path) -> Analysis:
    """Analyse a sweep folder and write ``analysis/points.{parquet,csv}`` and ``analysis/sensitivity.*``.

    Raises:
        SimError: the folder holds no sweep.
    """
    store = SweepStore(out)
    runs = _ok_runs(store)
    exp = load_experiment(store.root / "experiment.yaml")
    parameters = list(exp.experiment.parameters)
    outcomes = list(exp.experiment.outcomes)
    points = point_stats(runs, parameters=parameters, outcomes=outcomes)
    table, notes = sensitivity(exp, runs)
    missing = int(runs["status"].ne("ok").sum())
    if missing:
        notes.insert(0, f"{missing} of {len(runs)} planned runs have no ok result (pending or failed)")
    tables = {"points": points} if table is None else {"points": points, "sensitivity": table}

    def fill(staging: Path) -> None:
        for name, frame in tables.items():
            frame.to_parquet(staging / f"{name}.parquet", index=False)
            frame.to_csv(staging / f"{name}.csv", index=False)

    folder = store.root / "analysis"
    if folder.is_dir():  # analysis of a townsim without markers: only its own tables are adopted
        adopt_folder(folder, "analysis", lambda name: _ANALYSIS_FILES.fullmatch(name) is not None)
    write_dir_owned(folder, "analysis", fill, option="analysis folder")
    return Analysis(points, table, notes)
