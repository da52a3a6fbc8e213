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

Large choice sets (more than :data:`LARGE_SET` candidates, e.g. 199 village clinics with the
health tiers) are drawn in two stages with the same probabilities: per (pattern, village) the
fewest highest-weight candidates that leave out at most :data:`KEPT_TAIL_SHARE` of the weight
are kept. The uniform first picks within the kept candidates or the left-out weight (known per
(pattern, village, eligibility column) from one matrix product), then, rescaled, among the
left-out ones. Each alternative keeps its exact logit probability; only which uniform picks it
changes. Referred choosers and those who remember a left-out facility take the one-stage draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from sim.compiled import optional_extension
from sim.scenario.schema import Behaviour

__all__ = [
    "KEPT_TAIL_SHARE",
    "LARGE_SET",
    "ChoiceRule",
    "Choosers",
    "LogitChoice",
    "NearestChoice",
    "make_choice_rule",
    "owns_patterns",
    "round_trip_cost_min",
]

#: Candidate facilities above which the logit draws in two stages (kept, then left-out candidates).
LARGE_SET = 64
#: Largest share of a (pattern, village) row's weight left out of its kept candidates.
KEPT_TAIL_SHARE = 0.01


@dataclass(frozen=True)
class Choosers:
    """Who chooses among which candidate facilities (one row per chooser).

    Attributes:
        village: village index per chooser.
        pattern: mode-ownership pattern index per chooser (row of the rule's ``owns`` table).
        cand: (C,) candidate facility indices.
        eligible: (C, n) bool, candidate allowed for this chooser (candidates along axis 0); None:
            given by ``table``, ``column`` and ``forced``.
        mem_fac: facility remembered for the errand's service group (-1 = none).
        mem_wait: wait expected there (min).
        u: one uniform in (0, 1) per chooser (unused by least cost).
        table: (C, K) bool eligibility columns (with ``eligible`` None).
        column: per chooser, its column of ``table``.
        forced: per chooser, the one facility a referral names (-1: none; overrides ``table``).
    """

    village: np.ndarray
    pattern: np.ndarray
    cand: np.ndarray
    eligible: np.ndarray | None
    mem_fac: np.ndarray
    mem_wait: np.ndarray
    u: np.ndarray
    table: np.ndarray | None = None
    column: np.ndarray | None = None
    forced: np.ndarray | None = None

    def eligible_of(self, rows: np.ndarray | None = None) -> np.ndarray:
        """(C, choosers) bool eligibility of the choosers ``rows`` (all if None)."""
        if self.eligible is not None:
            return self.eligible if rows is None else self.eligible[:, rows]
        assert self.table is not None and self.column is not None and self.forced is not None
        column, forced = (
            (self.column, self.forced) if rows is None else (self.column[rows], self.forced[rows])
        )
        out = np.take(self.table, column, axis=1)
        named = np.flatnonzero(forced >= 0)
        if len(named):  # a referral names the one facility to go to
            out[:, named] = self.cand[:, None] == forced[named][None, :]
        return out

    def rows(self, rows: np.ndarray) -> Choosers:
        """The choosers ``rows``, their eligibility given as it is (per chooser, or table and column)."""
        return replace(
            self,
            village=self.village[rows],
            pattern=self.pattern[rows],
            eligible=None if self.eligible is None else self.eligible[:, rows],
            mem_fac=self.mem_fac[rows],
            mem_wait=self.mem_wait[rows],
            u=self.u[rows],
            column=None if self.column is None else self.column[rows],
            forced=None if self.forced is None else self.forced[rows],
        )

    def subset(
        self, rows: np.ndarray, *, eligible: np.ndarray | None = None, u: np.ndarray | None = None
    ) -> Choosers:
        """The choosers ``rows``, with the eligibility and uniforms given (default: theirs)."""
        return Choosers(
            village=self.village[rows],
            pattern=self.pattern[rows],
            cand=self.cand,
            eligible=self.eligible_of(rows) if eligible is None else eligible,
            mem_fac=self.mem_fac[rows],
            mem_wait=self.mem_wait[rows],
            u=self.u[rows] if u is None else u,
        )


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
    """Cumulative sums down axis 0: the same sums as ``np.cumsum(w, axis=0)``, which is used for
    arrays taller than wide; wider ones are summed one row at a time (``np.cumsum`` is slower there)."""
    if w.shape[1] < w.shape[0]:
        return np.cumsum(w, axis=0)
    cum = np.empty_like(w)
    if len(w):
        cum[0] = w[0]
    for i in range(1, len(w)):
        np.add(cum[i - 1], w[i], out=cum[i])
    return cum


def _weighted_rows(weight: np.ndarray, row: np.ndarray, slot: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """(alternatives, choosers): rows ``row`` of ``weight`` (rows, alternatives) as columns,
    alternative ``slot`` (-1: none) times ``factor``."""
    w = np.take(weight, row, axis=0).T
    has = np.flatnonzero(slot >= 0)
    w[slot[has], has] *= factor[has]
    return w


def row_totals_numpy(weight: np.ndarray, row: np.ndarray, slot: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Per chooser, the sum of row ``row`` of ``weight`` (rows, alternatives), alternative ``slot``
    (-1: none) times ``factor``: the numpy version of ``sim.model._logit.row_totals``."""
    return _cumsum_rows(_weighted_rows(weight, row, slot, factor))[-1]


def row_pick_numpy(
    weight: np.ndarray, row: np.ndarray, slot: np.ndarray, factor: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per chooser, the alternative ``target`` picks in those weights and where in its interval
    (0..1): the numpy version of ``sim.model._logit.row_pick``."""
    w = _weighted_rows(weight, row, slot, factor)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _pick(_cumsum_rows(w), w, target)


def scaled_pick_numpy(weight: np.ndarray, row: np.ndarray, within: np.ndarray) -> np.ndarray:
    """Per chooser, the alternative picked by ``within`` times the total of row ``row`` of ``weight``
    (rows, alternatives): the numpy version of ``sim.model._logit.scaled_pick``."""
    w = np.take(weight, row, axis=0).T
    cum = _cumsum_rows(w)
    return _first_above(cum, within * cum[-1], w)


def kept_pick_numpy(
    weight: np.ndarray,
    pos: np.ndarray,
    slot_of: np.ndarray,
    left_out: np.ndarray,
    left_total: np.ndarray,
    cand: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    factor: np.ndarray,
    u: np.ndarray,
    forced: np.ndarray,
    mem_fac: np.ndarray,
    owned: np.ndarray,
    base: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first stage of the two-stage draw (:meth:`LogitChoice._two_stage`) of choosers at ``row`` of
    a kept set (``weight``, ``pos``, ``slot_of``, ``left_out``, ``left_total`` of :class:`_KeptSet`),
    ``col`` the position of the remembered facility among the candidates (-1: none) and ``factor``
    its weight factor: the numpy version of ``sim.model._logit.kept_pick``.

    Returns:
        ``(fac, mode, region, scaled)``: the region of the uniform's interval (0 kept candidates, 1 a
        remembered left-out facility, 2 the other left-out ones, -1 referred, -2 no weight in float
        range, -3 region 2 where the other left-out weights add up to 0); the facility and mode in
        regions 0 to 2 (-1 elsewhere); in region -3 the uniform rescaled within the left-out weight
        (0 elsewhere). Rows of ``owned`` (the owned modes' weights) are ``base + facility``
        (``base``: (pattern x villages + village) x facilities).
    """
    n = len(row)
    slot = slot_of[col, row]
    total = row_totals_numpy(weight, row, slot, factor)
    remembered = left_out[col, row]  # a remembered facility among the left-out
    extra = remembered * factor
    left = np.maximum(left_total[row] - remembered, 0.0)
    target = u * (total + extra + left)
    region = (target >= total).astype(np.int8) + (target >= total + extra)
    region[(region == 2) & (left <= 0)] = 1
    region[(region == 1) & (extra <= 0)] = 0
    is_forced = forced >= 0
    region[is_forced] = -1
    region[~is_forced & (total + extra + left <= 0)] = -2  # reachable, but no weight in float range
    fac = np.full(n, -1, dtype=np.int64)
    mode = np.full(n, -1, dtype=np.int64)
    scaled = np.zeros(n)
    r = np.flatnonzero(region == 0)
    k, within = row_pick_numpy(weight, row[r], slot[r], factor[r], target[r])
    fac[r] = cand[pos[row[r], k]]
    mode[r] = scaled_pick_numpy(owned, base[r] + fac[r], within)
    r = np.flatnonzero(region == 1)
    fac[r] = mem_fac[r]
    within = np.clip((target[r] - total[r]) / extra[r], 0.0, 1.0)
    mode[r] = scaled_pick_numpy(owned, base[r] + fac[r], within)
    r = np.flatnonzero(region == 2)  # the other left-out candidates, by the rescaled uniform
    scaled[r] = np.clip((target[r] - total[r] - extra[r]) / left[r], 0.0, 1.0)
    w = np.take(left_out[:-1], row[r], axis=1)  # as LogitChoice._choose_all weighs them
    has = np.flatnonzero(col[r] >= 0)
    w[col[r][has], has] = 0.0  # not the remembered one
    cum = _cumsum_rows(w)
    ok = cum[-1] > 0
    region[r[~ok]] = -3  # no weight in float range: left to the one-stage draw
    r = r[ok]
    k, within = _pick(cum[:, ok], w[:, ok], scaled[r] * cum[-1][ok])
    fac[r] = cand[k]
    mode[r] = scaled_pick_numpy(owned, base[r] + fac[r], within)
    scaled[r] = 0.0
    return fac, mode, region, scaled


_compiled = optional_extension("sim.model._logit")  # None without a C compiler (sim/compiled.py)
row_totals = row_totals_numpy if _compiled is None else _compiled.row_totals
row_pick = row_pick_numpy if _compiled is None else _compiled.row_pick
scaled_pick = scaled_pick_numpy if _compiled is None else _compiled.scaled_pick
kept_pick = kept_pick_numpy if _compiled is None else _compiled.kept_pick


def _columns(cand: np.ndarray, fac: np.ndarray) -> np.ndarray:
    """Position of each facility in ``cand`` (-1 if absent or fac < 0)."""
    if len(cand) == 0 or len(fac) == 0:
        return np.full(len(fac), -1, dtype=np.int64)
    pos = np.full(max(int(cand.max()), int(fac.max())) + 2, -1, dtype=np.int64)
    pos[cand] = np.arange(len(cand))
    return pos[fac]  # fac = -1 reads the last slot, which no candidate fills


def _pick(cum: np.ndarray, w: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row picked by each column's ``target`` (0 < target <= total) and where in its interval
    (0..1), the latter rescaling the uniform for the mode."""
    k = _first_above(cum, target, w)
    at = np.arange(len(k))
    before = np.where(k > 0, cum[np.maximum(k - 1, 0), at], 0.0)
    return k, np.clip((target - before) / w[k, at], 0.0, 1.0)


@dataclass(frozen=True)
class _KeptSet:
    """Kept candidates of a large choice set per (pattern, village) row (see the module docstring).

    Attributes:
        pos: (rows, M) positions in the candidates, ascending; padded with C (no candidate).
        weight: (rows, M) their facility weights (0 at the padding).
        slot: (C + 1, rows) each candidate's index in its row of ``pos``, -1 if left out (last row: -1, for
            position -1, no candidate).
        left_out: (C + 1, rows) weight of the candidates left out (0 where kept; last row 0).
        left_total: (rows,) their sum.
    """

    pos: np.ndarray
    weight: np.ndarray
    slot: np.ndarray
    left_out: np.ndarray
    left_total: np.ndarray

    @classmethod
    def of(cls, weights: np.ndarray) -> _KeptSet:
        """From (C, rows) facility weights: per row the fewest highest weights leaving out at most
        :data:`KEPT_TAIL_SHARE` of the row's total."""
        c = len(weights)
        order = np.argsort(-weights, axis=0, kind="stable")
        ranked = np.take_along_axis(weights, order, axis=0)
        tail = ranked.sum(axis=0)[None, :] - np.cumsum(ranked, axis=0)  # left out after keeping k + 1
        count = 1 + np.sum(tail > KEPT_TAIL_SHARE * ranked.sum(axis=0)[None, :], axis=0)
        kept = np.zeros_like(weights, dtype=bool)
        np.put_along_axis(kept, order, np.arange(c)[:, None] < count[None, :], axis=0)
        pos = np.sort(np.where(kept, np.arange(c)[:, None], c), axis=0)[: int(count.max())]
        padded = np.vstack([weights, np.zeros((1, weights.shape[1]))])
        slot = np.full(padded.shape, -1, dtype=np.int32)
        slot[pos, np.arange(pos.shape[1])[None, :]] = np.arange(len(pos))[:, None]
        slot[c] = -1
        left_out = np.where(np.vstack([kept, np.ones((1, kept.shape[1]), bool)]), 0.0, padded)
        weight = np.take_along_axis(padded, pos, axis=0)
        return cls(
            np.ascontiguousarray(pos.T),
            np.ascontiguousarray(weight.T),
            np.ascontiguousarray(slot),
            np.ascontiguousarray(left_out),
            left_out.sum(axis=0),
        )


@dataclass
class _LargeSet:
    """What the two-stage draw caches per large candidate set and eligibility table.

    Attributes:
        table: the (C, K) eligibility table, held so that its ``id`` (the cache key) stays its own.
        contents: a copy of it, to tell a table changed in place from the one cached.
        where: (facilities + 1,) position of each facility among the candidates, -1 if absent (last
            entry -1: for facility -1, none).
        reach: see :meth:`_LogitTables.any_reachable` (None until first asked).
        kept: see :meth:`_LogitTables.kept_set` (None until first asked).
    """

    table: np.ndarray
    contents: np.ndarray
    where: np.ndarray
    reach: np.ndarray | None = None
    kept: _KeptSet | None = None


@dataclass(frozen=True)
class _LogitTables:
    mode_weight: np.ndarray  # (modes, villages, facilities) exp(-scale (cost - shift)); 0 unreachable
    fac_weight: np.ndarray  # (patterns, villages, facilities) summed over owned modes
    owned_weight: np.ndarray  # (patterns x villages x facilities, modes) mode_weight, 0 if not owned
    owns: np.ndarray  # (patterns, modes)
    static_min: np.ndarray
    prior_wait_min: float
    by_cand: dict[bytes, np.ndarray] = field(default_factory=dict)  # see rows()
    finite_by_cand: dict[bytes, np.ndarray] = field(default_factory=dict)  # see reachable()
    large: dict[tuple[int, str, bytes], _LargeSet] = field(default_factory=dict)  # see large_set()

    def columns(self, cand: np.ndarray) -> np.ndarray:
        """(C, patterns x villages) facility weights of the candidates: a chooser's column is one gather."""
        table = self.by_cand.get(cand.tobytes())
        if table is None:
            p, v, _ = self.fac_weight.shape
            table = np.ascontiguousarray(self.fac_weight[:, :, cand].reshape(p * v, len(cand)).T)
            self.by_cand[cand.tobytes()] = table
        return table

    def reachable(self, cand: np.ndarray) -> np.ndarray:
        """(patterns x villages, C) whether some owned mode reaches each candidate at a finite
        static cost (cached per candidate set)."""
        table = self.finite_by_cand.get(cand.tobytes())
        if table is None:
            finite = np.isfinite(self.static_min[:, :, cand])  # (modes, villages, C)
            table = (self.owns[:, :, None, None] & finite[None]).any(axis=1)
            table = self.finite_by_cand[cand.tobytes()] = table.reshape(-1, len(cand))
        return table

    def large_set(self, cand: np.ndarray, table: np.ndarray) -> _LargeSet:
        """The cache of a large candidate set ``cand`` and eligibility ``table`` (C, K), keyed by the
        table object (the model reuses one per service and candidate set) and the candidates' bytes.
        The entry holds the table, so no other object takes its id while cached; a table whose
        contents changed since gets a new entry."""
        key = (id(table), cand.dtype.str, cand.tobytes())
        hit = self.large.get(key)
        if hit is None or hit.table is not table or not np.array_equal(hit.contents, table):
            where = np.full(self.fac_weight.shape[2] + 1, -1, dtype=np.int64)
            where[cand] = np.arange(len(cand))
            hit = self.large[key] = _LargeSet(table, table.copy(), where)
        return hit

    def any_reachable(self, cand: np.ndarray, table: np.ndarray) -> np.ndarray:
        """Per (pattern, village, column of the eligibility ``table`` (C, K)) row, as in
        :meth:`kept_set`, whether some owned mode reaches some eligible candidate at a finite
        static cost (cached)."""
        hit = self.large_set(cand, table)
        if hit.reach is None:
            hit.reach = (self.reachable(cand) @ table).reshape(-1)  # bool: any of and
        return hit.reach

    def kept_set(self, cand: np.ndarray, table: np.ndarray) -> _KeptSet:
        """The kept candidates of a large candidate set per (pattern, village, column of the
        eligibility ``table`` (C, K)) row, ``(pattern x villages + village) x K + column`` (cached)."""
        hit = self.large_set(cand, table)
        if hit.kept is None:
            weights = self.columns(cand)[:, :, None] * table[:, None, :]
            hit.kept = _KeptSet.of(weights.reshape(len(cand), -1))
        return hit.kept


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
        owned = (
            np.ascontiguousarray(  # (patterns x villages x facilities, modes): a chooser's modes side by side
                (owns.T[:, :, None, None] * mode_weight[:, None]).reshape(len(mode_weight), -1).T
            )
        )
        return _LogitTables(mode_weight, fac_weight, owned, owns, static_min, prior_wait_min)

    def choose(self, prepared: object, who: Choosers) -> tuple[np.ndarray, np.ndarray]:
        """Facility and mode of each chooser, drawn from the logit probabilities (-1: none reachable)."""
        t = prepared
        assert isinstance(t, _LogitTables)
        if len(who.cand) > LARGE_SET and who.eligible is None:
            return self._choose_large(t, who)
        return self._choose_all(t, who)

    def _memory_factor(self, t: _LogitTables, who: Choosers, rows: np.ndarray) -> np.ndarray:
        """Weight factor of the remembered facility for the choosers ``rows`` (its wait vs the prior)."""
        return np.exp(-self.scale_per_min * (who.mem_wait[rows].astype(float) - t.prior_wait_min))

    def _choose_all(self, t: _LogitTables, who: Choosers) -> tuple[np.ndarray, np.ndarray]:
        """The one-stage draw over every candidate."""
        n = len(who.village)
        rows = np.arange(n)
        eligible = who.eligible_of()
        # (C, n): candidates along axis 0, so cumulative sums add whole rows
        w = np.take(t.columns(who.cand), who.pattern * t.fac_weight.shape[1] + who.village, axis=1)
        w *= eligible
        col = _columns(who.cand, who.mem_fac)
        mem = np.flatnonzero(col >= 0)
        w[col[mem], mem] *= self._memory_factor(t, who, mem)
        cum = _cumsum_rows(w)
        total = cum[-1] if w.shape[0] else np.zeros(n)
        fac = np.full(n, -1, dtype=np.int64)
        mode = np.full(n, -1, dtype=np.int64)
        ok = total > 0
        zero = rows[~ok]
        underflow = zero[self._any_finite(t, who, eligible, zero)] if len(zero) else zero
        if ok.any():
            r = rows[ok]
            cum_r, w_r = (cum, w) if len(r) == n else (cum[:, r], w[:, r])
            k, within = _pick(cum_r, w_r, who.u[r] * total[r])
            fac[r] = who.cand[k]
            mode[r] = self._mode(t, who.pattern[r], who.village[r], fac[r], within)
        if len(underflow):  # every weight below float range: the same draw on exact log-weights
            fac[underflow], mode[underflow] = self._exact(t, who, eligible, underflow)
        return fac, mode

    def _choose_large(self, t: _LogitTables, who: Choosers) -> tuple[np.ndarray, np.ndarray]:
        """The two-stage draw (module docstring) of the choosers who can reach an eligible candidate
        or were referred to one; the others (errands no facility can complete from where they live,
        left pending day after day) get -1 at once."""
        assert who.table is not None and who.column is not None and who.forced is not None
        pv = who.pattern * t.fac_weight.shape[1] + who.village
        row = (pv * who.table.shape[1] + who.column).astype(np.int64, copy=False)
        live = t.any_reachable(who.cand, who.table)[row] | (who.forced >= 0)
        if live.all():
            return self._two_stage(t, who, row, pv)
        fac = np.full(len(row), -1, dtype=np.int64)
        mode = np.full(len(row), -1, dtype=np.int64)
        r = np.flatnonzero(live)
        if len(r):
            fac[r], mode[r] = self._two_stage(t, who.rows(r), row[r], pv[r])
        return fac, mode

    def _two_stage(
        self, t: _LogitTables, who: Choosers, row: np.ndarray, pv: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The two-stage draw of choosers at ``row`` of the kept set (``pv``: pattern x villages +
        village). The uniform's interval is split into the kept candidates (region 0), a remembered
        left-out facility (1) and the other left-out ones (2)."""
        assert who.table is not None and who.column is not None and who.forced is not None
        large = t.large_set(who.cand, who.table)
        kept = t.kept_set(who.cand, who.table)
        col = large.where[who.mem_fac]  # the remembered facility's position (-1: none)
        factor = np.ones(len(row))
        mem = np.flatnonzero(col >= 0)
        factor[mem] = self._memory_factor(t, who, mem)
        fac, mode, region, scaled = kept_pick(
            kept.weight,
            kept.pos,
            kept.slot,
            kept.left_out,
            kept.left_total,
            who.cand.astype(np.int64, copy=False),
            row,
            col,
            factor,
            who.u.astype(float, copy=False),
            who.forced.astype(np.int64, copy=False),
            who.mem_fac.astype(np.int64, copy=False),
            t.owned_weight,
            (pv * t.fac_weight.shape[2]).astype(np.int64, copy=False),
        )
        r = np.flatnonzero(region == -3)
        if len(r):  # the other left-out candidates, their weights below float range
            out = np.take(kept.left_out[:-1], row[r], axis=1) > 0
            out[col[r], np.arange(len(r))] &= col[r] < 0  # not the remembered one (col -1: the last row)
            fac[r], mode[r] = self._choose_all(t, who.subset(r, eligible=out, u=scaled[r]))
        r = np.flatnonzero(region == -1)
        if len(r):
            fac[r], mode[r] = self._referred(t, who, r)
        r = np.flatnonzero(region == -2)
        if len(r):  # the one-stage draw on exact log-weights
            fac[r], mode[r] = self._choose_all(t, who.subset(r))
        return fac, mode

    def _referred(self, t: _LogitTables, who: Choosers, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Choosers ``r`` whose referral names the one facility: it, if reachable, and a mode
        (the one-stage draw where its weight is below float range)."""
        assert who.forced is not None
        pos = _columns(who.cand, who.forced[r])
        row = who.pattern[r] * t.fac_weight.shape[1] + who.village[r]
        w = np.where(pos >= 0, t.columns(who.cand)[np.maximum(pos, 0), row], 0.0)
        fac = np.full(len(r), -1, dtype=np.int64)
        mode = np.full(len(r), -1, dtype=np.int64)
        ok = w > 0
        fac[ok] = who.forced[r][ok]
        mode[ok] = self._mode(t, who.pattern[r][ok], who.village[r][ok], fac[ok], who.u[r][ok])
        rest = np.flatnonzero(~ok & (pos >= 0))
        if len(rest):
            fac[rest], mode[rest] = self._choose_all(t, who.subset(r[rest]))
        return fac, mode

    def _mode(
        self, t: _LogitTables, pattern: np.ndarray, village: np.ndarray, fac: np.ndarray, within: np.ndarray
    ) -> np.ndarray:
        """Mode at the chosen facility by the rescaled uniform ``within`` over the owned modes' weights."""
        _, v, f = t.fac_weight.shape
        return scaled_pick(t.owned_weight, ((pattern * v + village) * f + fac).astype(np.int64), within)

    def _any_finite(self, t: _LogitTables, who: Choosers, eligible: np.ndarray, r: np.ndarray) -> np.ndarray:
        """Whether each chooser of ``r`` has an allowed (candidate, mode) of finite cost (where
        ``_costs`` is finite somewhere), found on booleans without building the costs."""
        row = who.pattern[r] * t.fac_weight.shape[1] + who.village[r]
        ok = t.reachable(who.cand)[row] & eligible[:, r].T
        remembered = who.cand[None, :] == who.mem_fac[r, None]
        ok &= ~remembered | np.isfinite(who.mem_wait[r, None])
        return np.asarray(ok.any(axis=1))

    def _costs(self, t: _LogitTables, who: Choosers, eligible: np.ndarray, r: np.ndarray) -> np.ndarray:
        """(rows, C, modes) generalised cost, inf where not allowed."""
        static = t.static_min[:, who.village[r][:, None], who.cand[None, :]].transpose(1, 2, 0)
        expect = np.where(who.cand[None, :] == who.mem_fac[r, None], who.mem_wait[r, None], t.prior_wait_min)
        cost = static + expect[:, :, None]
        allowed = eligible[:, r].T[:, :, None] & t.owns[who.pattern[r]][:, None, :]
        return np.where(allowed, cost, np.inf)

    def _exact(
        self, t: _LogitTables, who: Choosers, eligible: np.ndarray, r: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        cost = self._costs(t, who, eligible, r).reshape(len(r), -1)
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
        cost = np.where(who.eligible_of().T, cost, np.inf)
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
