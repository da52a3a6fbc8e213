"""Planned runs of an experiment (design point x lever x seed), keyed by content hash, checked up front."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.errors import ScenarioError
from sim.runner import run_scenario
from sim.scenario.load import LoadedScenario, get_path, load_scenario, scenario_digest
from sim.sweep.experiment import LoadedExperiment, Scalar
from sim.sweep.samplers import Design, build_design
from sim.sweep.task import RunTask, extract_outcomes

__all__ = ["Plan", "build_plan", "run_key", "scenario_digest"]


@dataclass(frozen=True)
class Plan:
    """An experiment's runs in order.

    Attributes:
        experiment: the loaded experiment.
        design: its design points.
        tasks: one task per (design point, lever, seed).
    """

    experiment: LoadedExperiment
    design: Design
    tasks: list[RunTask]

    def frame(self) -> pd.DataFrame:
        """One row per planned run: run_key, design_point, lever, seed and one column per parameter."""
        columns = ["run_key", "design_point", "lever", "seed", *self.experiment.experiment.parameters]
        rows = [
            {
                "run_key": t.run_key,
                "design_point": t.design_point,
                "lever": t.lever,
                "seed": t.seed,
                **t.parameters,
            }
            for t in self.tasks
        ]
        return pd.DataFrame(rows, columns=columns)


def run_key(*, digest: str, lever: str, overrides: Mapping[str, Scalar], seed: int, days: int) -> str:
    """Store key of one run: hash of scenario content, lever, overrides, seed and days."""
    payload = {"scenario": digest, "lever": lever, "overrides": dict(overrides), "seed": seed, "days": days}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def _has_field(scenario: dict[str, Any], path: str) -> bool:
    try:
        get_path(scenario, path)
    except KeyError:
        return False
    return True


def _experiment_field(exp: LoadedExperiment, path: str) -> str:
    """Where the experiment sets a field path: ``fixed.P``, ``parameters.P`` or ``parameters.P.also``."""
    experiment = exp.experiment
    if path in experiment.fixed:
        return f"fixed.{path}"
    if path in experiment.parameters:
        return f"parameters.{path}"
    return next(f"parameters.{p}.also" for p, spec in experiment.parameters.items() if path in spec.also)


def _check_lever(exp: LoadedExperiment, lever: str, first: Mapping[str, Scalar]) -> LoadedScenario:
    """Load a lever's scenario, check every path names an existing field and the first point validates."""
    overlays = exp.levers[lever]
    loaded = load_scenario(exp.base, overlays=overlays)
    fields = loaded.scenario.model_dump()
    experiment = exp.experiment
    for path in experiment.field_paths():
        if not _has_field(fields, path):
            raise ScenarioError(
                str(exp.path),
                _experiment_field(exp, path),
                f"expected a field of scenario {exp.base.name} (lever '{lever}'); it has no field '{path}'",
            )
    try:
        load_scenario(exp.base, overlays=overlays, overrides=experiment.overrides(dict(first)))
    except ScenarioError as exc:
        raise ScenarioError(
            str(exp.path),
            f"levers.{lever}",
            f"expected the first design point to give a valid scenario: {exc}",
        ) from None
    return loaded


def _check_outcomes(exp: LoadedExperiment, first: RunTask) -> None:
    """Run the first task for one day on the client and check every outcome path is a number."""
    _, result = run_scenario(
        first.base,
        overlays=first.overlays,
        overrides=first.overrides,
        days=1,
        seed=first.seed,
    )
    try:
        extract_outcomes(result.checked_summary().to_json_dict(), first.outcomes)
    except KeyError as exc:
        raise ScenarioError(
            str(exp.path), "outcomes", f"expected summary.json paths: {exc.args[0]}"
        ) from None


def build_plan(exp: LoadedExperiment, *, check_outcomes: bool = True) -> Plan:
    """Every run of the experiment, after checking paths, values and outcomes (nothing runs if a check fails).

    Args:
        exp: the loaded experiment.
        check_outcomes: run the first task for one day to check the outcome paths.

    Raises:
        ScenarioError: an unknown field path, an invalid first design point, or an unknown outcome path.
    """
    experiment = exp.experiment
    design = build_design(experiment)
    if not design.points:
        raise ScenarioError(str(exp.path), "parameters", "expected at least one design point")
    tasks: list[RunTask] = []
    for lever, overlays in exp.levers.items():
        loaded = _check_lever(exp, lever, design.points[0])
        digest = scenario_digest(loaded)
        days = experiment.days or loaded.scenario.simulation.days
        for index, point in enumerate(design.points):
            overrides = experiment.overrides(point)
            for seed in experiment.seeds:
                key = run_key(digest=digest, lever=lever, overrides=overrides, seed=seed, days=days)
                tasks.append(
                    RunTask(
                        run_key=key,
                        design_point=index,
                        lever=lever,
                        seed=seed,
                        base=str(exp.base),
                        overlays=tuple(str(f) for f in overlays),
                        parameters=point,
                        overrides=overrides,
                        days=days,
                        outcomes=experiment.outcomes,
                    )
                )
    if check_outcomes:
        _check_outcomes(exp, tasks[0])
    return Plan(exp, design, tasks)
