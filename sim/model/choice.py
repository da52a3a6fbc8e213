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

__all__ = ["ChoiceRule", "Choosers", "LogitChoice", "NearestChoice", "make_choice_rule"]


@dataclass(frozen=True)
class Choosers:
    """Who chooses among which candidate facilities (one row per chooser).

    Attributes:
        village: village index per chooser.
        pattern: mode-ownership pattern index per chooser (row of the rule's ``owns`` table).
        cand: (C,) candidate facility indices.
        eligible: (n, C) bool, candidate allowed for this chooser.
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
    """Per row, the first index whose cumulative weight exceeds ``target`` (a positive-weight index)."""
    k = np.minimum(np.sum(cum <= target[:, None], axis=1), weights.shape[1] - 1)
    edge = np.flatnonzero(weights[np.arange(len(k)), k] <= 0)  # rounding at u close to 1: last positive one
    if len(edge):
        k[edge] = weights.shape[1] - 1 - np.argmax(weights[edge, ::-1] > 0, axis=1)
    return k


def _columns(cand: np.ndarray, fac: np.ndarray) -> np.ndarray:
    """Position of each facility in the sorted ``cand`` (-1 if absent or fac < 0)."""
    if len(cand) == 0:
        return np.full(len(fac), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(cand, fac), len(cand) - 1)
    return np.where((fac >= 0) & (cand[pos] == fac), pos, -1)


@dataclass(frozen=True)
class _LogitTables:
    mode_weight: np.ndarray  # (modes, villages, facilities) exp(-scale (cost - shift)); 0 unreachable
    fac_weight: np.ndarray  # (patterns, villages, facilities) summed over owned modes
    owns: np.ndarray  # (patterns, modes)
    static_min: np.ndarray
    prior_wait_min: float
    by_cand: dict[bytes, np.ndarray] = field(default_factory=dict)  # see rows()

    def rows(self, cand: np.ndarray) -> np.ndarray:
        """(patterns x villages, C) facility weights of the candidates: a chooser's row is one gather."""
        table = self.by_cand.get(cand.tobytes())
        if table is None:
            p, v, _ = self.fac_weight.shape
            table = np.ascontiguousarray(self.fac_weight[:, :, cand].reshape(p * v, len(cand)))
            self.by_cand[cand.tobytes()] = table
        return table


@dataclass(frozen=True)
class LogitChoice:
    """Multinomial logit on generalised cost (scale in 1/min), drawn by inverse CDF."""

    scale_per_min: float

    def prepare(self, static_min: np.ndarray, owns: np.ndarray, prior_wait_min: float) -> _LogitTables:
        finite = np.isfinite(static_min)
        shift = np.where(finite, static_min, np.inf).min(axis=(0, 2))
        shift = np.where(np.isfinite(shift), shift, 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            mode_weight = np.where(
                finite, np.exp(-self.scale_per_min * (static_min - shift[None, :, None])), 0.0
            )
        fac_weight = np.einsum("pm,mvf->pvf", owns.astype(float), mode_weight)
        return _LogitTables(mode_weight, fac_weight, owns, static_min, prior_wait_min)

    def choose(self, prepared: object, who: Choosers) -> tuple[np.ndarray, np.ndarray]:
        t = prepared
        assert isinstance(t, _LogitTables)
        n = len(who.village)
        rows = np.arange(n)
        w = t.rows(who.cand)[who.pattern * t.fac_weight.shape[1] + who.village] * who.eligible
        col = _columns(who.cand, who.mem_fac)
        mem = np.flatnonzero(col >= 0)
        factor = np.exp(-self.scale_per_min * (who.mem_wait[mem].astype(float) - t.prior_wait_min))
        w[mem, col[mem]] *= factor
        cum = np.cumsum(w, axis=1)
        total = cum[:, -1] if w.shape[1] else np.zeros(n)
        fac = np.full(n, -1, dtype=np.int64)
        mode = np.full(n, -1, dtype=np.int64)
        ok = total > 0
        zero = rows[~ok]
        underflow = zero[np.isfinite(self._costs(t, who, zero)).any(axis=(1, 2))] if len(zero) else zero
        if ok.any():
            r = rows[ok]
            target = who.u[r] * total[r]
            k = _first_above(cum[r], target, w[r])
            before = np.where(k > 0, cum[r, np.maximum(k - 1, 0)], 0.0)
            within = np.clip((target - before) / w[r, k], 0.0, 1.0)
            fac[r] = who.cand[k]
            mw = t.mode_weight[:, who.village[r], fac[r]].T * t.owns[who.pattern[r]]
            mcum = np.cumsum(mw, axis=1)
            mode[r] = _first_above(mcum, within * mcum[:, -1], mw)
        if len(underflow):  # every weight below float range: the same draw on exact log-weights
            fac[underflow], mode[underflow] = self._exact(t, who, underflow)
        return fac, mode

    def _costs(self, t: _LogitTables, who: Choosers, r: np.ndarray) -> np.ndarray:
        """(rows, C, modes) generalised cost, inf where not allowed."""
        static = t.static_min[:, who.village[r]][:, :, who.cand].transpose(1, 2, 0)
        expect = np.where(who.cand[None, :] == who.mem_fac[r, None], who.mem_wait[r, None], t.prior_wait_min)
        cost = static + expect[:, :, None]
        allowed = who.eligible[r][:, :, None] & t.owns[who.pattern[r]][:, None, :]
        return np.where(allowed, cost, np.inf)

    def _exact(self, t: _LogitTables, who: Choosers, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cost = self._costs(t, who, r).reshape(len(r), -1)
        low = cost.min(axis=1, keepdims=True)
        w = np.where(np.isfinite(cost), np.exp(-self.scale_per_min * (cost - low)), 0.0)
        cum = np.cumsum(w, axis=1)
        flat = _first_above(cum, who.u[r] * cum[:, -1], w)
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
        per = np.where(owns[:, :, None, None], static_min[None], np.inf)  # (patterns, modes, V, F)
        return _NearestTables(per.min(axis=1), per.argmin(axis=1), prior_wait_min)

    def choose(self, prepared: object, who: Choosers) -> tuple[np.ndarray, np.ndarray]:
        t = prepared
        assert isinstance(t, _NearestTables)
        n = len(who.village)
        fac = np.full(n, -1, dtype=np.int64)
        mode = np.full(n, -1, dtype=np.int64)
        if len(who.cand) == 0:
            return fac, mode
        expect = np.where(who.cand[None, :] == who.mem_fac[:, None], who.mem_wait[:, None], t.prior_wait_min)
        cost = t.fac_cost[who.pattern[:, None], who.village[:, None], who.cand[None, :]] + expect
        cost = np.where(who.eligible, cost, np.inf)
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
