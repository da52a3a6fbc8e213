"""Design points of an experiment: full grid, Latin hypercube, Sobol/Saltelli and Morris (SALib)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.stats import qmc

from sim.sweep.experiment import Experiment, Parameter, Scalar

__all__ = ["Design", "build_design", "from_unit", "grid_values", "salib_problem"]

# Keeps inverse CDFs finite for unbounded distributions at the cube's faces.
_EDGE = 1e-9


@dataclass(frozen=True)
class Design:
    """Design points in order.

    Attributes:
        points: parameter path -> value, one mapping per design point.
        unit: the unit-cube sample the points were mapped from (random samplers), else None.
    """

    points: list[dict[str, Scalar]]
    unit: np.ndarray | None


def salib_problem(experiment: Experiment) -> dict[str, Any]:
    """SALib problem on the unit cube (parameters are mapped through their distributions afterwards)."""
    names = list(experiment.parameters)
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def grid_values(spec: Parameter) -> list[Scalar]:
    """The values a grid takes for one parameter."""
    if spec.values is not None:
        return list(spec.values)
    assert spec.range is not None
    low, high = spec.range
    spaced = (
        np.geomspace(low, high, spec.levels)
        if spec.dist == "loguniform"
        else np.linspace(low, high, spec.levels)
    )
    return [_tidy(spec, float(v)) for v in spaced]


def from_unit(spec: Parameter, u: float) -> Scalar:
    """Map a uniform draw ``u`` in [0, 1] to the parameter's value (inverse CDF)."""
    u = min(max(u, _EDGE), 1 - _EDGE)
    if spec.values is not None:
        return spec.values[min(int(u * len(spec.values)), len(spec.values) - 1)]
    if spec.dist == "normal":
        assert spec.mean is not None and spec.sd is not None
        if spec.range is None:
            return _tidy(spec, float(stats.norm.ppf(u, loc=spec.mean, scale=spec.sd)))
        a, b = ((bound - spec.mean) / spec.sd for bound in spec.range)
        return _tidy(spec, float(stats.truncnorm.ppf(u, a, b, loc=spec.mean, scale=spec.sd)))
    assert spec.range is not None
    low, high = spec.range
    if spec.dist == "loguniform":
        return _tidy(spec, float(np.exp(np.log(low) + u * (np.log(high) - np.log(low)))))
    if spec.dist == "triangular":
        assert spec.mode is not None
        c = (spec.mode - low) / (high - low)
        return _tidy(spec, float(stats.triang.ppf(u, c, loc=low, scale=high - low)))
    return _tidy(spec, low + u * (high - low))


def _tidy(spec: Parameter, value: float) -> Scalar:
    return round(value) if spec.integer else value


def _unit_sample(experiment: Experiment) -> np.ndarray:
    sampler = experiment.sampler
    problem = salib_problem(experiment)
    assert sampler.n is not None
    if sampler.method == "lhs":
        return qmc.LatinHypercube(d=problem["num_vars"], seed=sampler.seed).random(sampler.n)
    if sampler.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, sampler.n, calc_second_order=sampler.second_order, seed=sampler.seed)
    from SALib.sample import morris

    return morris.sample(problem, sampler.n, num_levels=sampler.levels, seed=sampler.seed)


def build_design(experiment: Experiment) -> Design:
    """Design points of the experiment's sampler (deterministic given ``sampler.seed``)."""
    paths = list(experiment.parameters)
    if experiment.sampler.method == "grid":
        axes = [grid_values(experiment.parameters[p]) for p in paths]
        return Design([dict(zip(paths, combo, strict=True)) for combo in itertools.product(*axes)], None)
    unit = _unit_sample(experiment)
    specs = [experiment.parameters[p] for p in paths]
    points = [{p: from_unit(s, float(u)) for p, s, u in zip(paths, specs, row, strict=True)} for row in unit]
    return Design(points, unit)
