"""Paired differences of replications (plan minus base, per seed) with 95% t confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.app.replicate import Outcome
from sim.metrics.compare import COMPARE_COLUMNS

__all__ = ["by_unit", "facility_table", "line_table", "paired", "per_seed", "results_json", "village_table"]

#: Metrics shown by former township: (key in COMPARE_COLUMNS, scale to the unit shown).
UNIT_METRICS = {
    "burden_mean_min": 1.0,
    "burden_p90_min": 1.0,
    "share_burden_over_60": 100.0,
    "trips_per_errand": 1.0,
}


def paired(a: np.ndarray, b: np.ndarray) -> dict[str, float | int | None]:
    """Mean of A, of B, of B - A over the pairs where both are finite, and the 95% t interval.

    The interval is ``None`` with fewer than 2 pairs (no estimate of the noise).
    """
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n == 0:
        return {"n": 0, "mean_a": None, "mean_b": None, "mean_diff": None, "ci_low": None, "ci_high": None}
    d = b[ok] - a[ok]
    mean = float(d.mean())
    low: float | None = None
    high: float | None = None
    if n >= 2:
        half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n))
        low, high = mean - half, mean + half
    return {
        "n": n,
        "mean_a": float(a[ok].mean()),
        "mean_b": float(b[ok].mean()),
        "mean_diff": mean,
        "ci_low": low,
        "ci_high": high,
    }


def _pick(entry: Any, path: tuple[str, ...]) -> float:
    for key in path:
        if not isinstance(entry, dict) or key not in entry:
            return math.nan
        entry = entry[key]
    return math.nan if entry is None else float(entry)


def _metric(outcomes: Sequence[Outcome], group: str | None, metric: str) -> np.ndarray:
    path = COMPARE_COLUMNS[metric]
    out = []
    for o in outcomes:
        entry = o.summary if group is None else o.summary["by_former_unit"].get(group, {})
        out.append(_pick(entry, path) * UNIT_METRICS[metric])
    return np.array(out, dtype=float)


def by_unit(base: Sequence[Outcome], plan: Sequence[Outcome]) -> list[dict[str, Any]]:
    """One row per former township (and ``ALL``) and metric: A, B, B - A with its CI and n."""
    groups = [*base[0].summary["by_former_unit"], None]
    rows = []
    for group in groups:
        for metric in UNIT_METRICS:
            rows.append(
                {
                    "group": group or "ALL",
                    "metric": metric,
                    **paired(_metric(base, group, metric), _metric(plan, group, metric)),
                }
            )
    return rows


def per_seed(base: Sequence[Outcome], plan: Sequence[Outcome]) -> list[dict[str, Any]]:
    """County mean burden per errand per seed (what ``townsim compare`` of those two runs shows as ALL)."""
    a, b = _metric(base, None, "burden_mean_min"), _metric(plan, None, "burden_mean_min")
    return [
        {"seed": o.seed, "a": float(x), "b": float(y), "diff": float(y - x)}
        for o, x, y in zip(base, a, b, strict=True)
    ]


def village_table(base: Sequence[Outcome], plan: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    """Per village: paired difference of mean burden per errand (min) and whether its CI excludes 0."""
    a = pd.concat([o.villages for o in base], axis=1).to_numpy(float)
    b = pd.concat([o.villages for o in plan], axis=1).to_numpy(float)
    out = {}
    for vid, ra, rb in zip(base[0].villages.index, a, b, strict=True):
        p = paired(ra, rb)
        if p["n"]:
            clear = p["ci_low"] is not None and (p["ci_low"] > 0 or p["ci_high"] < 0)  # type: ignore[operator]
            out[str(vid)] = {"diff": p["mean_diff"], "a": p["mean_a"], "b": p["mean_b"], "clear": bool(clear)}
    return out


def _mean_frames(outcomes: Sequence[Outcome], attr: str) -> pd.DataFrame:
    frames = [getattr(o, attr) for o in outcomes]
    numeric = pd.concat([f.select_dtypes("number") for f in frames]).groupby(level=0).mean()
    first = frames[0].select_dtypes(exclude="number")
    return numeric.join(first) if not first.empty else numeric


def facility_table(base: Sequence[Outcome], plan: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Queue loads per facility, mean over replications, base and plan side by side (closed: absent)."""
    a, b = _mean_frames(base, "facilities"), _mean_frames(plan, "facilities")
    ids = list(dict.fromkeys([*a.index, *b.index]))
    rows = []
    for fid in ids:
        row: dict[str, Any] = {"id": fid, "kind": (b if fid in b.index else a).loc[fid, "kind"]}
        for side, frame in (("a", a), ("b", b)):
            for col in ("servers", "arrivals_per_day", "mean_wait_min", "utilisation", "turned_away_per_day"):
                row[f"{col}_{side}"] = _none(frame.loc[fid, col]) if fid in frame.index else None
        rows.append(row)
    return rows


def line_table(base: Sequence[Outcome], plan: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Line loads, mean over replications, base and plan (a line absent from one side: None)."""
    a, b = _mean_frames(base, "lines"), _mean_frames(plan, "lines")
    rows = []
    for line in list(dict.fromkeys([*a.index, *b.index])):
        row: dict[str, Any] = {"line": line}
        for side, frame in (("a", a), ("b", b)):
            for col in frame.columns:
                row[f"{col}_{side}"] = _none(frame.loc[line, col]) if line in frame.index else None
        rows.append(row)
    return rows


def _none(value: Any) -> Any:
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def results_json(base: Sequence[Outcome], plan: Sequence[Outcome]) -> dict[str, Any]:
    """Everything the page shows after a Run."""
    return {
        "by_unit": by_unit(base, plan),
        "per_seed": per_seed(base, plan),
        "villages": village_table(base, plan),
        "facilities": facility_table(base, plan),
        "lines": line_table(base, plan),
    }
