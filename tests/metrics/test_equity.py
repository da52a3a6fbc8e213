"""Gini, Theil and Lorenz on values with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.metrics import gini, lorenz, theil


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
