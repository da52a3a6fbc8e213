"""ABC-SMC's summaries: the many record statistics projected onto one summary per parameter.

Hundreds of statistics (every facility and weekday) share causes, so treating them as independent
evidence makes a posterior far too narrow. Following semi-automatic ABC (Fearnhead and Prangle,
"Constructing summary statistics for approximate Bayesian computation", JRSS B 74(3), 2012), the
statistics, standardised by their observation errors, are projected by a ridge regression of the
design runs' parameters (unit cube) on their statistics: one summary per parameter. The summaries'
covariance is then small enough to estimate: observation error ``B C B'`` with ``C`` the
statistics' correlation across replicate runs (seeds) at the prior centre, plus the error of the
design runs' own seeds (common random numbers make the emulated surface one seed's realisation)
``B V B' / replications``, plus the emulators' variance ``B diag(var) B'`` (cross-statistic
covariance of the emulators is left out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibration.history import Wave
from sim.calibration.stats import ObservedStatistics

__all__ = ["Summaries", "fit_summaries"]


@dataclass(frozen=True)
class Summaries:
    """The projection and the summaries' covariances (summary space: one axis per parameter).

    Attributes:
        observed: observed statistics (with their observation-error variances).
        coef: projection of standardised statistics onto summaries, (k, statistics).
        obs_cov: covariance of the observed summaries' error, (k, k).
        design_cov: covariance of the design runs' seed error in the summaries, (k, k).
    """

    observed: ObservedStatistics
    coef: np.ndarray
    obs_cov: np.ndarray
    design_cov: np.ndarray

    def standardise(self, values: np.ndarray) -> np.ndarray:
        """Statistics minus the observed values over the observation sd (the observed record is 0)."""
        return (values - self.observed.values) / np.sqrt(self.observed.variances)

    def kernel(self, waves: Sequence[Wave]) -> Callable[[np.ndarray], Callable[[float], np.ndarray]]:
        """ABC-SMC's ``prepare``: emulate the summaries at points (last wave's emulators), then log
        K_eps for any tolerance; -inf outside the non-implausible space of every wave (the last
        wave's implausibility from the same predictions)."""
        sd2 = self.observed.variances
        emulator = waves[-1].emulator

        def prepare(points: np.ndarray) -> Callable[[float], np.ndarray]:
            mean, var = emulator.predict(points)
            ok = waves[-1].measure_predicted(mean, var) <= waves[-1].cutoff
            for wave in waves[:-1]:
                if ok.any():
                    ok[ok] = wave.measure(points[ok]) <= wave.cutoff
            t = self.standardise(mean) @ self.coef.T  # (n, k); the observed summaries are 0
            em_cov = np.einsum("as,ns,bs->nab", self.coef, var / sd2, self.coef)
            fixed = em_cov + self.design_cov

            def log_kernel(eps: float) -> np.ndarray:
                cov = fixed + eps**2 * self.obs_cov
                chol = np.linalg.cholesky(cov)
                z = np.linalg.solve(chol, t[:, :, None])[:, :, 0]
                logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
                return np.where(ok, -0.5 * np.sum(z * z, axis=1) - 0.5 * logdet, -np.inf)

            return log_kernel

        return prepare


def _finite_cov(z: np.ndarray) -> np.ndarray:
    """Covariance of columns with NaN cells replaced by the column mean."""
    mean = np.nanmean(np.where(np.isfinite(z), z, np.nan), axis=0) if np.isfinite(z).any() else 0.0
    filled = np.where(np.isfinite(z), z, np.nan_to_num(mean))
    return np.atleast_2d(np.cov(filled, rowvar=False))


def fit_summaries(
    observed: ObservedStatistics,
    design_x: np.ndarray,
    design_y: np.ndarray,
    replicate: pd.DataFrame | None,
    *,
    replications: int,
) -> Summaries:
    """Fit the projection on design runs and the summaries' covariances on replicate runs.

    Args:
        observed: observed statistics and observation-error variances.
        design_x: design points in the unit cube, (n, k).
        design_y: their statistics, (n, statistics) in ``observed.names`` order.
        replicate: replicate runs at one point (seeds vary), columns ``observed.names``; None or
            fewer than 3 rows: statistics taken as independent with the observation variances.
        replications: seeds per design point.
    """
    from sklearn.linear_model import RidgeCV

    z = (design_y - observed.values) / np.sqrt(observed.variances)
    z = np.where(np.isfinite(z), z, 0.0)
    with np.errstate(all="ignore"):
        ridge = RidgeCV(alphas=np.logspace(-2, 4, 25)).fit(z, design_x)
    coef = np.atleast_2d(ridge.coef_)
    if replicate is not None and len(replicate) >= 3:
        rep = replicate[observed.names].to_numpy(dtype=float)
        zr = rep / np.sqrt(observed.variances)
        cov = _finite_cov(zr)
        sd = np.sqrt(np.diag(cov))
        corr = np.where(
            np.outer(sd, sd) > 0, cov / np.where(np.outer(sd, sd) > 0, np.outer(sd, sd), 1.0), 0.0
        )
        np.fill_diagonal(corr, 1.0)
        obs_cov = coef @ corr @ coef.T
        design_cov = coef @ cov @ coef.T / replications
    else:
        obs_cov = coef @ coef.T
        design_cov = obs_cov / replications
    jitter = 1e-9 * np.trace(obs_cov) * np.eye(len(obs_cov))
    return Summaries(observed, coef, obs_cov + jitter, design_cov)
