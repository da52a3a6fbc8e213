"""The planner's page rows of the families and calendar metrics (runs whose scenario has them)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sim.figures.report_families import metric_label
from sim.metrics.answer import decimals
from sim.metrics.families import FAMILY_HEADLINE

__all__ = ["families_rows"]


def _num(x: Any) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def families_rows(diff: pd.DataFrame) -> list[dict[str, Any]]:
    """County rows of the paired difference for the school radius, boarding, pupil-km, escort
    minutes and days without ferries (empty when the runs have no families or calendar block).

    Args:
        diff: :func:`sim.replications.paired_difference` of base and plan.
    """
    sel = diff[(diff["group_kind"] == "overall") & diff["metric"].str.match(FAMILY_HEADLINE)]
    rows = []
    for r in sel.to_dict("records"):
        metric = str(r["metric"])
        row: dict[str, Any] = {
            "metric": metric,
            "label": {lang: metric_label(metric, lang) for lang in ("en", "zh")},
            "n": int(r["n"]),
        }
        for c in ("mean_a", "mean_b", "mean_diff", "ci_low", "ci_high"):
            row[c] = _num(r[c])
        half = (r["ci_high"] - r["ci_low"]) / 2
        row["decimals"] = decimals(half, default=2) if math.isfinite(half) else 2
        rows.append(row)
    return rows
