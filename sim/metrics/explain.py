"""Crossed groups and the parts of a paired change of mean burden, from per-seed cell tables.

Inputs are the cell tables of :mod:`sim.metrics.cells` of runs A and B, one per seed (column
``seed``). A group is any combination of registered groups (``former_unit × age_band``); its
mean per seed is a ratio of sums over its cells, so crossed groups need no run's full tables.
Every difference is paired by seed with a 95% t interval over the seeds both sides have.

Parts of the change of mean burden per completed errand (minutes; per seed they sum to the
change of the mean exactly, see ``docs/explain.md``):

- ``travel_time``: the travel change within modes, at A's mode shares,
  ``Σ_m s_m^A (t_m^B − t_m^A)`` (``s_m``: share of the group's completed errands whose
  completing trip used mode ``m``; ``t_m``: their mean travel, stop waits excluded);
- ``mode_shift``: the travel change from changed mode shares, ``Σ_m (s_m^B − s_m^A) t_m^B``
  (a mode B does not use takes A's travel time, so its term is ``−s_m^A t_m^A``);
- ``stop_wait``, ``facility_wait``, ``repeat`` (earlier trips that were turned away or
  referred), ``other`` (mobile van and channels without a trip): changes of their means;
- ``total``: the change of mean burden per completed errand (``burden_min.mean``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics.cells import PARTS
from sim.results.summary_model import RunSummary

__all__ = [
    "CROSSED_METRICS",
    "EXPLAIN_PARTS",
    "Drivers",
    "crossed_difference",
    "explain_parts",
    "explain_seed_parts",
    "facility_drivers",
    "find_drivers",
    "line_boardings",
    "paired_interval",
]

LEVEL = 0.95

CROSSED_METRICS = {
    "burden_min.mean": ("burden_sum", "n"),
    "burden_share_over_min.15": ("over_15", "n"),
    "burden_share_over_min.30": ("over_30", "n"),
    "burden_share_over_min.60": ("over_60", "n"),
    "trips_per_completed_errand": ("trips_sum", "n"),
    "distance_km_per_errand": ("km_sum", "n"),
    "money_yuan_per_errand": ("yuan_sum", "n"),
    "errands_completed": ("n", None),
}
"""Metrics of a crossed group from cell sums: numerator and denominator columns (summary.json names)."""

EXPLAIN_PARTS = ("travel_time", "mode_shift", "stop_wait", "facility_wait", "repeat", "other")
"""Parts of a change of mean burden, in the order tables list them (then ``total``)."""

_VALUES = ("n", "mean_a", "mean_b", "diff", "ci_low", "ci_high")


def paired_interval(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per key: pairs ``n`` (finite in both), ``mean_a``, ``mean_b``, ``diff`` and its 95% t interval.

    Args:
        frame: one row per key and seed, columns ``a`` and ``b`` (values of A and B that seed).
        keys: the key columns.

    Returns:
        One row per key (in order of first appearance); ``ci_low``/``ci_high`` NaN when n < 2.
    """
    va, vb = frame["a"].to_numpy(float), frame["b"].to_numpy(float)
    ok = np.isfinite(va) & np.isfinite(vb)
    frame = frame[ok]
    va, vb = va[ok], vb[ok]
    group = frame.groupby(keys, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    first = np.unique(group, return_index=True)[1]
    out = frame.iloc[first][keys].reset_index(drop=True)
    k = len(first)
    n = np.bincount(group, minlength=k).astype(float)
    d = vb - va
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_d = np.bincount(group, weights=d, minlength=k) / n
        ss = np.bincount(group, weights=(d - mean_d[group]) ** 2, minlength=k)
        sd = np.sqrt(ss / (n - 1))
        tq = np.where(n >= 2, stats.t.ppf(0.5 + LEVEL / 2, np.maximum(n - 1, 1)), np.nan)
        half = tq * sd / np.sqrt(n)
        out["n"] = n.astype(int)
        out["mean_a"] = np.bincount(group, weights=va, minlength=k) / n
        out["mean_b"] = np.bincount(group, weights=vb, minlength=k) / n
    out["diff"] = mean_d
    out["ci_low"], out["ci_high"] = mean_d - half, mean_d + half
    return out


def _sums(cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    numeric = [c for c in cells.columns if c not in keys and pd.api.types.is_numeric_dtype(cells[c])]
    return cells.groupby(keys, sort=True, observed=True)[numeric].sum()


def _pair_frame(a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """Values of A and B (indexed by keys and ``seed``) side by side, on the seeds both sides ran;
    a key missing on one side that seed is NaN there (left out of the pair)."""
    seeds = set(a.index.get_level_values("seed")) & set(b.index.get_level_values("seed"))
    frame = pd.concat({"a": a, "b": b}, axis=1)
    return frame[frame.index.get_level_values("seed").isin(seeds)].reset_index()


def crossed_difference(
    cells_a: pd.DataFrame, cells_b: pd.DataFrame, by: Sequence[str], metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """B − A of :data:`CROSSED_METRICS` (or ``metrics``) per combination of the groups ``by``
    (none: the county).

    Returns:
        Tidy rows: the ``by`` columns, ``metric``, ``n`` (seeds), ``mean_a``, ``mean_b``,
        ``diff``, ``ci_low``, ``ci_high``; a group missing in one seed of a side is left out of
        that seed's pair.
    """
    keys = [*by, "seed"]
    sa, sb = _sums(cells_a, keys), _sums(cells_b, keys)
    frames = []
    for metric in metrics or CROSSED_METRICS:
        num, den = CROSSED_METRICS[metric]
        va = sa[num] / sa[den] if den else sa[num].astype(float)
        vb = sb[num] / sb[den] if den else sb[num].astype(float)
        frames.append(_pair_frame(va, vb).assign(metric=metric))
    out = paired_interval(pd.concat(frames, ignore_index=True), ["metric", *by])
    return out[[*by, "metric", *_VALUES]]


def _mean_parts(sums: pd.DataFrame) -> pd.DataFrame:
    """Mean parts per errand (min) of each (group, seed) from its sums."""
    out = pd.DataFrame(index=sums.index)
    for part in PARTS:
        out[part] = sums[f"{part}_sum"] / sums["n"]
    out["total"] = sums["burden_sum"] / sums["n"]
    return out


def explain_seed_parts(cells_a: pd.DataFrame, cells_b: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Per group and seed present on both sides: each part of B − A and the total (minutes).

    Columns: the ``by`` columns, ``seed``, ``part``, ``a``, ``b`` (``b − a`` is the part's
    change; for ``travel_time`` ``b`` is B's travel at A's mode shares, which is also
    ``mode_shift``'s ``a``).
    """
    keys = [*by, "seed"]
    ta, tb = _sums(cells_a, keys), _sums(cells_b, keys)
    common = ta.index.intersection(tb.index)
    ta, tb = ta.loc[common], tb.loc[common]
    ma, mb = _mean_parts(ta), _mean_parts(tb)
    # travel by mode: shares s and mean times t per (group, seed, mode)
    ma_mode, mb_mode = _sums(cells_a, [*keys, "mode"]), _sums(cells_b, [*keys, "mode"])
    modes = ma_mode.index.union(mb_mode.index)
    na = ma_mode["n"].reindex(modes, fill_value=0).astype(float)
    nb = mb_mode["n"].reindex(modes, fill_value=0).astype(float)
    tra = ma_mode["travel_sum"].reindex(modes, fill_value=0.0)
    trb = mb_mode["travel_sum"].reindex(modes, fill_value=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_a = (tra / na).where(na > 0, 0.0)
        t_b = (trb / nb).where(nb > 0, t_a)  # a mode B does not use keeps A's time
    group_of = modes.droplevel("mode")  # type: ignore[arg-type]  # pandas-stubs types union()'s levels as Never
    s_a = na / ta["n"].reindex(group_of).to_numpy()
    cross = (s_a * t_b).groupby(level=keys, sort=True).sum().reindex(common)  # B's times at A's shares
    rows = []
    index = common.to_frame(index=False)
    for part in ("travel_time", "mode_shift", "stop_wait", "facility_wait", "repeat", "other", "total"):
        if part == "travel_time":
            a, b = ma["travel"], cross
        elif part == "mode_shift":
            a, b = cross, mb["travel"]
        else:
            a, b = ma[part], mb[part]
        rows.append(index.assign(part=part, a=a.to_numpy(float), b=b.to_numpy(float)))
    return pd.concat(rows, ignore_index=True)


def explain_parts(cells_a: pd.DataFrame, cells_b: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Parts of B − A of mean burden per completed errand, per group, paired by seed with 95% CIs.

    Returns:
        Tidy rows: the ``by`` columns, ``part`` (:data:`EXPLAIN_PARTS` then ``total``), ``n``
        (seeds), ``mean_a``, ``mean_b``, ``diff``, ``ci_low``, ``ci_high`` (minutes per errand).
    """
    seed_parts = explain_seed_parts(cells_a, cells_b, by)
    out = paired_interval(seed_parts, [*by, "part"])
    return out[[*by, "part", *_VALUES]]


@dataclass(frozen=True)
class Drivers:
    """What moved a group's mean burden, each paired by seed with its 95% CI.

    Attributes:
        facilities: ``facility``, and the change of its waits' contribution to the group's mean
            burden (min per errand of the group; they sum to the ``facility_wait`` part).
        villages: ``village`` and the change of its mean burden per errand (min), largest gain first.
        lines: ``line`` and the change of its boardings over the run, county-wide (largest |change| first).
    """

    facilities: pd.DataFrame
    villages: pd.DataFrame
    lines: pd.DataFrame


def _select(frame: pd.DataFrame, group: dict[str, str]) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for key, value in group.items():
        mask &= (frame[key].astype(str) == str(value)).to_numpy()
    return frame[mask]


def _by_abs(frame: pd.DataFrame) -> pd.DataFrame:
    order = np.argsort(-np.abs(frame["diff"].to_numpy(float)), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def facility_drivers(
    a: Mapping[str, pd.DataFrame], b: Mapping[str, pd.DataFrame], by: Sequence[str]
) -> pd.DataFrame:
    """Per group and facility: the change of that facility's waits' share of the group's mean burden.

    A facility's contribution is its waits summed over the group's errands completed there,
    divided by all the group's completed errands (min per errand); per group and seed the
    contributions sum to the group's ``facility_wait`` part. Paired by seed with 95% CIs;
    columns the ``by`` columns, ``facility`` and ``n, mean_a, mean_b, diff, ci_low, ci_high``.
    """
    keys = [*by, "seed"]
    na, nb = _sums(a["cells"], keys)["n"], _sums(b["cells"], keys)["n"]
    wa = _sums(a["facility_cells"], [*by, "facility", "seed"])["wait_sum"]
    wb = _sums(b["facility_cells"], [*by, "facility", "seed"])["wait_sum"]
    index = wa.index.union(wb.index)
    groups = index.droplevel("facility")  # type: ignore[arg-type]  # as above
    pair = index.to_frame(index=False).assign(
        a=wa.reindex(index, fill_value=0.0).to_numpy() / na.reindex(groups).to_numpy(float),
        b=wb.reindex(index, fill_value=0.0).to_numpy() / nb.reindex(groups).to_numpy(float),
    )
    seeds = set(na.index.get_level_values("seed")) & set(nb.index.get_level_values("seed"))
    pair = pair[pair["seed"].isin(seeds)]
    return paired_interval(pair, [*by, "facility"])[[*by, "facility", *_VALUES]]


def find_drivers(
    a: dict[str, pd.DataFrame],
    b: dict[str, pd.DataFrame],
    group: dict[str, str],
    lines_a: pd.DataFrame | None = None,
    lines_b: pd.DataFrame | None = None,
) -> Drivers:
    """The facilities, villages and lines behind one group's change.

    Args:
        a: A's ``cells`` and ``facility_cells`` (with ``seed``).
        b: B's, likewise.
        group: the group, column -> value (empty: the county).
        lines_a: A's boardings per ``seed`` and ``line`` (column ``boardings``), if any.
        lines_b: B's, likewise.
    """
    sel_a = {k: _select(v, group) for k, v in a.items()}
    sel_b = {k: _select(v, group) for k, v in b.items()}
    facilities = facility_drivers(sel_a, sel_b, [])
    va = _sums(sel_a["cells"], ["village", "seed"])
    vb = _sums(sel_b["cells"], ["village", "seed"])
    village = _pair_frame(va["burden_sum"] / va["n"], vb["burden_sum"] / vb["n"])
    villages = paired_interval(village, ["village"]).sort_values("diff", kind="stable").reset_index(drop=True)
    lines = pd.DataFrame(columns=["line", *_VALUES])
    if lines_a is not None and lines_b is not None and len(lines_a) + len(lines_b):
        la = lines_a.set_index(["line", "seed"])["boardings"]
        lb = lines_b.set_index(["line", "seed"])["boardings"]
        seeds = sorted(set(a["cells"]["seed"]) & set(b["cells"]["seed"]))
        names = sorted(set(la.index.get_level_values("line")) | set(lb.index.get_level_values("line")))
        both = pd.MultiIndex.from_product([names, seeds], names=["line", "seed"])
        pair = both.to_frame(index=False).assign(
            a=la.reindex(both, fill_value=0).to_numpy(float), b=lb.reindex(both, fill_value=0).to_numpy(float)
        )
        lines = _by_abs(paired_interval(pair, ["line"]))
    return Drivers(facilities=_by_abs(facilities), villages=villages, lines=lines)


def line_boardings(summaries: Sequence[RunSummary | Mapping[str, Any]], seeds: Sequence[int]) -> pd.DataFrame:
    """``seed, line, boardings`` from each run's ``transit.boardings_by_line`` (empty without transit)."""
    rows = []
    for seed, summary in zip(seeds, summaries, strict=True):
        if isinstance(summary, Mapping):  # a summary.json read as a plain mapping
            boardings = (summary.get("transit") or {}).get("boardings_by_line") or {}
        else:
            boardings = summary.transit.boardings_by_line if summary.transit is not None else {}
        rows += [(seed, str(line), float(count)) for line, count in boardings.items()]
    return pd.DataFrame(rows, columns=["seed", "line", "boardings"])
