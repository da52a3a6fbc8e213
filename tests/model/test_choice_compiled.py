"""The compiled logit draws (``sim/model/_logit.pyx``) give the numpy versions' results bit for bit."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sim.model import choice


@pytest.fixture(scope="module")
def compiled() -> object:
    if choice._compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.model._logit was not built"
        pytest.skip("installed without a C compiler: only the numpy draws exist")
    return choice._compiled


def test_totals_picks_and_mode_picks_equal_the_numpy_versions(compiled: object) -> None:
    """Random weights with zero columns, tiny (1e-300) weights, a remembered row times a factor and
    targets next to the total (the rounding edge where the last positive row is taken)."""
    rng = np.random.default_rng(3)
    for trial in range(400):
        m, n_rows, n = int(rng.integers(1, 40)), int(rng.integers(1, 30)), int(rng.integers(1, 200))
        weight = rng.exponential(1.0, (n_rows, m)) * (rng.random((n_rows, m)) < 0.7)
        weight[0] = 0.0 if trial % 7 == 0 else weight[0]
        weight *= 1e-300 if trial % 11 == 0 else 1.0
        col = rng.integers(0, n_rows, n).astype(np.int64)
        slot = np.where(rng.random(n) < 0.4, rng.integers(0, m, n), -1).astype(np.int32)
        factor = np.exp(rng.normal(0.0, 2.0, n))
        total = choice.row_totals_numpy(weight, col, slot, factor)
        assert compiled.row_totals(weight, col, slot, factor).tobytes() == total.tobytes()  # type: ignore[attr-defined]
        target = np.nextafter(total, 0.0) if trial % 5 == 0 else rng.random(n) * total
        ok = total > 0  # a draw needs some weight
        k_np, within_np = choice.row_pick_numpy(weight, col, slot, factor, target)
        k_c, within_c = compiled.row_pick(weight, col, slot, factor, target)  # type: ignore[attr-defined]
        np.testing.assert_array_equal(k_c[ok], k_np[ok])
        assert within_c[ok].tobytes() == within_np[ok].tobytes()
        within = rng.random(n)
        np.testing.assert_array_equal(
            compiled.scaled_pick(weight, col, within),  # type: ignore[attr-defined]
            choice.scaled_pick_numpy(weight, col, within),
        )


def _kept_pick_case(rng: np.random.Generator, trial: int) -> tuple:
    """Random arguments of ``kept_pick``: kept sets of random weights (with ties, zeros, a row of no
    weight, weights near the bottom of float range), choosers without memory, remembering a kept, a
    left-out or an absent facility, referred, with uniforms next to 0 and 1; now and then a left-out
    total above the left-out weights, so that region 2 finds no weight (region -3)."""
    c, n_rows = int(rng.integers(2, 90)), int(rng.integers(1, 12))
    n_modes, n = int(rng.integers(1, 5)), int(rng.integers(1, 300))
    n_fac = c + int(rng.integers(0, 5))
    cand = np.sort(rng.choice(n_fac, c, replace=False)).astype(np.int64)
    mode_w = rng.exponential(1.0, (n_rows, c, n_modes)) ** 3 * (rng.random((n_rows, c, n_modes)) < 0.7)
    if trial % 4 == 0:
        mode_w = np.round(mode_w)  # ties and zeros
    if trial % 9 == 0:
        mode_w *= 1e-305  # sums near or below the smallest normal
    if trial % 13 == 0:
        mode_w[int(rng.integers(n_rows))] = 0.0  # a row with no weight
    weights = mode_w.sum(axis=2).T  # (C, rows)
    kept = choice._KeptSet.of(weights)
    owned = np.zeros((n_rows * n_fac, n_modes))
    owned[(np.arange(n_rows)[:, None] * n_fac + cand[None, :]).ravel()] = mode_w.reshape(-1, n_modes)
    row = rng.integers(0, n_rows, n).astype(np.int64)
    kind = rng.integers(0, 5, n)  # none, a kept candidate, a left-out one, any candidate, not one
    some_kept = kept.pos[row, rng.integers(0, kept.pos.shape[1], n)]
    out = kept.left_out[:-1, row] > 0
    some_out = np.where(out.any(axis=0), np.argmax(out * rng.random(out.shape), axis=0), c)
    mem_pos = np.select([kind == 1, kind == 2, kind == 3], [some_kept, some_out, rng.integers(0, c, n)], c)
    mem_fac = np.where(mem_pos < c, cand[np.minimum(mem_pos, c - 1)], -1)
    absent = np.setdiff1d(np.arange(n_fac), cand)
    if len(absent):
        mem_fac = np.where(kind == 4, absent[rng.integers(0, len(absent), n)], mem_fac)
    where = np.full(n_fac + 1, -1, dtype=np.int64)
    where[cand] = np.arange(c)
    col = where[mem_fac]
    factor = np.where(col >= 0, np.exp(rng.normal(0.0, 3.0, n)), 1.0)
    factor[(col >= 0) & (rng.random(n) < 0.05)] = 1e-310
    u = rng.random(n)
    u[rng.random(n) < 0.05] = np.nextafter(1.0, 0.0)
    u[rng.random(n) < 0.05] = 1e-17
    forced = np.where(rng.random(n) < 0.05, cand[rng.integers(0, c, n)], -1).astype(np.int64)
    base = row * n_fac
    left_total = kept.left_total
    if trial % 17 == 0:  # more left-out weight than the left-out candidates carry: region -3 occurs
        left_total = left_total + 1.0
    return (kept.weight, kept.pos, kept.slot, kept.left_out, left_total, cand, row, col, factor, u,
            forced, mem_fac.astype(np.int64), owned, base)  # fmt: skip


def test_kept_pick_equals_the_numpy_version(compiled: object) -> None:
    """The first stage of the two-stage draw, compiled, gives the numpy version's regions, facilities,
    modes and rescaled uniforms bit for bit, and every region occurs."""
    rng = np.random.default_rng(8)
    seen: set[int] = set()
    for trial in range(400):
        args = _kept_pick_case(rng, trial)
        expected = choice.kept_pick_numpy(*args)
        got = compiled.kept_pick(*args)  # type: ignore[attr-defined]
        for a, b in zip(got, expected, strict=True):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), trial
        seen |= set(expected[2].tolist())
    assert seen == {-3, -2, -1, 0, 1, 2}


def test_two_stage_draw_equals_the_numpy_version(compiled: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole draw of a large choice set (choosers of every kind) with the compiled first stage
    and with the numpy one."""
    from tests.model.test_choice_large import N_FAC, PRIOR, SCALE, _choosers, _world

    static, owns, table = _world()
    static[0, 1, :] = np.inf  # pattern 0 reaches nothing from village 1
    static[:, 0, 7] = 4000.0  # facility 7: weight below float range from village 0
    rule = choice.LogitChoice(SCALE)
    n = 20_000
    rng = np.random.default_rng(12)
    who = _choosers(n, 0, 1, 0, -1, 0.0, -1, table)
    who = choice.Choosers(
        **{
            **who.__dict__,
            "village": rng.integers(0, 2, n),
            "pattern": rng.integers(0, 2, n),
            "column": rng.integers(0, 2, n),
            "mem_fac": np.where(rng.random(n) < 0.4, rng.integers(0, N_FAC, n), -1).astype(np.int32),
            "mem_wait": rng.uniform(0, 60, n).astype(np.float32),
            "forced": np.where(rng.random(n) < 0.05, rng.integers(0, N_FAC, n), -1).astype(np.int32),
        }
    )
    fac, mode = rule.choose(rule.prepare(static, owns, PRIOR), who)
    monkeypatch.setattr(choice, "kept_pick", choice.kept_pick_numpy)
    fac_np, mode_np = rule.choose(rule.prepare(static, owns, PRIOR), who)
    np.testing.assert_array_equal(fac, fac_np)
    np.testing.assert_array_equal(mode, mode_np)
    assert (fac >= 0).mean() > 0.5
