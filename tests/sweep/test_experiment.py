"""Experiment files, designs and planning: everything checked before a run starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.sweep.experiment import Experiment, Parameter, load_experiment
from sim.sweep.plan import build_plan
from sim.sweep.samplers import build_design, from_unit, grid_values
from tests.sweep.conftest import TINY_GRID, WriteExperiment


def _experiment(**changes: object) -> Experiment:
    data: dict[str, object] = {
        "name": "x",
        "base": "s.yaml",
        "outcomes": {"burden": "burden_min.mean"},
        "parameters": {"a.b": {"range": [0.0, 1.0]}, "c.d": {"values": [1, 2, 3]}},
    }
    data.update(changes)
    return Experiment.model_validate(data)


def test_ready_experiments_load_and_plan() -> None:
    root = TINY_GRID.parent
    for path in sorted(root.glob("*.yaml")):
        exp = load_experiment(path)
        plan = build_plan(exp, check_outcomes=False)
        assert len(plan.tasks) == len(plan.design.points) * len(exp.levers) * exp.experiment.replications


def test_grid_is_every_combination() -> None:
    design = build_design(_experiment())
    assert len(design.points) == 3 * 3 and design.unit is None
    assert {p["c.d"] for p in design.points} == {1, 2, 3}
    assert grid_values(Parameter(range=(1.0, 100.0), dist="loguniform", levels=3)) == pytest.approx(
        [1, 10, 100]
    )


@pytest.mark.parametrize(
    ("sampler", "points"),
    [
        ({"method": "lhs", "n": 10}, 10),
        ({"method": "sobol", "n": 8}, 8 * (2 + 2)),
        ({"method": "sobol", "n": 8, "second_order": True}, 8 * (2 * 2 + 2)),
        ({"method": "morris", "n": 5}, 5 * (2 + 1)),
    ],
)
def test_random_samplers_size_and_determinism(sampler: dict[str, object], points: int) -> None:
    exp = _experiment(sampler=sampler)
    first, again = build_design(exp), build_design(exp)
    assert len(first.points) == points and first.points == again.points
    assert all(0.0 <= p["a.b"] <= 1.0 and p["c.d"] in (1, 2, 3) for p in first.points)


def test_distributions_map_quantiles() -> None:
    assert from_unit(Parameter(range=(10.0, 20.0)), 0.25) == pytest.approx(12.5)
    assert from_unit(Parameter(dist="normal", mean=5.0, sd=1.0), 0.5) == pytest.approx(5.0)
    truncated = [from_unit(Parameter(dist="normal", mean=5.0, sd=3.0, range=(4.0, 6.0)), u) for u in (0, 1)]
    assert truncated == pytest.approx([4.0, 6.0], abs=1e-6)
    assert from_unit(Parameter(range=(1.0, 3.0), dist="triangular", mode=2.0), 0.5) == pytest.approx(2.0)
    assert from_unit(Parameter(range=(1.0, 9.0), integer=True), 0.49) == 5
    assert np.isfinite(from_unit(Parameter(dist="normal", mean=0.0, sd=1.0), 0.0))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"sampler": {"method": "sobol", "n": 10}}, "power of 2"),
        ({"sampler": {"method": "lhs"}}, "needs 'n'"),
        ({"parameters": {"a": {"values": [1], "range": [0, 1]}}}, "not both"),
        ({"parameters": {"a": {"range": [2, 1]}}}, "low < high"),
        ({"outcomes": {"seed": "x"}}, "unique"),
        ({"fixed": {"a.b": 1}}, "fields set twice"),
        (
            {"parameters": {"a.b": {"values": [1]}, "c.d": {"values": [2], "also": ["a.b"]}}},
            "fields set twice",
        ),
    ],
)
def test_schema_refuses_bad_experiments(changes: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _experiment(**changes)


def test_unknown_parameter_path_fails_before_anything_runs(
    write_experiment: WriteExperiment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_experiment(parameters={"behaviour.logit_scale": {"values": [0.1, 0.2]}})
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("townsim: error: ") and err.count("\n") == 1
    assert str(path) in err and "parameters.behaviour.logit_scale" in err
    assert "has no field 'behaviour.logit_scale'" in err
    assert not out.exists()


def test_unknown_dict_key_and_bad_value_and_outcome_are_refused(write_experiment: WriteExperiment) -> None:
    path = write_experiment(parameters={"modes.ebike.speed_kph.rurall": {"values": [10.0]}})
    with pytest.raises(ScenarioError, match=r"parameters\.modes\.ebike\.speed_kph\.rurall"):
        build_plan(load_experiment(path))
    tied = {"modes.walk.speed_kph.rural": {"values": [4.0], "also": ["modes.walk.speed_kph.trunkk"]}}
    with pytest.raises(ScenarioError, match=r"parameters\.modes\.walk\.speed_kph\.rural\.also.*trunkk"):
        build_plan(load_experiment(write_experiment(parameters=tied)))
    path = write_experiment(parameters={"behaviour.knows_service_scope": {"values": [1.5, 0.5]}})
    with pytest.raises(ScenarioError, match=r"levers\.baseline.*knows_service_scope"):
        build_plan(load_experiment(path))
    path = write_experiment(outcomes={"burden": "burden_min.average"})
    with pytest.raises(ScenarioError, match=r"outcomes.*burden_min\.average"):
        build_plan(load_experiment(path))
    path = write_experiment(levers={"plan": ["missing.yaml"]})
    with pytest.raises(ScenarioError, match=r"levers\.plan.*missing"):
        load_experiment(path)


def test_run_keys_follow_content_not_order(write_experiment: WriteExperiment) -> None:
    plan = build_plan(load_experiment(write_experiment()), check_outcomes=False)
    keys = [t.run_key for t in plan.tasks]
    assert len(set(keys)) == len(keys) == 16
    again = build_plan(load_experiment(write_experiment("other.yaml", name="renamed")), check_outcomes=False)
    assert [t.run_key for t in again.tasks] == keys  # same content, same keys
    longer = build_plan(load_experiment(write_experiment("longer.yaml", days=8)), check_outcomes=False)
    assert not set(t.run_key for t in longer.tasks) & set(keys)


def test_tied_fields_take_the_parameter_value(write_experiment: WriteExperiment) -> None:
    tied = {"modes.walk.speed_kph.rural": {"values": [4.0, 6.0], "also": ["modes.walk.speed_kph.trunk"]}}
    plan = build_plan(load_experiment(write_experiment(parameters=tied)), check_outcomes=False)
    for task in plan.tasks:
        assert task.overrides["modes.walk.speed_kph.trunk"] == task.parameters["modes.walk.speed_kph.rural"]
