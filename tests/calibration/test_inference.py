"""Emulator LOO, history matching and ABC-SMC on known functions and an analytic posterior."""

from __future__ import annotations

import numpy as np
import pytest

from sim.calibration.abc import abc_smc
from sim.calibration.emulator import _fit_kernel, _group, fit_emulator
from sim.calibration.history import Wave, kth_for, nonimplausible, sample_space


def _design(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2))
    y = np.column_stack([np.sin(4 * x[:, 0]) + x[:, 1], 3 * x[:, 0] ** 2]) + rng.normal(0, 0.05, (n, 2))
    return x, y


def test_closed_form_loo_equals_refitting_without_each_point() -> None:
    x, y = _design()
    z = (y[:, :1] - y[:, 0].mean()) / y[:, 0].std()
    signal, length, noise = _fit_kernel(x, z, 0)
    group = _group([0], x, y[:, :1], signal, length, noise)
    scale = group.scale[0]
    for i in (0, 7, 29):
        keep = np.arange(len(x)) != i
        # brute force: the same hyperparameters and constant mean, without point i
        d = (x[keep, None, :] - x[None, keep, :]) / length
        cov = scale**2 * (
            signal * np.exp(-0.5 * (d**2).sum(-1)) + (noise + 1e-10 * signal) * np.eye(len(x) - 1)
        )
        k = scale**2 * signal * np.exp(-0.5 * (((x[i] - x[keep]) / length) ** 2).sum(-1))
        mean = group.centre[0] + k @ np.linalg.solve(cov, y[keep, 0] - group.centre[0])
        var = scale**2 * (signal + noise + 1e-10 * signal) - k @ np.linalg.solve(cov, k)
        assert group.loo[i, 0] == pytest.approx((y[i, 0] - mean) / np.sqrt(var), rel=1e-6)


def test_emulator_predicts_a_known_function_and_its_loo_errors_are_standard() -> None:
    x, y = _design(60)
    emulator = fit_emulator(x, y, ["a/one/m", "b/two/m"])
    grid = np.random.default_rng(1).random((200, 2))
    mean, var = emulator.predict(grid)
    truth = np.column_stack([np.sin(4 * grid[:, 0]) + grid[:, 1], 3 * grid[:, 0] ** 2])
    assert np.abs(mean - truth).max() < 0.15
    z = (mean - truth) / np.sqrt(var + 0.05**2)
    assert np.mean(np.abs(z) < 3) > 0.95
    table = {row["statistic"]: row for row in emulator.loo_table()}
    assert all(row["trusted"] == 1 for row in table.values())
    assert 0.6 < table["a/one/m"]["loo_rms"] < 1.5
    sub = emulator.subset(["b/two/m"])
    assert np.allclose(sub.predict(grid)[0][:, 0], mean[:, 1])


def test_history_matching_keeps_the_region_within_the_cutoff() -> None:
    x = np.random.default_rng(2).random((40, 1))
    y = 2 * x  # statistic f(x) = 2x, observed 0.8 +- 0.05: non-implausible x in 0.4 +- 3 * 0.025
    emulator = fit_emulator(x, y, ["s/x/m"])
    wave = Wave(emulator, np.array([0.8]), np.array([0.05**2]), 3.0)
    grid = np.linspace(0, 1, 1001)[:, None]
    keep = nonimplausible([wave], grid)
    inside = np.abs(grid[:, 0] - 0.4) < 0.074
    outside = np.abs(grid[:, 0] - 0.4) > 0.076
    assert keep[inside].all() and not keep[outside].any()
    points, share = sample_space([wave], 50, 1, seed=0)
    assert len(points) == 50 and share == pytest.approx(0.15, abs=0.01)
    assert kth_for(1, 3.0) == 1 and kth_for(500, 3.0) > 3


def test_abc_smc_recovers_an_analytic_normal_posterior() -> None:
    # y_1..y_n ~ N(mu, sd^2), flat prior on [0, 1]: posterior N(ybar, sd^2/n) (truncation negligible)
    rng = np.random.default_rng(5)
    obs = rng.normal(0.4, 0.3, 12)
    sd = 0.3

    def prepare(points: np.ndarray):
        resid = np.sum((obs[None, :] - points[:, [0]]) ** 2, axis=1) / sd**2
        return lambda eps: -0.5 * resid / eps**2 - len(obs) * np.log(eps)

    result = abc_smc(prepare, rng.random((3000, 1)), lambda p: np.all((p >= 0) & (p <= 1), axis=1), rng=rng)
    assert result.epsilons[-1] == 1.0 and result.weights.sum() == pytest.approx(1.0)
    post_sd = sd / np.sqrt(len(obs))
    draws = result.particles[:, 0]
    assert np.average(draws, weights=result.weights) == pytest.approx(obs.mean(), abs=0.1 * post_sd)
    assert np.sqrt(np.cov(draws, aweights=result.weights)) == pytest.approx(post_sd, rel=0.1)
    q05, q95 = np.quantile(draws, [0.05, 0.95])
    assert q05 == pytest.approx(obs.mean() - 1.645 * post_sd, abs=0.15 * post_sd)
    assert q95 == pytest.approx(obs.mean() + 1.645 * post_sd, abs=0.15 * post_sd)
