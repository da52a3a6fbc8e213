"""How many ghost arrivals a sampled run's queues need, facility by facility and day by day.

With a sample fraction f, each facility's queue must carry the whole population's arrivals: the
sampled visitors plus ghosts standing for the unsampled. The unsampled residents' first trips to
facility i on a day are Poisson with mean (1/f - 1) m, m the sampled first trips expected there.
``m`` is estimated from past days only as ``share x total``: ``total`` the sampled first trips
to all open facilities of the kind on this weekday (county-wide, so precise; it carries the
weekday pattern, e.g. the Monday backlog at halls closed at weekends) and ``share`` facility i's
part of its kind's first trips over all its open days (pooling weekdays gives it 5 to 7 times
the data of a per-weekday mean). Both are exponentially weighted means that forget the start:
the newest day weighs max(a, 2 / (n + 1)) after n days (linearly rising weights at first, so a
first week without a weekend backlog fades quickly), with a = min(f, 0.5) for a total and a / 3
for a share (a share is learnt mostly on ordinary days and scaled up on a Monday with three
days' backlog; a third of the weight keeps the share's variance small enough there).

An estimate has its own variance V, and a Poisson count around a noisy mean would give the
day's load (1/f - 1)^2 V more variance than a full population has; waits, convex in the load,
would come out high. So a share c = (1/f - 1) V / m (at most 1) of the ghosts' mean is drawn
without Poisson noise (rounded at random) and only the rest is Poisson: the day's load then has
the full population's mean and variance. V is tracked alongside each mean (binomial variance of
a day's share, Poisson variance of a day's total).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.needs import poisson_inverse

__all__ = ["GhostPlan", "GhostRates"]


@dataclass(frozen=True)
class GhostPlan:
    """One day's ghost first trips per facility (arrays over all facilities).

    Attributes:
        mean: expected ghost first trips.
        fixed: the part of ``mean`` drawn without Poisson noise (rounded at random).
        complete: share of ghosts whose errand the facility completes (the rest are referred).
    """

    mean: np.ndarray
    fixed: np.ndarray
    complete: np.ndarray

    def count(self, f: int, u_round: float, u_poisson: float) -> int:
        """Ghost first trips at facility ``f`` from two uniforms (random rounding, Poisson)."""
        fixed = float(self.fixed[f])
        whole = np.floor(fixed)
        rest = float(self.mean[f]) - fixed
        n = int(whole) + int(u_round < fixed - whole)
        return n + (poisson_inverse(rest, u_poisson) if rest > 0 else 0)


def _weight(n: np.ndarray, a: float) -> np.ndarray:
    """Weight of the newest of ``n`` days: linearly rising weights at first, then a."""
    return np.maximum(a, 2.0 / (n + 1.0))


class GhostRates:
    """Sampled first trips learnt day by day, turned into the next days' ghost plans.

    Args:
        fac_kind: kind index per facility.
        n_kinds: number of facility kinds.
        fraction: the sample fraction f (< 1).
    """

    def __init__(self, fac_kind: np.ndarray, n_kinds: int, fraction: float) -> None:
        n_fac = len(fac_kind)
        self.kind = np.asarray(fac_kind, dtype=np.int64)
        self.extra = 1.0 / fraction - 1.0  # ghosts per sampled arrival
        self.a = min(fraction, 0.5)  # newest day's weight in a total
        self.a_share = self.a / 3  # in a share (see the module docstring)
        self.total = np.zeros((n_kinds, 7))  # sampled first trips per kind and weekday
        self.total_sq = np.zeros((n_kinds, 7))  # sum of squared weights of that mean
        self.total_days = np.zeros((n_kinds, 7), dtype=np.int64)
        self.share = np.zeros(n_fac)  # facility's part of its kind's first trips, open days
        self.share_var = np.zeros(n_fac)  # variance of that estimate
        self.share_days = np.zeros(n_fac, dtype=np.int64)
        self.complete = np.ones(n_fac)  # share of first trips the facility completes
        self.complete_days = np.zeros(n_fac, dtype=np.int64)

    def plan(
        self, weekday: int, open_: np.ndarray, first_fac: np.ndarray, first_completes: np.ndarray
    ) -> GhostPlan:
        """Today's ghost plan from past days, then learn today's sampled first trips.

        Args:
            weekday: 0 = Monday.
            open_: (facilities,) bool, receiving visitors today.
            first_fac, first_completes: facility of each sampled first trip today and whether
                it completes the errand.
        """
        n_fac = len(self.kind)
        count = np.bincount(first_fac, minlength=n_fac).astype(float)
        done = np.bincount(first_fac, weights=first_completes.astype(float), minlength=n_fac)
        k = self.kind
        total_now = np.bincount(k[open_], weights=count[open_], minlength=self.total.shape[0])

        known = (self.total_days[k, weekday] > 0) & (self.share_days > 0)
        t, s = self.total[k, weekday], self.share
        mean = np.where(known, s * t, count)  # no past yet (first day): today's count
        var = np.where(known, t**2 * self.share_var + s**2 * self.total_sq[k, weekday] * t, count)
        mean = np.where(open_, mean, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(mean > 0, np.minimum(1.0, self.extra * var / mean), 0.0)
        plan = GhostPlan(mean=self.extra * mean, fixed=c * self.extra * mean, complete=self.complete.copy())

        kinds_open = np.unique(k[open_])
        n = self.total_days[kinds_open, weekday] + 1
        w = _weight(n, self.a)
        self.total[kinds_open, weekday] += w * (total_now[kinds_open] - self.total[kinds_open, weekday])
        self.total_sq[kinds_open, weekday] = (1 - w) ** 2 * self.total_sq[kinds_open, weekday] + w**2
        self.total_days[kinds_open, weekday] = n

        learn = np.flatnonzero(open_ & (total_now[k] > 0))
        ratio = count[learn] / total_now[k[learn]]
        prior = np.where(self.share_days[learn] > 0, self.share[learn], ratio)
        day_var = prior * (1 - prior) / total_now[k[learn]]  # binomial variance of today's share
        w = _weight(self.share_days[learn] + 1, self.a_share)
        self.share[learn] += w * (ratio - self.share[learn])
        self.share_var[learn] = (1 - w) ** 2 * self.share_var[learn] + w**2 * day_var
        self.share_days[learn] += 1

        seen = np.flatnonzero(count > 0)
        w = _weight(self.complete_days[seen] + 1, self.a)
        self.complete[seen] += w * (done[seen] / count[seen] - self.complete[seen])
        self.complete_days[seen] += 1
        return plan
