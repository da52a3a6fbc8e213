"""The two-stage logit draw of large choice sets against the logit formula, choosers of every kind."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.model.choice import KEPT_TAIL_SHARE, LARGE_SET, Choosers, LogitChoice, _KeptSet
from sim.model.streams import Streams

SCALE = 0.15
PRIOR = 10.0
N_FAC = LARGE_SET + 56
#: In place of a remembered facility: the left-out one of largest weight.
HEAVIEST_LEFT_OUT = -2


def _world() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(modes, villages, facilities) costs rising with distance, so that most facilities are left out;
    ownership patterns; a (C, 2) eligibility table (column 1 excludes the cheapest facilities)."""
    rng = np.random.default_rng(7)
    where = np.sort(rng.uniform(0, 60, N_FAC))
    village = np.array([5.0, 40.0])
    static = np.stack([4 * np.abs(village[:, None] - where[None, :]), 2 * np.abs(village[:, None] - where)])
    static[1, 0, 3] = np.inf  # the second mode cannot reach facility 3 from village 0
    owns = np.array([[True, False], [True, True]])
    table = np.ones((N_FAC, 2), dtype=bool)
    table[::3, 1] = False
    return static, owns, table


def _reference(static, owns_row, village, eligible_row, mem_fac, mem_wait) -> np.ndarray:
    """P(facility, mode), (C, modes), by the logit formula over the allowed alternatives."""
    cand = np.arange(N_FAC)
    cost = static[:, village, :].T + np.where(cand == mem_fac, mem_wait, PRIOR)[:, None]
    allowed = eligible_row[:, None] & owns_row[None, :] & np.isfinite(cost)
    util = np.where(allowed, -SCALE * cost, -np.inf)
    p = np.exp(util - util[allowed].max())
    return p / p.sum()


def _choosers(n, village, pattern, column, mem_fac, mem_wait, forced, table) -> Choosers:
    return Choosers(
        village=np.full(n, village),
        pattern=np.full(n, pattern),
        cand=np.arange(N_FAC),
        eligible=None,
        mem_fac=np.full(n, mem_fac),
        mem_wait=np.full(n, mem_wait, np.float32),
        u=Streams(3).uniform("test.large", np.arange(n)),
        table=table,
        column=np.full(n, column),
        forced=np.full(n, forced),
    )


def test_kept_candidates_leave_out_at_most_the_tail_share() -> None:
    weights = np.random.default_rng(1).exponential(1.0, (N_FAC, 30)) ** 6
    kept = _KeptSet.of(weights)
    assert (kept.left_out.sum(axis=0) <= KEPT_TAIL_SHARE * weights.sum(axis=0) * (1 + 1e-12)).all()
    total = kept.weight.sum(axis=1) + kept.left_total
    assert np.allclose(total, weights.sum(axis=0))
    assert kept.pos.shape[1] < N_FAC  # something is left out
    assert (np.diff(kept.pos, axis=1) >= 0).all()  # facility order kept


@pytest.mark.parametrize(
    ("village", "pattern", "column", "mem_fac", "mem_wait", "forced"),
    [
        (0, 1, 0, -1, 0.0, -1),  # no memory
        (0, 1, 1, 10, 2.0, -1),  # remembers a kept facility, second eligibility column
        (1, 0, 0, HEAVIEST_LEFT_OUT, 0.0, -1),  # remembers a left-out facility, a short wait
        (1, 1, 1, 30, 80.0, -1),  # a long remembered wait
        (0, 1, 0, -1, 0.0, 50),  # a referral names facility 50
    ],
)
def test_two_stage_draw_has_the_logit_probabilities(
    village, pattern, column, mem_fac, mem_wait, forced
) -> None:
    static, owns, table = _world()
    rule = LogitChoice(SCALE)
    prepared = rule.prepare(static, owns, PRIOR)
    row = (pattern * static.shape[1] + village) * table.shape[1] + column
    if mem_fac == HEAVIEST_LEFT_OUT:
        mem_fac = int(np.argmax(prepared.kept_set(np.arange(N_FAC), table).left_out[:-1, row]))
    n = 400_000
    fac, mode = rule.choose(
        prepared, _choosers(n, village, pattern, column, mem_fac, mem_wait, forced, table)
    )
    eligible = table[:, column] if forced < 0 else np.arange(N_FAC) == forced
    joint = _reference(static, owns[pattern], village, eligible, mem_fac, mem_wait)
    observed_joint = np.bincount(fac * 2 + mode, minlength=joint.size).reshape(joint.shape)
    assert observed_joint[joint == 0].sum() == 0  # nothing ineligible, unowned or unreachable is chosen
    observed, p = observed_joint.ravel(), joint.ravel()
    big = n * p >= 5  # chi-square on the alternatives expected 5+ times, the rest pooled
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(n * p[big], n * p[~big].sum())
    keep = exp > 0
    if keep.sum() > 1:
        assert stats.chisquare(obs[keep], exp[keep]).pvalue > 1e-4
    # the left-out tail is drawn too: some choosers land on facilities outside the kept set
    if forced < 0:
        kept = prepared.kept_set(np.arange(N_FAC), table)
        outside = ~np.isin(np.arange(N_FAC), kept.pos[row])
        expected = n * joint[outside].sum()
        assert observed_joint[outside].sum() == pytest.approx(expected, abs=6 * np.sqrt(expected) + 1)


def test_small_sets_take_the_one_stage_draw_unchanged() -> None:
    static, owns, table = _world()
    rule = LogitChoice(SCALE)
    prepared = rule.prepare(static[:, :, :LARGE_SET], owns, PRIOR)
    who = _choosers(5000, 0, 1, 1, 10, 2.0, -1, table[:LARGE_SET])
    who = Choosers(
        **{**who.__dict__, "cand": np.arange(LARGE_SET), "forced": np.where(np.arange(5000) % 7 == 0, 5, -1)}
    )
    a = rule.choose(prepared, who)
    explicit = Choosers(
        **{**who.__dict__, "eligible": who.eligible_of(), "table": None, "column": None, "forced": None}
    )
    b = rule.choose(prepared, explicit)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_choosers_who_reach_nothing_get_none_and_change_no_other_draw() -> None:
    """A chooser whose eligible candidates no owned mode reaches (here: pattern 0 owns only the first
    mode, which reaches no facility from village 1) gets -1, unless a referral names a facility; the
    others draw what they draw without them, bit for bit."""
    static, owns, table = _world()
    static[0, 1, :] = np.inf
    rule = LogitChoice(SCALE)
    prepared = rule.prepare(static, owns, PRIOR)
    n = 3000
    rng = np.random.default_rng(11)
    who = _choosers(n, 0, 1, 0, -1, 0.0, -1, table)
    who = Choosers(
        **{
            **who.__dict__,
            "village": rng.integers(0, 2, n),
            "pattern": rng.integers(0, 2, n),
            "column": rng.integers(0, 2, n),
            "mem_fac": np.where(rng.random(n) < 0.3, rng.integers(0, N_FAC, n), -1),
            "mem_wait": rng.uniform(0, 60, n).astype(np.float32),
            "forced": np.where(rng.random(n) < 0.05, rng.integers(0, N_FAC, n), -1),
        }
    )
    fac, mode = rule.choose(prepared, who)
    stranded = (who.village == 1) & (who.pattern == 0)
    assert stranded.sum() > 100 and (~stranded).sum() > 100
    assert (fac[stranded & (who.forced < 0)] == -1).all() and (mode[stranded & (who.forced < 0)] == -1).all()
    live = np.flatnonzero(~stranded | (who.forced >= 0))
    alone = rule.choose(prepared, who.rows(live))
    assert np.array_equal(fac[live], alone[0]) and np.array_equal(mode[live], alone[1])
    assert (fac[live] >= 0).mean() > 0.9


def test_the_large_set_cache_follows_the_table_object_and_its_contents() -> None:
    """The kept set is cached per eligibility table object and candidates: the same object gives the
    cached one, a copy or other candidates their own, and a table changed in place a new one."""
    static, owns, table = _world()
    prepared = LogitChoice(SCALE).prepare(static, owns, PRIOR)
    cand = np.arange(N_FAC)
    kept = prepared.kept_set(cand, table)
    assert prepared.kept_set(cand.copy(), table) is kept
    copy = table.copy()
    assert prepared.kept_set(cand, copy) is not kept
    assert np.array_equal(prepared.kept_set(cand, copy).pos, kept.pos)
    fewer = cand[1:]
    assert prepared.kept_set(fewer, table[1:]).pos.shape[0] == kept.pos.shape[0]
    table[:, 0] = False
    changed = prepared.kept_set(cand, table)
    assert changed is not kept and (changed.weight[0::2] == 0).all()  # rows of column 0: no weight
    assert not prepared.any_reachable(cand, table)[0::2].any()
