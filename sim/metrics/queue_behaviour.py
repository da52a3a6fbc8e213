"""The ``queue_behaviour`` block of summary.json (runs with balking, reneging or day choice on).

Counts are of the simulated residents' trips on measured days (the trips table): how many balked,
left the queue and were turned away at closing, per facility kind; how long those who left had
waited; and how many trips day choice put off to a later day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.model.model import AccessModel
    from sim.results.result import RunResult

__all__ = ["queue_behaviour_summary"]


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole > 0 else None


def queue_behaviour_summary(model: AccessModel, result: RunResult) -> dict[str, Any]:
    """Balked, left and turned-away trips (counts, shares per facility kind), waits of those who
    left, and trips put off by day choice."""
    qb = model.queue_behaviour
    assert qb is not None
    trips = result.trips
    outcome = trips["outcome"].astype(str).to_numpy()
    kinds = dict(zip(result.places["id"].astype(str), result.places["kind"].astype(str), strict=True))
    kind = trips["facility"].astype(str).map(kinds).to_numpy()
    left = outcome == "left"
    by_kind = {}
    for k in sorted(set(kind.tolist())):
        at = kind == k
        n = int(at.sum())
        by_kind[k] = {
            "trips": n,
            "balked_share": _share(float((at & (outcome == "balked")).sum()), n),
            "left_share": _share(float((at & left).sum()), n),
            "turned_away_share": _share(float((at & (outcome == "turned_away")).sum()), n),
        }
    wait_left = trips["wait_min"].to_numpy()[left]
    return {
        "balking": qb.balking is not None,
        "reneging": qb.reneging is not None,
        "day_choice": qb.day_choice is not None,
        "trips": len(trips),
        "balked_trips": int((outcome == "balked").sum()),
        "left_trips": int(left.sum()),
        "mean_wait_min_of_those_who_left": round(float(np.mean(wait_left)), 4) if len(wait_left) else None,
        "put_off_trips": qb.put_off_trips,
        "by_kind": by_kind,
    }
