"""Choice rules against independent references: analytical logit probabilities, brute-force least cost."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.model.choice import Choosers, LogitChoice, NearestChoice
from sim.model.streams import Streams

SCALE = 0.15
PRIOR = 10.0


def _logit_reference(static, owns_row, village, cand, eligible_row, mem_fac, mem_wait, scale) -> np.ndarray:
    """P(facility k, mode m) by the logit formula over the allowed alternatives, (C, modes)."""
    cost = static[:, village, cand].T + np.where(cand == mem_fac, mem_wait, PRIOR)[:, None]
    allowed = eligible_row[:, None] & owns_row[None, :] & np.isfinite(cost)
    util = np.where(allowed, -scale * cost, -np.inf)
    p = np.exp(util - util[allowed].max())
    return p / p.sum()


def _choosers(n: int, village: int, pattern: int, cand, eligible_row, mem_fac: int, mem_wait: float, seed=1):
    return Choosers(
        village=np.full(n, village),
        pattern=np.full(n, pattern),
        cand=np.asarray(cand),
        eligible=np.tile(np.asarray(eligible_row)[:, None], (1, n)),
        mem_fac=np.full(n, mem_fac),
        mem_wait=np.full(n, mem_wait, np.float32),
        u=Streams(seed).uniform("test.choice", np.arange(n)),
    )


def _static() -> np.ndarray:
    rng = np.random.default_rng(4)
    static = rng.uniform(20, 60, (3, 2, 5))  # (modes, villages, facilities)
    static[2, 0, 1] = np.inf  # car cannot reach facility 1 from village 0
    return static


def test_logit_frequencies_match_the_logit_formula() -> None:
    static, owns = _static(), np.array([[True, False, False], [True, True, True]])
    cand = np.array([0, 1, 3, 4])
    eligible = np.array([True, True, False, True])
    rule = LogitChoice(SCALE)
    prepared = rule.prepare(static, owns, PRIOR)
    n = 200_000
    for pattern, mem_fac, mem_wait in ((1, 4, 35.0), (0, -1, 0.0), (1, 0, 1.0)):
        fac, mode = rule.choose(prepared, _choosers(n, 0, pattern, cand, eligible, mem_fac, mem_wait))
        p = _logit_reference(static, owns[pattern], 0, cand, eligible, mem_fac, mem_wait, SCALE)
        k = np.searchsorted(cand, fac)
        observed = np.bincount(k * 3 + mode, minlength=p.size).reshape(p.shape)
        assert observed[p == 0].sum() == 0  # nothing ineligible, unowned or unreachable is chosen
        positive = p > 0
        assert stats.chisquare(observed[positive], n * p[positive]).pvalue > 1e-4


def test_logit_far_alternatives_below_float_range_are_still_drawn_correctly() -> None:
    static = np.array([[[1.0, 9000.0, 9010.0]]])  # one mode, one village; facility 0 not eligible
    rule = LogitChoice(0.2)
    prepared = rule.prepare(static, np.array([[True]]), PRIOR)
    n = 50_000
    fac, mode = rule.choose(prepared, _choosers(n, 0, 0, [0, 1, 2], np.array([False, True, True]), -1, 0.0))
    assert set(np.unique(mode)) == {0}
    p1 = 1 / (1 + np.exp(-0.2 * 10))
    assert abs(np.mean(fac == 1) - p1) < 4 * np.sqrt(p1 * (1 - p1) / n)


def test_no_eligible_alternative_gives_minus_one() -> None:
    static = _static()
    owns = np.array([[True, False, True]])
    for rule in (LogitChoice(SCALE), NearestChoice()):
        prepared = rule.prepare(static, owns, PRIOR)
        fac, mode = rule.choose(prepared, _choosers(5, 0, 0, [1, 2], np.array([False, False]), -1, 0.0))
        assert (fac == -1).all() and (mode == -1).all()


def test_an_alternative_nobody_can_use_changes_no_decision() -> None:
    static = _static()
    owns = np.array([[True, True, True]])
    with_unusable = np.concatenate([static, np.full((1, 2, 5), np.inf)])  # a fourth mode, never reachable
    owns4 = np.array([[True, True, True, True]])
    rule = LogitChoice(SCALE)
    who = _choosers(20_000, 1, 0, [0, 2, 3, 4], np.array([True, True, True, True]), 2, 50.0)
    a = rule.choose(rule.prepare(static, owns, PRIOR), who)
    b = rule.choose(rule.prepare(with_unusable, owns4, PRIOR), who)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n_modes=st.integers(1, 4), n_fac=st.integers(1, 6))
def test_least_cost_matches_brute_force(seed: int, n_modes: int, n_fac: int) -> None:
    rng = np.random.default_rng(seed)
    static = np.round(rng.uniform(5, 50, (n_modes, 3, n_fac)))  # rounded: ties happen
    static[rng.random(static.shape) < 0.2] = np.inf
    owns = rng.random((4, n_modes)) < 0.6
    owns[:, 0] = True
    n = 30
    cand = np.sort(rng.choice(n_fac, size=rng.integers(1, n_fac + 1), replace=False))
    who = Choosers(
        village=rng.integers(0, 3, n),
        pattern=rng.integers(0, 4, n),
        cand=cand,
        eligible=rng.random((len(cand), n)) < 0.7,
        mem_fac=rng.integers(-1, n_fac, n),
        mem_wait=np.round(rng.uniform(0, 30, n)).astype(np.float32),
        u=np.zeros(n),
    )
    fac, mode = NearestChoice().choose(NearestChoice().prepare(static, owns, PRIOR), who)
    for i in range(n):
        best, pick = np.inf, (-1, -1)
        for k, f in enumerate(cand):  # facility-major order, ties to the first
            for m in range(n_modes):
                if not (who.eligible[k, i] and owns[who.pattern[i], m]):
                    continue
                c = static[m, who.village[i], f] + (who.mem_wait[i] if f == who.mem_fac[i] else PRIOR)
                if c < best:
                    best, pick = c, (f, m)
        assert (fac[i], mode[i]) == pick
