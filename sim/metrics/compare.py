"""Compare runs: B minus A for headline metrics; paired by seed with 95% CIs for replicated runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.metrics.access import compare_columns
from sim.metrics.families import FAMILY_HEADLINE
from sim.replications import ReplicationSet, paired_difference, read_replications
from sim.results.io import read_summary
from sim.results.summary_model import GroupMetrics, RunSummary

__all__ = [
    "COMPARE_COLUMNS",
    "HEADLINE",
    "compare_folders",
    "compare_runs",
    "format_comparison",
    "format_paired",
    "render_paired",
]

#: Columns of :func:`compare_runs` per group (plus ``access_<service>_min`` and the access columns).
COMPARE_COLUMNS = (
    "burden_mean_min",
    "burden_p90_min",
    "trips_per_errand",
    "distance_km",
    "money_yuan",
    "share_burden_over_60",
)


def _group_row(entry: GroupMetrics) -> dict[str, float | None]:
    """The :data:`COMPARE_COLUMNS` of one group, then its mean access minutes per service."""
    row = dict(
        zip(
            COMPARE_COLUMNS,
            (
                entry.burden_min.mean,
                entry.burden_min.p90,
                entry.trips_per_completed_errand,
                entry.distance_km_per_errand,
                entry.money_yuan_per_errand,
                entry.burden_share_over_min.get("60"),
            ),
            strict=True,
        )
    )
    for service, shares in entry.access.items():
        row[f"access_{service}_min"] = shares.mean_min
    return row


def _rows(summary: RunSummary) -> dict[str, dict[str, float | None]]:
    groups = {**summary.by_former_unit, "ALL": summary.overall()}
    out = {name: _group_row(entry) for name, entry in groups.items()}
    for name, extra in compare_columns(summary).items():  # accessibility and equity (sim/metrics/access.py)
        out.setdefault(name, {}).update(extra)
    return out


def compare_runs(run_a: str | Path, run_b: str | Path) -> pd.DataFrame:
    """Per former township (and ALL): value in A, in B and B - A for each headline metric."""
    a, b = _rows(read_summary(run_a)), _rows(read_summary(run_b))
    frames = {}
    for label, rows in (("A", a), ("B", b)):
        frames[label] = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    index = [u for u in frames["A"].index.union(frames["B"].index, sort=False)]
    index = [*sorted(i for i in index if i != "ALL"), "ALL"]
    fa, fb = frames["A"].reindex(index), frames["B"].reindex(index)
    return pd.concat({"A": fa, "B": fb, "B-A": fb - fa}, axis=1)


def format_comparison(table: pd.DataFrame, run_a: str | Path, run_b: str | Path) -> str:
    """Readable text: one block per metric, rows are former townships."""
    lines = [f"A = {run_a}", f"B = {run_b}", ""]
    metrics = list(dict.fromkeys(table.columns.get_level_values(1)))
    for metric in metrics:
        block = pd.DataFrame({k: table[(k, metric)] for k in ("A", "B", "B-A")})
        lines.append(f"== {metric} ==")
        lines.append(block.round(2).to_string())
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------- paired comparison of replicated runs

HEADLINE = (
    "burden_min.mean",
    "burden_min.p90",
    "trips_per_completed_errand",
    "distance_km_per_errand",
    "money_yuan_per_errand",
    "burden_share_over_min.60",
    "equity.gini_burden_per_resident",
)
"""Metrics the text table shows (plus every ``access_*.mean_min``); csv and json hold all metrics."""


def compare_folders(
    run_a: str | Path, run_b: str | Path
) -> tuple[pd.DataFrame, ReplicationSet, ReplicationSet]:
    """Read two run folders (replicated or single) and pair them by seed."""
    a, b = read_replications(run_a), read_replications(run_b)
    return paired_difference(a, b), a, b


def _headline(table: pd.DataFrame) -> pd.DataFrame:
    access = table["metric"].str.match(r"^access_.*\.mean_min$")
    families = table["metric"].str.match(FAMILY_HEADLINE)  # school radius, boarding, escorts, ferries
    return table[table["metric"].isin(HEADLINE) | access | families]


def _ci(row: pd.Series) -> str:
    if row["n"] < 2 or not np.isfinite(row["ci_low"]):
        return "n<2: no interval"
    flag = " *" if row["ci_low"] > 0 or row["ci_high"] < 0 else ""
    return f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]{flag}"


def _describe(label: str, rset: ReplicationSet) -> str:
    seeds = ", ".join(str(s) for s in rset.seeds[:3]) + (", …" if rset.n > 3 else "")
    runs = f"{rset.n} run{'s' if rset.n != 1 else ''}"
    return f"{label} ({rset.scenario}, {rset.days} days, {runs}, seeds {seeds})"


def format_paired(
    table: pd.DataFrame, a: ReplicationSet, b: ReplicationSet, *, label_a: str = "A", label_b: str = "B"
) -> str:
    """Readable text: one block per headline metric, rows overall and by former unit, age band, island."""
    lines = [
        f"A = {_describe(label_a, a)}",
        f"B = {_describe(label_b, b)}",
        "B-A UNPAIRED: Welch 95% interval over each side's runs (n = the smaller side); * = it excludes 0"
        if "n_a" in table  # sim.metrics.pairing.welch_difference
        else "B-A paired by seed; 95% t interval over n seeds; * = the interval excludes 0",
        "",
    ]
    shown = _headline(table)
    for metric, block in shown.groupby("metric", sort=False):
        out = pd.DataFrame(
            {
                "kind": block["group_kind"],
                "group": block["group"],
                "n": block["n"],
                "mean A": block["mean_a"].round(3),
                "mean B": block["mean_b"].round(3),
                "B-A": block["mean_diff"].round(3),
                "95% CI": block.apply(_ci, axis=1),
            }
        )
        lines.append(f"== {metric} ==")
        lines.append(out.to_string(index=False))
        lines.append("")
    return "\n".join(lines)


def render_paired(table: pd.DataFrame, a: ReplicationSet, b: ReplicationSet, fmt: str, **labels: str) -> str:
    """The paired table as ``table`` (text), ``csv`` (every metric) or ``json`` (records, NaN as null)."""
    if fmt == "csv":
        return table.to_csv(index=False)
    if fmt == "json":
        rows = json.loads(table.to_json(orient="records", double_precision=6))
        meta = {
            k: {"scenario": s.scenario, "days": s.days, "seeds": s.seeds} for k, s in (("a", a), ("b", b))
        }
        paired = {"paired": "n_a" not in table}  # False: Welch intervals (sim.metrics.pairing)
        return json.dumps({**meta, "level": 0.95, **paired, "rows": rows}, ensure_ascii=False, indent=1)
    return format_paired(table, a, b, **labels)
