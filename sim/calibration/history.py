"""History matching: implausibility of parameter points given emulators, waves of non-implausible space.

Implausibility of statistic i at point x (Vernon, Goldstein and Bower, "Galaxy formation: a
Bayesian uncertainty analysis", Bayesian Analysis 5(4), 2010):
``I_i(x) = |z_i - E[f_i(x)]| / sqrt(Var[f_i(x)] + V_obs,i)``. With many statistics the largest
``I_i`` exceeds 3 by chance alone, so a point is ruled out when its k-th largest implausibility
exceeds the cut-off, k the smallest count that chance (independent normal errors) reaches with
probability at most 0.1% (k = 1 for a handful of statistics, as Vernon et al.'s I_max).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.stats import qmc

from sim.calibration.emulator import Emulator

__all__ = ["Wave", "implausibility", "kth_for", "nonimplausible", "sample_space"]


@dataclass(frozen=True)
class Wave:
    """One wave's emulator and the observed statistics it is matched to.

    Attributes:
        emulator: GPs of the wave's statistics.
        observed: observed statistics (same order as the emulator's names).
        obs_var: observation-error variances.
        cutoff: implausibility cut-off.
        model_var: variance of the design runs' own seed error (common random numbers make the
            emulated surface one seed's realisation), per statistic.
    """

    emulator: Emulator
    observed: np.ndarray
    obs_var: np.ndarray
    cutoff: float = 3.0
    model_var: np.ndarray | float = 0.0

    @property
    def k(self) -> int:
        """Which largest implausibility is compared with the cut-off."""
        return kth_for(len(self.observed), self.cutoff)

    def measure(self, x: np.ndarray) -> np.ndarray:
        """The k-th largest implausibility at each unit-cube point of ``x`` (m,)."""
        return self.measure_predicted(*self.emulator.predict(x))

    def measure_predicted(self, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
        """The k-th largest implausibility given this wave's emulator predictions (m,)."""
        return kth_largest(implausibility(mean, var + self.model_var, self.observed, self.obs_var), self.k)


def implausibility(
    mean: np.ndarray, var: np.ndarray, observed: np.ndarray, obs_var: np.ndarray
) -> np.ndarray:
    """Implausibility of each statistic at each point, (m, statistics)."""
    return np.abs(observed[None, :] - mean) / np.sqrt(var + obs_var[None, :])


def kth_for(n_stats: int, cutoff: float, *, level: float = 1e-3) -> int:
    """Smallest k such that k or more of ``n_stats`` independent standard normals exceed ``cutoff``
    in absolute value with probability at most ``level``."""
    p = 2 * stats.norm.sf(cutoff)
    k = 1
    while k < n_stats and stats.binom.sf(k - 1, n_stats, p) > level:
        k += 1
    return k


def kth_largest(values: np.ndarray, k: int) -> np.ndarray:
    """The k-th largest value of each row."""
    k = min(k, values.shape[1])
    return -np.partition(-values, k - 1, axis=1)[:, k - 1]


def nonimplausible(waves: Sequence[Wave], x: np.ndarray) -> np.ndarray:
    """Whether each point survives every wave's cut-off (m,) booleans."""
    keep = np.ones(len(x), dtype=bool)
    for wave in waves:
        if keep.any():
            keep[keep] = wave.measure(x[keep]) <= wave.cutoff
    return keep


def sample_space(
    waves: Sequence[Wave],
    n: int,
    dims: int,
    *,
    seed: int,
    candidates: int = 20_000,
    max_candidates: int = 400_000,
) -> tuple[np.ndarray, float]:
    """``n`` points of the non-implausible space and the share of the cube it covers.

    Candidates are Latin-hypercube points of the unit cube (more are drawn, up to
    ``max_candidates``, when fewer than ``n`` survive); ``n`` survivors are kept at random.

    Returns:
        The points (n, dims) (fewer if not enough survived) and the surviving share of candidates.
    """
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    tried = 0
    total = 0
    while tried < max_candidates:
        batch = qmc.LatinHypercube(d=dims, seed=rng).random(candidates)
        tried += candidates
        survivors = batch[nonimplausible(waves, batch)]
        kept.append(survivors)
        total += len(survivors)
        if total >= n:
            break
    pool = np.concatenate(kept)
    share = total / tried
    if len(pool) > n:
        pool = pool[rng.choice(len(pool), size=n, replace=False)]
    return pool, share
