"""Gaussian-process emulators, one per summary statistic, with leave-one-out diagnostics.

Each statistic gets scikit-learn's ``GaussianProcessRegressor`` with a constant times an
anisotropic squared-exponential kernel plus white noise (the runs' stochastic spread), on
inputs in the prior's unit cube. Predictions give the mean and variance of the *expected*
statistic (the white-noise term is left out); leave-one-out errors use the closed form
(Rasmussen and Williams, "Gaussian Processes for Machine Learning", 2006, section 5.4.2).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, solve_triangular

__all__ = ["Emulator", "StatEmulator", "fit_emulator"]


@dataclass(frozen=True)
class StatEmulator:
    """One fitted GP in closed form (inputs in the unit cube, outputs in the statistic's unit).

    Attributes:
        length: length scales per input.
        signal: signal variance (statistic units squared).
        noise: white-noise variance of one run (statistic units squared).
        mean: the constant prior mean (training mean).
        x: training inputs (n, k).
        chol: lower Cholesky factor of the training covariance (signal + noise).
        alpha: covariance inverse times centred training outputs.
        loo: standardised leave-one-out errors of the training points (n,).
    """

    length: np.ndarray
    signal: float
    noise: float
    mean: float
    x: np.ndarray
    chol: np.ndarray
    alpha: np.ndarray
    loo: np.ndarray

    def _cross(self, x: np.ndarray) -> np.ndarray:
        d = (x[:, None, :] - self.x[None, :, :]) / self.length
        return self.signal * np.exp(-0.5 * np.einsum("ijk,ijk->ij", d, d))

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the expected statistic at unit-cube points ``x`` (m, k)."""
        cross = self._cross(x)
        mean = self.mean + cross @ self.alpha
        v = solve_triangular(self.chol, cross.T, lower=True)
        var = np.maximum(self.signal - np.einsum("ij,ij->j", v, v), 1e-12 * max(self.signal, 1e-300))
        return mean, var


@dataclass(frozen=True)
class Emulator:
    """Emulators of every statistic of one wave.

    Attributes:
        names: statistic names, in column order.
        stats: one emulator per statistic.
    """

    names: list[str]
    stats: list[StatEmulator]

    def predict(self, x: np.ndarray, *, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """Means and variances (m, statistics) at unit-cube points ``x`` (m, k), in chunks of points."""
        means = np.empty((len(x), len(self.stats)))
        variances = np.empty_like(means)
        for start in range(0, len(x), chunk):
            part = x[start : start + chunk]
            for j, stat in enumerate(self.stats):
                means[start : start + chunk, j], variances[start : start + chunk, j] = stat.predict(part)
        return means, variances

    def loo_table(self) -> list[dict[str, float | str | int]]:
        """Per statistic: RMS of standardised LOO errors, share beyond 3 and whether it is trusted.

        An emulator is not trusted when more than 5% of its leave-one-out errors (and at least 2)
        lie beyond 3 standard errors.
        """
        rows: list[dict[str, float | str | int]] = []
        for name, stat in zip(self.names, self.stats, strict=True):
            beyond = int(np.sum(np.abs(stat.loo) > 3))
            rows.append(
                {
                    "statistic": name,
                    "loo_rms": float(np.sqrt(np.mean(stat.loo**2))),
                    "loo_beyond_3": beyond,
                    "trusted": int(not (beyond >= 2 and beyond > 0.05 * len(stat.loo))),
                }
            )
        return rows


def _fit_one(x: np.ndarray, y: np.ndarray, seed: int) -> StatEmulator:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    centre = float(np.mean(y))
    scale = float(np.std(y))
    if not scale > 0:
        scale = max(abs(centre), 1.0) * 1e-6
    z = (y - centre) / scale
    k = x.shape[1]
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(k, 0.4), (0.03, 30.0)) + WhiteKernel(
        0.1, (1e-6, 10.0)
    )
    gp = GaussianProcessRegressor(kernel, normalize_y=False, n_restarts_optimizer=1, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x, z)
    fitted = gp.kernel_
    signal = float(fitted.k1.k1.constant_value) * scale**2
    length = np.atleast_1d(np.asarray(fitted.k1.k2.length_scale, dtype=float))
    noise = float(fitted.k2.noise_level) * scale**2
    d = (x[:, None, :] - x[None, :, :]) / length
    cov = signal * np.exp(-0.5 * np.einsum("ijk,ijk->ij", d, d)) + (noise + 1e-10 * signal) * np.eye(len(x))
    chol = np.linalg.cholesky(cov)
    resid = y - centre
    alpha = cho_solve((chol, True), resid)
    inverse = cho_solve((chol, True), np.eye(len(x)))
    diag = np.diag(inverse)
    loo = (alpha / diag) / np.sqrt(1.0 / diag)  # LOO residual over its predictive sd (R&W eq. 5.12)
    return StatEmulator(length, signal, noise, centre, x.copy(), chol, alpha, loo)


def fit_emulator(x: np.ndarray, y: np.ndarray, names: list[str], *, seed: int = 0) -> Emulator:
    """Fit one GP per column of ``y``.

    Args:
        x: design points in the prior's unit cube, (n, k).
        y: statistics of the runs at those points, (n, statistics); rows with NaN are left out
            per statistic.
        names: statistic names.
        seed: seed of the optimiser's restarts.
    """
    stats: list[StatEmulator] = []
    for j in range(y.shape[1]):
        ok = np.isfinite(y[:, j])
        stats.append(_fit_one(x[ok], y[ok, j], seed))
    return Emulator(list(names), stats)
