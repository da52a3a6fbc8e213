"""Compare two runs: headline metrics by former township, B minus A."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.metrics.access import compare_columns
from sim.results.io import read_summary

__all__ = ["COMPARE_COLUMNS", "compare_runs", "format_comparison"]

COMPARE_COLUMNS = {
    "burden_mean_min": ("burden_min", "mean"),
    "burden_p90_min": ("burden_min", "p90"),
    "trips_per_errand": ("trips_per_completed_errand",),
    "distance_km": ("distance_km_per_errand",),
    "money_yuan": ("money_yuan_per_errand",),
    "share_burden_over_60": ("burden_share_over_min", "60"),
}


def _pick(entry: dict, path: tuple[str, ...]) -> float | None:
    node = entry
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node  # type: ignore[return-value]


def _rows(summary: dict) -> dict[str, dict[str, float | None]]:
    groups = {**summary["by_former_unit"], "ALL": {k: summary.get(k) for k in summary}}
    out = {}
    for name, entry in groups.items():
        row = {col: _pick(entry, path) for col, path in COMPARE_COLUMNS.items()}
        for key, value in entry.items():
            if key.startswith("access_") and isinstance(value, dict):
                row[f"{key}_min"] = value.get("mean_min")
        out[name] = row
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
