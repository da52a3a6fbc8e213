"""ABC-SMC with a Gaussian acceptance kernel and an adaptive tolerance schedule.

The target at tolerance ``eps`` is ``prior(theta) * K_eps(theta)``, where ``K_eps`` is the
probability density of the observed statistics under a Gaussian kernel whose scale is ``eps``
times the observation error. Particles start from the prior; each generation lowers ``eps`` so
the effective sample size falls to half (Del Moral, Doucet and Jasra, "An adaptive sequential
Monte Carlo method for approximate Bayesian computation", Statistics and Computing 22, 2012),
resamples, and moves every particle by Metropolis-Hastings steps with a Gaussian proposal of
twice the weighted particle covariance (Beaumont, Cornuet, Marin and Robert, "Adaptive
approximate Bayesian computation", Biometrika 96(4), 2009). The schedule stops at ``eps = 1``:
there the kernel is the observation-error density itself, so the final population samples the
posterior under that error model (Wilkinson, "Approximate Bayesian computation (ABC) gives exact
results under the assumption of model error", SAGMB 12(2), 2013). Weights are normalised to 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["AbcResult", "abc_smc"]

#: ``points (n, k) -> (eps -> log K_eps at each point (n,))``: the expensive part (emulating the
#: statistics) is done once per set of points, the kernel is then cheap for any tolerance.
PrepareKernel = Callable[[np.ndarray], Callable[[float], np.ndarray]]


@dataclass
class AbcResult:
    """Final ABC-SMC population.

    Attributes:
        particles: parameter points (n, k).
        weights: normalised weights (n,), summing to 1.
        epsilons: tolerance of each generation, last = 1.
        acceptance: Metropolis-Hastings acceptance rate of each generation's moves.
    """

    particles: np.ndarray
    weights: np.ndarray
    epsilons: list[float] = field(default_factory=list)
    acceptance: list[float] = field(default_factory=list)


def _ess(logw: np.ndarray) -> float:
    w = np.exp(logw - logw.max())
    return float(w.sum() ** 2 / (w**2).sum())


def _next_eps(log_kernel_values: Callable[[float], np.ndarray], eps: float, target: float) -> float:
    """Largest step down from ``eps`` (bisection on log eps, not below 1) keeping ESS >= target."""
    if _ess(log_kernel_values(1.0)) >= target:
        return 1.0
    lo, hi = 0.0, np.log(eps)
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if _ess(log_kernel_values(float(np.exp(mid)))) >= target:
            hi = mid
        else:
            lo = mid
    return float(np.exp(hi))


def _systematic(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(weights)
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), n - 1)


def abc_smc(
    prepare: PrepareKernel,
    initial: np.ndarray,
    in_support: Callable[[np.ndarray], np.ndarray],
    *,
    rng: np.random.Generator,
    moves: int = 4,
    max_generations: int = 60,
    start_eps: float = 1e4,
) -> AbcResult:
    """Run ABC-SMC from prior draws down to tolerance 1.

    Args:
        prepare: ``points -> (eps -> log K_eps at each point)``.
        initial: draws from the prior (restricted to the support), (n, k).
        in_support: ``points -> booleans``: inside the prior's support (a point where the kernel is
            -inf, e.g. implausible, is rejected too).
        rng: random generator.
        moves: Metropolis-Hastings steps per generation.
        max_generations: stop after this many generations even if eps > 1 (reported).
        start_eps: tolerance of the initial population (large: nearly the prior).

    Returns:
        The final weighted population.
    """
    particles = np.array(initial, dtype=float)
    n = len(particles)
    eps = start_eps
    kernel = prepare(particles)
    logw = np.zeros(n)  # prior draws: equal weights (start_eps is wide enough to stand for infinity)
    result = AbcResult(particles, np.full(n, 1.0 / n))
    for _ in range(max_generations):
        target = 0.5 * _ess(logw)
        old = kernel(eps)

        def reweighted(e: float, logw: np.ndarray = logw, old: np.ndarray = old) -> np.ndarray:
            return logw + kernel(e) - old  # noqa: B023 (kernel of this generation's particles)

        eps = _next_eps(reweighted, eps, target)
        w = np.exp(reweighted(eps) - reweighted(eps).max())
        index = _systematic(w / w.sum(), rng)
        particles, current = particles[index], kernel(eps)[index]
        cov = 2.0 * np.atleast_2d(np.cov(particles.T)) + 1e-12 * np.eye(particles.shape[1])
        accepted = 0
        for _ in range(moves):
            proposal = particles + rng.multivariate_normal(np.zeros(len(cov)), cov, size=n)
            inside = in_support(proposal)
            proposed = np.full(n, -np.inf)
            if inside.any():
                proposed[inside] = prepare(proposal[inside])(eps)
            accept = np.log(rng.random(n)) < proposed - current
            particles[accept], current[accept] = proposal[accept], proposed[accept]
            accepted += int(accept.sum())
        result.epsilons.append(eps)
        result.acceptance.append(accepted / (moves * n))
        if eps <= 1.0:
            break
        kernel = prepare(particles)
        logw = np.zeros(n)
    result.particles = particles
    result.weights = np.full(n, 1.0 / n)
    return result
