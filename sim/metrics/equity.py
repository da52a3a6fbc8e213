"""Inequality of a non-negative quantity (travel time, burden, accessibility), optionally weighted.

Gini and Lorenz curve, Theil T with its exact between/within-group decomposition, the Palma ratio,
and the concentration index of a quantity by an ordered grouping (e.g. age band). All functions
drop non-finite values and non-positive weights, and run in O(n) apart from one sort for the
Lorenz curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "concentration_index",
    "equity_blocks",
    "equity_measures",
    "equity_profile",
    "gini",
    "lorenz",
    "palma",
    "round_blocks",
    "theil",
    "theil_decomposition",
]


def _clean(values: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(x) & (w > 0)
    return x[keep], w[keep]


def lorenz(values: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve points (population share, value share), both starting at 0."""
    x, w = _clean(values, weights)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    pop = np.concatenate([[0.0], np.cumsum(w) / w.sum()]) if len(x) else np.array([0.0, 1.0])
    tot = (x * w).sum()
    val = np.concatenate([[0.0], np.cumsum(x * w) / tot]) if len(x) and tot > 0 else pop
    return pop, val


def _gini_of_curve(pop: np.ndarray, val: np.ndarray) -> float:
    return float(1 - np.sum((pop[1:] - pop[:-1]) * (val[1:] + val[:-1])))


def _palma_of_curve(pop: np.ndarray, val: np.ndarray) -> float:
    bottom = float(np.interp(0.4, pop, val))
    return (1 - float(np.interp(0.9, pop, val))) / bottom if bottom > 0 else float("nan")


def gini(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Gini coefficient in [0, 1): 0 = everyone equal. NaN for no data or an all-zero quantity."""
    x, _ = _clean(values, weights)
    if len(x) == 0 or x.sum() <= 0:
        return float("nan")
    return _gini_of_curve(*lorenz(values, weights))


def palma(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Palma ratio: share of the total held by the top 10% over the share of the bottom 40%.

    Weighted people are divisible: the shares are read off the (linear) Lorenz curve at 0.4 and
    0.9 of the population. NaN for no data or when the bottom 40% hold nothing.
    """
    x, _ = _clean(values, weights)
    if len(x) == 0 or x.sum() <= 0:
        return float("nan")
    return _palma_of_curve(*lorenz(values, weights))


def theil(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Theil T index (>= 0; 0 = everyone equal); zeros contribute 0 (x ln x -> 0)."""
    x, w = _clean(values, weights)
    if len(x) == 0:
        return float("nan")
    mean = np.average(x, weights=w)
    if mean <= 0:
        return float("nan")
    ratio = x / mean
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ratio > 0, ratio * np.log(ratio), 0.0)
    return float(np.average(terms, weights=w))


def _xlogx_total(x: np.ndarray, w: np.ndarray, wx: np.ndarray | None = None) -> float:
    """sum w x ln x, with 0 ln 0 = 0 (the one pass of logarithms a Theil decomposition needs);
    ``wx``: the products ``w * x`` if already made."""
    wx = w * x if wx is None else wx
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.where(x > 0, wx * np.log(np.where(x > 0, x, 1.0)), 0.0)))


_NAN_DECOMPOSITION = {"total": np.nan, "between": np.nan, "within": np.nan, "between_share": np.nan}


def _group_weights(g: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weight per group code 0..max(g) (the first bincount of :func:`_decompose` and
    :func:`_concentration`; the same for every quantity measured on the same rows)."""
    return np.bincount(g, weights=w, minlength=int(g.max()) + 1)


def _decompose(
    x: np.ndarray,
    g: np.ndarray,
    w: np.ndarray,
    xlogx: float,
    wx: np.ndarray | None = None,
    wg: np.ndarray | None = None,
    yg: np.ndarray | None = None,
) -> dict[str, float]:
    """Theil T parts from group sums: O(n) bincounts, no further logarithms per person.

    With Y = sum w x, s_g = Y_g / Y and mu_g the group means, sum_g s_g T_g equals
    (sum w x ln x) / Y - sum_g s_g ln mu_g, so within and total follow from the same pass.
    ``wx`` (``w * x``), ``wg`` (:func:`_group_weights`) and ``yg`` (the same of ``wx``) if
    already made.
    """
    wg = _group_weights(g, w) if wg is None else wg
    yg = np.bincount(g, weights=w * x if wx is None else wx, minlength=len(wg)) if yg is None else yg
    total_y = yg.sum()
    if total_y <= 0:
        return dict(_NAN_DECOMPOSITION)
    has = yg > 0
    share = yg[has] / total_y
    log_mu_g = np.log(yg[has] / wg[has])
    log_mu = np.log(total_y / wg.sum())
    within = xlogx / total_y - float(np.sum(share * log_mu_g))
    between = float(np.sum(share * (log_mu_g - log_mu)))
    total = xlogx / total_y - log_mu
    return {
        "total": total,
        "between": between,
        "within": within,
        "between_share": between / total if total > 0 else float("nan"),
    }


def theil_decomposition(
    values: np.ndarray, groups: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, float]:
    """Theil T split exactly into between-group and within-group parts (total = between + within).

    With s_g = the group's share of the total and mu_g its mean:
    between = sum_g s_g ln(mu_g / mu), within = sum_g s_g T_g.

    Args:
        values: per person, non-negative.
        groups: integer group code per person (>= 0), same length.
        weights: persons each row stands for.

    Returns:
        ``total``, ``between``, ``within`` and ``between_share`` (between / total); NaN if empty.
    """
    x = np.asarray(values, dtype=float)
    g = np.asarray(groups, dtype=np.int64)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(x) & (w > 0)
    x, g, w = x[keep], g[keep], w[keep]
    if len(x) == 0:
        return dict(_NAN_DECOMPOSITION)
    return _decompose(x, g, w, _xlogx_total(x, w))


def concentration_index(
    values: np.ndarray, rank_group: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Concentration index of a quantity across an ordered grouping (e.g. age band, youngest first).

    CI = 2 cov_w(h, R) / mean(h), R = fractional rank (people tied in a group share its mid-rank).
    In (-1, 1): > 0 means the quantity is concentrated among the higher-ranked (older) people.
    As R is constant within a group, only group totals are needed: O(n) bincounts.
    """
    x = np.asarray(values, dtype=float)
    g = np.asarray(rank_group, dtype=np.int64)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(x) & (w > 0)
    x, g, w = x[keep], g[keep], w[keep]
    if len(x) == 0:
        return float("nan")
    return _concentration(x, g, w)


def _concentration(
    x: np.ndarray,
    g: np.ndarray,
    w: np.ndarray,
    wx: np.ndarray | None = None,
    wg: np.ndarray | None = None,
    yg: np.ndarray | None = None,
) -> float:
    """:func:`concentration_index` of clean, non-empty values; ``wx`` (``w * x``), ``wg``
    (:func:`_group_weights`) and ``yg`` (the same of ``wx``) if already made."""
    wg = _group_weights(g, w) if wg is None else wg
    yg = np.bincount(g, weights=w * x if wx is None else wx, minlength=len(wg)) if yg is None else yg
    cum = np.cumsum(wg)
    rank = (cum - wg / 2) / cum[-1]
    mu = yg.sum() / wg.sum()
    if mu <= 0:
        return float("nan")
    return float(2 * np.sum((yg - mu * wg) * (rank - 0.5)) / wg.sum() / mu)


def _curve(x: np.ndarray, w: np.ndarray, shared: _Shared | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve of clean values (one unstable sort: tied values give collinear points, same curve).

    Equal weights (every resident standing for as many people) need no permutation: the values
    are sorted directly, which gives the same sorted values and weights, and the population
    shares are those of the weights alone (kept in ``shared`` for other values with the same).
    """
    equal = bool(len(w) and (w == w[0]).all())
    if equal:
        xs, ws = np.sort(x), w
    else:
        order = np.argsort(x)
        xs, ws = x[order], w[order]
    if equal and shared is not None and shared.curve_pop is not None:
        pop_share = shared.curve_pop
    else:
        pop = np.concatenate([[0.0], np.cumsum(ws)])
        pop_share = pop / pop[-1]
        if equal and shared is not None:
            shared.curve_pop = pop_share
    val = np.concatenate([[0.0], np.cumsum(xs * ws)])
    return pop_share, val / val[-1]


@dataclass
class _Shared:
    """What :func:`_profile` makes from the weights and group codes alone, kept for other
    quantities measured on the same rows (all residents) with the same weights."""

    bins: np.ndarray | None = None  # group codes interleaved (:func:`_interleaved`)
    sizes: list[int] | None = None  # groups per grouping
    weights: list[np.ndarray] | None = None  # weight per group of each grouping
    curve_pop: np.ndarray | None = None  # Lorenz population shares (equal weights)


def _interleaved(codes: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Bins of m groupings' codes row by row (row r's groups at positions r*m ... r*m+m-1, each
    grouping's codes shifted past the previous ones) and the groups of each (max + 1)."""
    if any(len(g) and int(g.min()) < 0 for g in codes):
        raise ValueError("group codes must be non-negative")  # as a bincount of each would say
    sizes = [int(g.max()) + 1 for g in codes]
    bins = np.empty((len(codes[0]), len(codes)), dtype=np.intp)
    offset = 0
    for j, (g, k) in enumerate(zip(codes, sizes, strict=True)):
        np.add(g, offset, out=bins[:, j])
        offset += k
    return bins.ravel(), sizes


def _group_sums(bins: np.ndarray, sizes: list[int], values: np.ndarray) -> list[np.ndarray]:
    """``np.bincount(g, weights=values, minlength=k)`` for each grouping (codes g, k groups) from
    one bincount over the :func:`_interleaved` bins: each group adds the same values in the same
    (row) order, while neighbouring additions go to different groups (rows come grouped by
    township, and a bincount over one grouping chains each addition on the previous one)."""
    m = len(sizes)
    sums = np.bincount(bins, weights=np.repeat(values, m), minlength=sum(sizes))
    bounds = np.cumsum([0, *sizes])
    return [sums[bounds[j] : bounds[j + 1]] for j in range(m)]


def equity_profile(
    values: np.ndarray,
    weights: np.ndarray,
    *,
    groupings: dict[str, np.ndarray],
    age_code: np.ndarray,
) -> dict[str, float | None]:
    """Gini, Palma, Theil T (with decomposition by each grouping) and age concentration of one quantity
    (rounded to 6 decimals; None where undefined)."""
    raw = _profile(values, weights, groupings=groupings, age_code=age_code)
    return {key: _round(value) for key, value in raw.items()}


def _profile(
    values: np.ndarray,
    weights: np.ndarray,
    *,
    groupings: dict[str, np.ndarray],
    age_code: np.ndarray,
    shared: _Shared | None = None,
) -> dict[str, float]:
    """:func:`equity_profile` unrounded (NaN where undefined).

    The group sums of every grouping and of the age bands come from one bincount each
    (:func:`_group_sums`). ``shared``: what depends on the weights and codes alone when every row
    is kept, made once and reused across quantities measured on the same residents with the
    same weights (:func:`equity_measures`).
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = np.isfinite(x) & (w > 0)
    every = bool(keep.all())
    if every:  # the same rows: no copies, and what any other such quantity made
        codes = [np.asarray(c) for c in [*groupings.values(), age_code]]
        cache = _Shared() if shared is None else shared
    else:
        x, w = x[keep], w[keep]
        codes = [np.asarray(c)[keep] for c in [*groupings.values(), age_code]]
        cache = _Shared()
    wx = w * x
    curve = _curve(x, w, cache if every else None) if len(x) and wx.sum() > 0 else None
    out: dict[str, float] = {
        "gini": _gini_of_curve(*curve) if curve else float("nan"),
        "palma": _palma_of_curve(*curve) if curve else float("nan"),
    }
    total = float("nan")
    xlogx = _xlogx_total(x, w, wx)
    if len(x):
        if cache.bins is None or cache.sizes is None:
            cache.bins, cache.sizes = _interleaved(codes)
        if cache.weights is None:
            cache.weights = _group_sums(cache.bins, cache.sizes, w)
        y = _group_sums(cache.bins, cache.sizes, wx)
    for j, name in enumerate(groupings):
        dec = (
            _decompose(x, codes[j], w, xlogx, wx, cache.weights[j], y[j])  # type: ignore[index]
            if len(x)
            else dict(_NAN_DECOMPOSITION)
        )
        total = dec["total"]
        out[f"theil_between_{name}"] = dec["between"]
        out[f"theil_within_{name}"] = dec["within"]
        out[f"theil_between_share_{name}"] = dec["between_share"]
    out["theil"] = total if groupings else theil(x, w)
    out["concentration_index_age"] = (
        _concentration(x, codes[-1], w, wx, cache.weights[-1], y[-1])  # type: ignore[index]
        if len(x)
        else float("nan")
    )
    return out


def _round(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def equity_measures(residents: pd.DataFrame) -> dict[str, dict[str, float]]:
    """:func:`equity_blocks` unrounded (NaN where undefined), for callers that round differently."""
    weight = np.array(residents["weight"].to_numpy(float))  # writable: a bincount copies a read-only one
    groupings = {
        "former_unit": residents["former_unit"].cat.codes.to_numpy(np.int64),
        "island": residents["island"].to_numpy().astype(np.int64),
    }
    age = residents["age_band"].cat.codes.to_numpy(np.int64)
    columns = [
        "burden_min_per_errand",
        *[c for c in residents.columns if c.startswith("access_") and c.endswith("_min")],
    ]
    shared = _Shared()  # what the quantities that keep every resident have in common
    return {
        col: _profile(
            residents[col].to_numpy(float), weight, groupings=groupings, age_code=age, shared=shared
        )
        for col in columns
    }


def equity_blocks(residents: pd.DataFrame) -> dict[str, Any]:
    """Equity profiles of burden per errand and of each nearest-facility time, from the residents table.

    Decompositions by former township and by island (islands vs main island); concentration by age
    band in the scenario's order (youngest first).
    """
    return round_blocks(equity_measures(residents))


def round_blocks(measures: dict[str, dict[str, float]]) -> dict[str, Any]:
    """:func:`equity_measures` as reported: 6 decimals, None where undefined."""
    return {col: {key: _round(v) for key, v in block.items()} for col, block in measures.items()}
