"""Gini, Theil and Lorenz on values with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.metrics import gini, lorenz, theil
from sim.metrics.equity import (
    _curve,
    _gini_of_curve,
    concentration_index,
    equity_profile,
    palma,
    theil_decomposition,
)


def test_equal_values_have_no_inequality() -> None:
    assert gini(np.full(10, 7.0)) == pytest.approx(0.0, abs=1e-12)
    assert theil(np.full(10, 7.0)) == pytest.approx(0.0, abs=1e-12)


def test_one_person_has_everything() -> None:
    x = np.array([0.0, 0.0, 0.0, 1.0])
    assert gini(x) == pytest.approx(0.75)
    assert theil(x) == pytest.approx(np.log(4))


def test_weights_equal_repetition() -> None:
    x = np.array([1.0, 2.0, 5.0])
    w = np.array([2.0, 1.0, 3.0])
    rep = np.repeat(x, w.astype(int))
    assert gini(x, w) == pytest.approx(gini(rep))
    assert theil(x, w) == pytest.approx(theil(rep))


def test_lorenz_runs_from_origin_to_one_and_ignores_nan() -> None:
    pop, val = lorenz(np.array([3.0, np.nan, 1.0, 2.0]))
    assert pop[0] == 0 and val[0] == 0 and pop[-1] == pytest.approx(1) and val[-1] == pytest.approx(1)
    assert len(pop) == 4 and np.all(np.diff(val) >= 0)


def test_empty_input_is_nan() -> None:
    assert np.isnan(gini(np.array([])))
    assert np.isnan(theil(np.array([np.nan])))


# --- decompositions, Palma, concentration index ---------------------------------------------


def test_theil_between_plus_within_is_total_on_random_weighted_data() -> None:
    rng = np.random.default_rng(5)
    x = rng.lognormal(3, 0.7, 2_000)
    g = rng.integers(0, 7, 2_000)
    w = rng.uniform(0.5, 3, 2_000)
    dec = theil_decomposition(x, g, w)
    assert dec["between"] + dec["within"] == pytest.approx(dec["total"], rel=1e-12)
    assert dec["total"] == pytest.approx(theil(x, w), rel=1e-12)
    assert dec["between"] >= 0 and dec["within"] >= 0


def test_theil_decomposition_known_cases() -> None:
    # groups internally equal: all inequality is between groups
    x = np.array([1.0, 1.0, 3.0, 3.0])
    g = np.array([0, 0, 1, 1])
    dec = theil_decomposition(x, g)
    assert dec["within"] == pytest.approx(0, abs=1e-15)
    # hand computation: mu = 2, shares 1/4 and 3/4 -> 1/4 ln(1/2) + 3/4 ln(3/2)
    assert dec["between"] == pytest.approx(0.25 * np.log(0.5) + 0.75 * np.log(1.5))
    # same group means: all inequality is within groups
    dec = theil_decomposition(np.array([1.0, 3.0, 3.0, 1.0]), g)
    assert dec["between"] == pytest.approx(0, abs=1e-15)
    assert dec["within"] == pytest.approx(theil(np.array([1.0, 3.0])))


def test_palma_known_values() -> None:
    x = np.arange(1.0, 11.0)  # bottom 40% hold 1+2+3+4 = 10, top 10% hold 10
    assert palma(x) == pytest.approx(1.0)
    assert palma(np.full(20, 4.0)) == pytest.approx(0.1 / 0.4)
    # weights act as repetition
    w = np.array([3.0, 1.0, 2.0, 4.0])
    v = np.array([2.0, 9.0, 4.0, 1.0])
    assert palma(v, w) == pytest.approx(palma(np.repeat(v, w.astype(int))))


def test_concentration_index_two_groups_by_hand_and_by_curve() -> None:
    # young (rank group 0) burden 1, old (1) burden 3, equal numbers: CI = 0.25
    h = np.array([1.0, 1.0, 3.0, 3.0])
    age = np.array([0, 0, 1, 1])
    assert concentration_index(h, age) == pytest.approx(0.25)
    assert concentration_index(h[::-1], age) == pytest.approx(-0.25)
    assert concentration_index(np.full(4, 2.0), age) == pytest.approx(0.0, abs=1e-15)
    # independent reference: 1 - 2 x area under the concentration curve over ordered groups
    rng = np.random.default_rng(2)
    h = rng.gamma(2, 10, 500)
    age = rng.integers(0, 6, 500)
    w = rng.uniform(1, 4, 500)
    wg = np.bincount(age, weights=w)
    hg = np.bincount(age, weights=w * h)
    pop = np.concatenate([[0], np.cumsum(wg) / wg.sum()])
    cum = np.concatenate([[0], np.cumsum(hg) / hg.sum()])
    area = np.sum(np.diff(pop) * (cum[1:] + cum[:-1]) / 2)
    assert concentration_index(h, age, w) == pytest.approx(1 - 2 * area, rel=1e-10)


def test_profile_reports_every_measure_and_nothing_for_no_data() -> None:
    x = np.array([10.0, 20.0, 30.0, np.nan])
    w = np.ones(4)
    codes = np.array([0, 0, 1, 1])
    prof = equity_profile(x, w, groupings={"island": codes}, age_code=codes)
    assert prof["gini"] == pytest.approx(gini(x), abs=1e-6)
    total = prof["theil_between_island"] + prof["theil_within_island"]
    assert total == pytest.approx(prof["theil"], abs=2e-6)
    empty = equity_profile(np.full(4, np.nan), w, groupings={"island": codes}, age_code=codes)
    assert all(v is None for v in empty.values())


def test_lorenz_curve_of_equal_weights_sorts_values_directly_with_the_same_result() -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.exponential(20.0, 5000), np.full(300, 12.5)])  # ties included
    w = np.full(len(x), 2.5)
    order = np.argsort(x)
    pop = np.concatenate([[0.0], np.cumsum(w[order])])
    val = np.concatenate([[0.0], np.cumsum(x[order] * w[order])])
    got_pop, got_val = _curve(x, w)
    np.testing.assert_array_equal(got_pop, pop / pop[-1])
    np.testing.assert_array_equal(got_val, val / val[-1])
    # unequal weights take the permutation; the Gini agrees with the stable-sort lorenz()
    w2 = rng.uniform(0.5, 2.0, len(x))
    assert _gini_of_curve(*_curve(x, w2)) == pytest.approx(gini(x, w2), rel=1e-12)
