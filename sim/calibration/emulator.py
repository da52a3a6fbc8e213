"""Gaussian-process emulators, one per summary statistic, with leave-one-out diagnostics.

Each statistic gets scikit-learn's ``GaussianProcessRegressor`` with a constant times an
anisotropic squared-exponential kernel plus white noise (the runs' stochastic spread), on
inputs in the prior's unit cube. Predictions give the mean and variance of the *expected*
statistic (the white-noise term is left out); leave-one-out errors use the closed form
(Rasmussen and Williams, "Gaussian Processes for Machine Learning", 2006, section 5.4.2).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, solve_triangular

__all__ = ["Emulator", "GroupEmulator", "fit_emulator"]


@dataclass(frozen=True)
class GroupEmulator:
    """GPs of statistics sharing training points and kernel hyperparameters, in closed form.

    Statistic j has covariance ``scale_j**2 * (signal * k(x, x') + noise * [x == x'])`` (a
    squared-exponential ``k`` with ``length`` scales, inputs in the unit cube) around its constant
    mean ``centre_j``; one Cholesky factor serves every statistic of the group.

    Attributes:
        columns: the statistics' column positions in the emulator.
        x: training inputs (n, k).
        length: length scales per input.
        signal: signal variance relative to each statistic's scale squared.
        noise: white-noise variance of one run relative to each statistic's scale squared.
        chol: lower Cholesky factor of ``signal * K + noise * I``.
        beta: that matrix's inverse times the centred training outputs, (n, statistics).
        centre: the statistics' constant means.
        scale: the statistics' scales (training standard deviations).
        loo: standardised leave-one-out errors, (n, statistics).
    """

    columns: np.ndarray
    x: np.ndarray
    length: np.ndarray
    signal: float
    noise: float
    chol: np.ndarray
    beta: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    loo: np.ndarray

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means and variances (m, statistics) of the expected statistics at unit-cube points ``x``."""
        d = (x[:, None, :] - self.x[None, :, :]) / self.length
        cross = self.signal * np.exp(-0.5 * np.einsum("ijk,ijk->ij", d, d))
        mean = self.centre + cross @ self.beta
        v = solve_triangular(self.chol, cross.T, lower=True)
        unit = np.maximum(self.signal - np.einsum("ij,ij->j", v, v), 1e-12 * self.signal)
        return mean, unit[:, None] * self.scale[None, :] ** 2


@dataclass(frozen=True)
class Emulator:
    """Emulators of every statistic of one wave.

    Attributes:
        names: statistic names, in column order.
        groups: GPs by group of statistics sharing training points and hyperparameters.
    """

    names: list[str]
    groups: list[GroupEmulator]

    def predict(self, x: np.ndarray, *, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Means and variances (m, statistics) at unit-cube points ``x`` (m, k), in chunks of points."""
        means = np.empty((len(x), len(self.names)))
        variances = np.empty_like(means)
        for start in range(0, len(x), chunk):
            part = x[start : start + chunk]
            for group in self.groups:
                m, v = group.predict(part)
                means[start : start + chunk, group.columns] = m
                variances[start : start + chunk, group.columns] = v
        return means, variances

    def subset(self, names: list[str]) -> Emulator:
        """The emulators of ``names`` only (in that order)."""
        where = {name: i for i, name in enumerate(names)}
        groups = []
        for group in self.groups:
            keep = [pos for pos, column in enumerate(group.columns) if self.names[column] in where]
            if keep:
                groups.append(
                    dataclasses.replace(
                        group,
                        columns=np.array([where[self.names[group.columns[p]]] for p in keep]),
                        beta=group.beta[:, keep],
                        centre=group.centre[keep],
                        scale=group.scale[keep],
                        loo=group.loo[:, keep],
                    )
                )
        missing = sorted(set(names) - set(self.names))
        if missing:
            raise KeyError(f"no emulator of {missing[0]}")
        return Emulator(list(names), groups)

    def loo_errors(self) -> dict[str, np.ndarray]:
        """Statistic name -> standardised leave-one-out errors of its training runs."""
        out: dict[str, np.ndarray] = {}
        for group in self.groups:
            for pos, column in enumerate(group.columns):
                out[self.names[column]] = group.loo[:, pos]
        return out

    def loo_table(self) -> list[dict[str, float | str | int]]:
        """Per statistic: RMS of standardised LOO errors, count beyond 3 and whether it is trusted.

        An emulator is not trusted when more than 5% of its leave-one-out errors (and at least 2)
        lie beyond 3 standard errors.
        """
        rows: list[dict[str, float | str | int]] = []
        errors = self.loo_errors()
        for name in self.names:
            loo = errors[name]
            beyond = int(np.sum(np.abs(loo) > 3))
            rows.append(
                {
                    "statistic": name,
                    "loo_rms": float(np.sqrt(np.mean(loo**2))),
                    "loo_beyond_3": beyond,
                    "trusted": int(not (beyond >= 2 and beyond > 0.05 * len(loo))),
                }
            )
        return rows


def _family(name: str) -> str:
    """Statistics sharing kernel hyperparameters: same record kind and measure (e.g. every
    facility-weekday's ``hall_tickets/.../mean_wait_min``)."""
    parts = name.split("/")
    return f"{parts[0]}/{parts[-1]}"


def _fit_kernel(x: np.ndarray, z: np.ndarray, seed: int) -> tuple[float, np.ndarray, float]:
    """Maximum-likelihood signal variance, length scales and noise variance shared by the
    standardised columns of ``z`` (scikit-learn, multi-output: log likelihoods summed)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    k = x.shape[1]
    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * RBF(np.full(k, 0.4), (0.03, 30.0)) + WhiteKernel(
        0.1, (1e-6, 10.0)
    )
    gp = GaussianProcessRegressor(kernel, normalize_y=False, n_restarts_optimizer=1, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x, z)
    fitted = gp.kernel_
    length = np.atleast_1d(np.asarray(fitted.k1.k2.length_scale, dtype=float))
    return float(fitted.k1.k1.constant_value), length, float(fitted.k2.noise_level)


def _group(
    columns: list[int], x: np.ndarray, y: np.ndarray, signal: float, length: np.ndarray, noise: float
) -> GroupEmulator:
    """Closed form of the GPs of ``y``'s columns (all finite) at shared hyperparameters."""
    centre = y.mean(axis=0)
    spread = y.std(axis=0)
    scale = np.where(spread > 0, spread, np.maximum(np.abs(centre), 1.0) * 1e-6)
    d = (x[:, None, :] - x[None, :, :]) / length
    cov = signal * np.exp(-0.5 * np.einsum("ijk,ijk->ij", d, d)) + (noise + 1e-10 * signal) * np.eye(len(x))
    chol = np.linalg.cholesky(cov)
    beta = cho_solve((chol, True), y - centre)
    diag = np.diag(cho_solve((chol, True), np.eye(len(x))))
    # LOO residual beta_i / C^-1_ii over its sd scale / sqrt(C^-1_ii) (R&W eq. 5.12)
    loo = beta / (np.sqrt(diag)[:, None] * scale[None, :])
    return GroupEmulator(np.asarray(columns), x.copy(), length, signal, noise, chol, beta, centre, scale, loo)


def fit_emulator(x: np.ndarray, y: np.ndarray, names: list[str], *, seed: int = 0) -> Emulator:
    """Fit one GP per column of ``y``; statistics of one family share kernel hyperparameters.

    The hyperparameters (signal and noise variance relative to the statistic's spread, length
    scales) are fitted by maximum likelihood jointly over a family's standardised statistics;
    each statistic then has its own GP (own mean, scale and training values).

    Args:
        x: design points in the prior's unit cube, (n, k).
        y: statistics of the runs at those points, (n, statistics); NaN (a run without any
            record behind a statistic) is left out for that statistic.
        names: statistic names.
        seed: seed of the optimiser's restarts.
    """
    groups: list[GroupEmulator] = []
    families: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        families.setdefault(_family(name), []).append(j)
    for members in families.values():
        cols = y[:, members]
        finite = np.isfinite(cols)
        count = finite.sum(axis=0)
        mean = np.where(finite, cols, 0.0).sum(axis=0) / np.maximum(count, 1)
        filled = np.where(finite, cols, mean)
        spread = filled.std(axis=0)
        varies = (spread > 0) & (count >= 3)
        if varies.any():
            z = (filled[:, varies] - mean[varies]) / spread[varies]
            signal, length, noise = _fit_kernel(x, z, seed)
        else:
            signal, length, noise = 1.0, np.full(x.shape[1], 1.0), 1.0
        by_rows: dict[bytes, list[int]] = {}  # statistics with the same finite runs share one factor
        for pos in range(len(members)):
            by_rows.setdefault(np.packbits(finite[:, pos]).tobytes(), []).append(pos)
        for positions in by_rows.values():
            ok = finite[:, positions[0]]
            columns = [members[p] for p in positions]
            if ok.sum() < 3:  # runs rarely give it: an emulator that says nothing (huge variance)
                flat = _group(columns, x, filled[:, positions], signal, length, noise)
                huge = 1e6 * np.maximum(np.abs(flat.centre), 1.0)
                groups.append(dataclasses.replace(flat, scale=huge, loo=np.zeros_like(flat.loo)))
                continue
            groups.append(_group(columns, x[ok], cols[np.ix_(ok, positions)], signal, length, noise))
    return Emulator(list(names), groups)
