"""Destination + mode choice over generalised cost: logit by inverse CDF, or least cost.

Alternatives are (facility, mode) pairs. A chooser's cost of a pair is the static cost of its
village (round-trip minutes + money as minutes, per mode) plus the wait expected at the facility
(the remembered wait at the last facility used for the service group, the prior elsewhere).
Everything except the remembered wait depends only on (village, modes owned, day's bus
pattern), so it is precomputed once per bus pattern as facility-level tables; a day's choice
then gathers one weight (or cost) per candidate facility per chooser.

Logit: P(f, m) ∝ exp(-scale · cost). One uniform per chooser picks by inverse CDF over the
facility weights (facility-major order), and the same uniform, rescaled within the chosen
facility's interval, picks the mode: exactly the logit probabilities (same as Gumbel-max), and
a chooser whose weights did not change picks the same alternative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from sim.scenario.schema import Behaviour

__all__ = [
    "ChoiceRule",
    "Choosers",
    "LogitChoice",
    "NearestChoice",
    "make_choice_rule",
    "owns_patterns",
    "round_trip_cost_min",
]


@dataclass(frozen=True)
class Choosers:
    """Who chooses among which candidate facilities (one row per chooser).

    Attributes:
        village: village index per chooser.
        pattern: mode-ownership pattern index per chooser (row of the rule's ``owns`` table).
        cand: (C,) candidate facility indices.
        eligible: (C, n) bool, candidate allowed for this chooser (candidates along axis 0).
        mem_fac: facility remembered for the errand's service group (-1 = none).
        mem_wait: wait expected there (min).
        u: one uniform in (0, 1) per chooser (unused by least cost).
    """

    village: np.ndarray
    pattern: np.ndarray
    cand: np.ndarray
    eligible: np.ndarray
    mem_fac: np.ndarray
    mem_wait: np.ndarray
    u: np.ndarray


class ChoiceRule(Protocol):
    """Picks one (facility, mode) per chooser from tables prepared per bus pattern."""

    def prepare(self, static_min: np.ndarray, owns: np.ndarray, prior_wait_min: float) -> object:
        """Tables for one day type.

        Args:
            static_min: (modes, villages, facilities) round-trip minutes + money as minutes;
                inf where the mode cannot reach the facility (that day).
            owns: (patterns, modes) bool, modes of each ownership pattern.
            prior_wait_min: wait expected where a resident has no experience.
        """
        ...

    def choose(self, prepared: object, who: Choosers) -> tuple[np.ndarray, np.ndarray]:
        """(facility, mode) per chooser; -1 where no eligible alternative is reachable."""
        ...


def _first_above(cum: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per column, the first row whose cumulative weight exceeds ``target`` (a positive-weight row).

    Alternatives run along axis 0 (``cum`` and ``weights`` are (alternatives, choosers)), so the
    reductions add whole rows at a time.
    """
    k = np.minimum(np.sum(cum <= target[None, :], axis=0), weights.shape[0] - 1)
    edge = np.flatnonzero(weights[k, np.arange(len(k))] <= 0)  # rounding at u close to 1: last positive one
    if len(edge):
        k[edge] = weights.shape[0] - 1 - np.argmax(weights[::-1, edge] > 0, axis=0)
    return k


def _cumsum_rows(w: np.ndarray) -> np.ndarray:
    """Cumulative sums down axis 0, one row at a time (the same sums as ``np.cumsum(w, axis=0)``,
    which is many times slower for wide arrays)."""
    cum = np.empty_like(w)
    if len(w):
        cum[0] = w[0]
    for i in range(1, len(w)):
        np.add(cum[i - 1], w[i], out=cum[i])
    return cum


def _columns(cand: np.ndarray, fac: np.ndarray) -> np.ndarray:
    """Position of each facility in ``cand`` (-1 if absent or fac < 0)."""
    if len(cand) == 0 or len(fac) == 0:
        return np.full(len(fac), -1, dtype=np.int64)
    pos = np.full(max(int(cand.max()), int(fac.max())) + 2, -1, dtype=np.int64)
    pos[cand] = np.arange(len(cand))
    return pos[fac]  # fac = -1 reads the last slot, which no candidate fills


@dataclass(frozen=True)
class _LogitTables:
    mode_weight: np.ndarray  # (modes, villages, facilities) exp(-scale (cost - shift)); 0 unreachable
    fac_weight: np.ndarray  # (patterns, villages, facilities) summed over owned modes
    owned_weight: np.ndarray  # (modes, patterns x villages x facilities) mode_weight, 0 if not owned
    owns: np.ndarray  # (patterns, modes)
    static_min: np.ndarray
    prior_wait_min: float
    by_cand: dict[bytes, np.ndarray] = field(default_factory=dict)  # see rows()

    def columns(self, cand: np.ndarray) -> np.ndarray:
        """(C, patterns x villages) facility weights of the candidates: a chooser's column is one gather."""
        table = self.by_cand.get(cand.tobytes())
        if table is None:
            p, v, _ = self.fac_weight.shape
            table = np.ascontiguousarray(self.fac_weight[:, :, cand].reshape(p * v, len(cand)).T)
            self.by_cand[cand.tobytes()] = table
        return table


def round_trip_cost_min(
    time_min: np.ndarray, money_yuan: np.ndarray, value_of_time_yuan_per_h: float
) -> np.ndarray:
    """Generalised cost of a round trip: travel minutes both ways plus money both ways as minutes.

    Args:
        time_min: one-way minutes, any shape (the model's is (modes, villages, facilities)).
        money_yuan: one-way money, same shape.
        value_of_time_yuan_per_h: yuan a resident would pay to save an hour.

    Returns:
        Minutes, the shape of ``time_min``.
    """
    cost: np.ndarray = 2 * time_min + 2 * money_yuan * (60.0 / value_of_time_yuan_per_h)
    return cost


def owns_patterns(owns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct sets of modes residents own: choice tables are prepared once per set.

    Args:
        owns: (modes, residents) bool.

    Returns:
        ``(pattern, table)``: each resident's pattern index (residents,), and the patterns as
        (patterns, modes) bool, in ascending order of their mode bits.
    """
    bits = np.uint64(1) << np.arange(owns.shape[0], dtype=np.uint64)
    code = (owns.T.astype(np.uint64) * bits).sum(axis=1)
    codes, pattern = np.unique(code, return_inverse=True)
    return pattern, (codes[:, None] & bits[None, :]) > 0


@dataclass(frozen=True)
class LogitChoice:
    """Multinomial logit on generalised cost (scale in 1/min), drawn by inverse CDF."""

    scale_per_min: float

    def prepare(self, static_min: np.ndarray, owns: np.ndarray, prior_wait_min: float) -> _LogitTables:
        """Per owned-mode pattern, the logit weights of every (mode, facility) from each village."""
        finite = np.isfinite(static_min)
        shift = np.where(finite, static_min, np.inf).min(axis=(0, 2))
        shift = np.where(np.isfinite(shift), shift, 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            mode_weight = np.where(
                finite, np.exp(-self.scale_per_min * (static_min - shift[None, :, None])), 0.0
            )
        fac_weight = np.einsum("pm,mvf->pvf", owns.astype(float), mode_weight)
        owned = (owns.T[:, :, None, None] * mode_weight[:, None]).reshape(len(mode_weight), -1)
        return _LogitTables(mode_weight, fac_weight, owned, owns, static_min, prior_wait_min)

    def choose(self, prepared: object, who: Choosers) -> tuple[np.ndarray, np.ndarray]:
        """Facility and mode of each chooser, drawn from the logit probabilities (-1: none reachable)."""
        t = prepared
        assert isinstance(t, _LogitTables)
        n = len(who.village)
        rows = np.arange(n)
        # (C, n): candidates along axis 0, so cumulative sums add whole rows
        w = np.take(t.columns(who.cand), who.pattern * t.fac_weight.shape[1] + who.village, axis=1)
        w *= who.eligible
        col = _columns(who.cand, who.mem_fac)
        mem = np.flatnonzero(col >= 0)
        factor = np.exp(-self.scale_per_min * (who.mem_wait[mem].astype(float) - t.prior_wait_min))
        w[col[mem], mem] *= factor
        cum = _cumsum_rows(w)
        total = cum[-1] if w.shape[0] else np.zeros(n)
        fac = np.full(n, -1, dtype=np.int64)
        mode = np.full(n, -1, dtype=np.int64)
        ok = total > 0
        zero = rows[~ok]
        underflow = zero[np.isfinite(self._costs(t, who, zero)).any(axis=(1, 2))] if len(zero) else zero
        if ok.any():
            r = rows[ok]
            cum_r, w_r = (cum, w) if len(r) == n else (cum[:, r], w[:, r])
            target = who.u[r] * total[r]
            k = _first_above(cum_r, target, w_r)
            at = np.arange(len(r))
            before = np.where(k > 0, cum_r[np.maximum(k - 1, 0), at], 0.0)
            within = np.clip((target - before) / w_r[k, at], 0.0, 1.0)
            fac[r] = who.cand[k]
            _, v, f = t.fac_weight.shape
            mw = np.take(t.owned_weight, (who.pattern[r] * v + who.village[r]) * f + fac[r], axis=1)
            mcum = _cumsum_rows(mw)
            mode[r] = _first_above(mcum, within * mcum[-1], mw)
        if len(underflow):  # every weight below float range: the same draw on exact log-weights
            fac[underflow], mode[underflow] = self._exact(t, who, underflow)
        return fac, mode

    def _costs(self, t: _LogitTables, who: Choosers, r: np.ndarray) -> np.ndarray:
        """(rows, C, modes) generalised cost, inf where not allowed."""
        static = t.static_min[:, who.village[r][:, None], who.cand[None, :]].transpose(1, 2, 0)
        expect = np.where(who.cand[None, :] == who.mem_fac[r, None], who.mem_wait[r, None], t.prior_wait_min)
        cost = static + expect[:, :, None]
        allowed = who.eligible[:, r].T[:, :, None] & t.owns[who.pattern[r]][:, None, :]
        return np.where(allowed, cost, np.inf)

    def _exact(self, t: _LogitTables, who: Choosers, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cost = self._costs(t, who, r).reshape(len(r), -1)
        low = cost.min(axis=1, keepdims=True)
        w = np.where(np.isfinite(cost), np.exp(-self.scale_per_min * (cost - low)), 0.0)
        cum = _cumsum_rows(w.T)
        flat = _first_above(cum, who.u[r] * cum[-1], w.T)
        n_modes = t.static_min.shape[0]
        return who.cand[flat // n_modes], flat % n_modes


@dataclass(frozen=True)
class _NearestTables:
    fac_cost: np.ndarray  # (patterns, villages, facilities) least static cost over owned modes
    fac_mode: np.ndarray  # the mode achieving it (lowest index on ties)
    prior_wait_min: float


@dataclass(frozen=True)
class NearestChoice:
    """Least generalised cost (ties to the lowest facility, then mode, index)."""

    def prepare(self, static_min: np.ndarray, owns: np.ndarray, prior_wait_min: float) -> _NearestTables:
        """Per owned-mode pattern, the least cost (min) and its mode to every facility from each village."""
        per = np.where(owns[:, :, None, None], static_min[None], np.inf)  # (patterns, modes, V, F)
        return _NearestTables(per.min(axis=1), per.argmin(axis=1), prior_wait_min)

    def choose(self, prepared: object, who: Choosers) -> tuple[np.ndarray, np.ndarray]:
        """Facility and mode of least cost for each chooser (-1: none reachable)."""
        t = prepared
        assert isinstance(t, _NearestTables)
        n = len(who.village)
        fac = np.full(n, -1, dtype=np.int64)
        mode = np.full(n, -1, dtype=np.int64)
        if len(who.cand) == 0:
            return fac, mode
        expect = np.where(who.cand[None, :] == who.mem_fac[:, None], who.mem_wait[:, None], t.prior_wait_min)
        cost = t.fac_cost[who.pattern[:, None], who.village[:, None], who.cand[None, :]] + expect
        cost = np.where(who.eligible.T, cost, np.inf)
        k = np.argmin(cost, axis=1)
        ok = np.isfinite(cost[np.arange(n), k])
        fac[ok] = who.cand[k[ok]]
        mode[ok] = t.fac_mode[who.pattern[ok], who.village[ok], fac[ok]]
        return fac, mode


def make_choice_rule(behaviour: Behaviour) -> ChoiceRule:
    """The rule a scenario's ``behaviour.choice`` names."""
    if behaviour.choice == "nearest":
        return NearestChoice()
    return LogitChoice(scale_per_min=behaviour.logit_scale_per_min)
