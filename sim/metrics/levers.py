"""Headline figures of the reform's levers: how errands were done, and what proxy agents carried."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.results.summary_model import LeverSummary, ProxyWorkload

__all__ = ["lever_summary"]


def _label_counts(column: pd.Series, rows: np.ndarray) -> dict[str, int]:
    """Rows (a boolean mask) per label of a column, by its categorical codes (no strings made)."""
    cat = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    codes = cat.cat.codes.to_numpy()[rows]
    counts = np.bincount(codes[codes >= 0], minlength=len(cat.cat.categories))
    return {str(label): int(n) for label, n in zip(cat.cat.categories, counts, strict=True)}


def lever_summary(errands: pd.DataFrame, proxy_trips: pd.DataFrame) -> LeverSummary:
    """Shares of completed errands by channel, and the proxy agents' workload.

    Returns the ``levers`` block: completed errands and their shares per channel (trip, online,
    proxy, mobile; shares None when none completed) and, when proxy agents ran, their workload.
    Only the measured period counts: errands that arose from day 0 on, agent trips from day 0 on
    (warm-up days are negative).
    """
    proxy_trips = proxy_trips[proxy_trips["day"] >= 0]
    done = (errands["arise_day"].to_numpy() >= 0) & (errands["status"] == "completed").to_numpy()
    total = int(done.sum())
    counts = _label_counts(errands["channel"], done) if "channel" in errands else {"trip": total}
    names = ("trip", "online", "proxy", "mobile")
    proxy = None
    if len(proxy_trips):
        carried = int(proxy_trips["errands"].sum())
        proxy = ProxyWorkload(
            agent_trips=len(proxy_trips),
            errands_carried=carried,
            agent_hours=float(proxy_trips["agent_min"].sum() / 60.0),
            agent_km=float(proxy_trips["agent_km"].sum()),
            errands_per_agent_trip=float(np.float64(carried) / len(proxy_trips)),
        )
    return LeverSummary(
        completed_by_channel={c: int(counts.get(c, 0)) for c in names},
        channel_share={c: (float(counts.get(c, 0)) / total if total else None) for c in names},
        proxy=proxy,
    )
