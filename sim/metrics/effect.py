"""The merger effect as a difference in differences: before/after runs, merged vs unmerged townships.

Each run's ``summary.json`` holds ``access.merger_effect_cells``: per former township and age
band, the population and measures (nearest-facility road distance and time by service, E2SFCA,
realised round-trip km per errand by service group, school distance). For a pair of runs with the
same seed (before = pre-merger scenario, after = merger plan), each group's change is the
population-weighted mean over its former townships of (after - before); the effect is the change
of the merged townships minus the change of the unmerged ones. Merger status (``new_seat``,
``absorbed``, ``unmerged``) comes from the after run. Over several seed pairs, the mean and a 95%
t interval across pairs are reported. The E2SFCA effect is also given in standard deviations of
the before run's index across residents, the closest analogue of an effect on a standardised
accessibility score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.planning.errors import PlanInputError
from sim.results.io import read_summary

__all__ = ["PUBLISHED", "TREATED", "merger_effect", "pair_effect"]

TREATED = {"merged": ("new_seat", "absorbed"), "absorbed": ("absorbed",)}
#: Published effects to read a measure's did_merged beside (Liu, CDEMS 2026: DID over township
#: mergers in shrinking counties, 2005-2020).
PUBLISHED = {
    "round_trip_km_per_errand_health": "Liu (CDEMS 2026): +5.2 km for people 60+ (medical services)",
    "nearest_km_clinic": "Liu (CDEMS 2026): +5.2 km for people 60+ (medical services)",
    "round_trip_km_per_errand_admin": "Liu (CDEMS 2026): +6.3 km for people 60+ (administrative services)",
    "school_km": "Liu (CDEMS 2026): +3.1 km for children (school)",
}


def _cells(run: str | Path) -> tuple[pd.DataFrame, dict[str, str], int]:
    summary = read_summary(run)
    block = summary.access.merger_effect_cells
    if not block.rows:
        raise PlanInputError(f"{run}: summary.json has no access.merger_effect_cells rows")
    frame = pd.DataFrame([cell.to_json_dict() for cell in block.rows]).set_index(["former_unit", "age_band"])
    return frame.astype(float), block.merger_status, summary.seed


def _group_mean(frame: pd.DataFrame, units: list[str], weight: pd.Series) -> pd.DataFrame:
    """Population-weighted mean of each measure over the given former units, per age band and for all."""
    sub = frame.loc[frame.index.get_level_values("former_unit").isin(units)]
    w = weight.reindex(sub.index)
    out = {}
    for col in sub.columns:
        ok = sub[col].notna() & (w > 0)
        num = (sub[col].where(ok, 0) * w.where(ok, 0)).groupby(level="age_band", sort=False).sum()
        den = w.where(ok, 0).groupby(level="age_band", sort=False).sum()
        by_band = num / den.replace(0, np.nan)
        by_band["all"] = num.sum() / den.sum() if den.sum() > 0 else np.nan
        out[col] = by_band
    return pd.DataFrame(out)


def pair_effect(before: str | Path, after: str | Path) -> pd.DataFrame:
    """Effect of one before/after pair: rows (contrast, age band), columns measures.

    Contrasts: ``change_<group>`` for merged, absorbed and unmerged townships, and
    ``did_merged`` / ``did_absorbed`` (change of the group minus change of the unmerged).
    """
    a, _, seed_a = _cells(before)
    b, status, seed_b = _cells(after)
    if seed_a != seed_b:
        raise PlanInputError(
            f"{before} and {after}: expected runs with the same seed (paired), got {seed_a} and {seed_b}"
        )
    control = [u for u, s in status.items() if s == "unmerged"]
    if not control:
        raise PlanInputError(
            f"{after}: no former township is unmerged; a difference in differences needs a control group"
        )
    weight = a["population"]
    measures = [c for c in a.columns if c != "population"]
    change = {}
    for name, statuses in {**TREATED, "unmerged": ("unmerged",)}.items():
        units = [u for u, s in status.items() if s in statuses]
        change[name] = _group_mean(b[measures], units, weight) - _group_mean(a[measures], units, weight)
    rows = {f"change_{k}": v for k, v in change.items()}
    for name in TREATED:
        rows[f"did_{name}"] = change[name] - change["unmerged"]
    out = pd.concat(rows, names=["contrast", "age_band"])
    for col in [c for c in measures if c.startswith("e2sfca_")]:
        values, w = a[col], weight.where(a[col].notna(), 0)
        mean = np.average(values.fillna(0), weights=w) if w.sum() > 0 else np.nan
        sd = np.sqrt(np.average((values.fillna(0) - mean) ** 2, weights=w)) if w.sum() > 0 else np.nan
        out[f"{col}_sd_units"] = out[col] / sd if sd > 0 else np.nan
    return out


def merger_effect(before: Sequence[str | Path], after: Sequence[str | Path]) -> pd.DataFrame:
    """Mean effect over seed pairs with a 95% t interval: columns (measure, mean | ci_low | ci_high | n)."""
    if len(before) != len(after) or not before:
        raise PlanInputError(
            "merger-effect: expected as many --after runs as --before runs (paired by position)"
        )
    pairs = [pair_effect(x, y) for x, y in zip(before, after, strict=True)]
    stacked = np.stack([p.to_numpy(float) for p in pairs])  # (pairs, rows, measures)
    finite = np.isfinite(stacked)
    n = finite.sum(axis=0)
    nan = np.full(n.shape, np.nan)
    mean = np.divide(np.where(finite, stacked, 0).sum(axis=0), n, out=nan.copy(), where=n > 0)
    squares = np.where(finite, stacked - mean, 0) ** 2
    var = np.divide(squares.sum(axis=0), n - 1, out=nan.copy(), where=n > 1)
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * np.sqrt(np.divide(var, np.maximum(n, 1)))
    cols = {}
    for j, measure in enumerate(pairs[0].columns):
        cols[(measure, "mean")] = mean[:, j]
        cols[(measure, "ci_low")] = mean[:, j] - half[:, j]
        cols[(measure, "ci_high")] = mean[:, j] + half[:, j]
        cols[(measure, "n")] = n[:, j]
    return pd.DataFrame(cols, index=pairs[0].index)
