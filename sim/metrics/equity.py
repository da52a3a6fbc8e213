"""Inequality indices of a non-negative quantity (travel time, burden), optionally weighted."""

from __future__ import annotations

import numpy as np

__all__ = ["gini", "lorenz", "theil"]


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


def gini(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Gini coefficient in [0, 1): 0 = everyone equal. NaN for no data or an all-zero quantity."""
    x, _ = _clean(values, weights)
    if len(x) == 0 or x.sum() <= 0:
        return float("nan")
    pop, val = lorenz(values, weights)
    area = np.sum((pop[1:] - pop[:-1]) * (val[1:] + val[:-1]) / 2)
    return float(1 - 2 * area)


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
