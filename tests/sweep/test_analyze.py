"""Analysis tables: t intervals across seeds, Sobol and Morris indices on a known function."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.sweep.analyze import point_stats, sensitivity
from sim.sweep.experiment import load_experiment
from sim.sweep.samplers import build_design
from tests.sweep.conftest import WriteExperiment


def test_point_stats_mean_and_t_interval() -> None:
    runs = pd.DataFrame(
        {
            "design_point": [0, 0, 0, 1],
            "lever": ["a"] * 4,
            "p": [1.0, 1.0, 1.0, 2.0],
            "y": [1.0, 2.0, 3.0, 5.0],
        }
    )
    table = point_stats(runs, parameters=["p"], outcomes=["y"])
    assert list(table.columns) == ["p", "lever", "outcome", "n", "mean", "std", "ci_low", "ci_high"]
    first, single = table.iloc[0], table.iloc[1]
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)
    assert (first["n"], first["mean"], first["std"]) == (3, 2.0, 1.0)
    assert first["ci_low"] == pytest.approx(2.0 - half) and first["ci_high"] == pytest.approx(2.0 + half)
    assert single["n"] == 1 and np.isnan(single["ci_low"])


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_indices_rank_an_influential_parameter_first(
    method: str, write_experiment: WriteExperiment, tmp_path: Path
) -> None:
    sampler = {"method": method, "n": 64 if method == "sobol" else 20, "seed": 3}
    parameters = {
        "behaviour.logit_scale_per_min": {"range": [0.05, 0.3]},
        "behaviour.prior_wait_min": {"range": [0.0, 30.0]},
    }
    exp = load_experiment(write_experiment(sampler=sampler, parameters=parameters, levers={"base": []}))
    design = build_design(exp.experiment)
    u = design.unit
    assert u is not None
    outcome = 10 * u[:, 0] + 0.5 * u[:, 1]  # the first parameter dominates
    runs = pd.DataFrame(
        {"lever": "base", "design_point": range(len(u)), "burden_mean_min": outcome, "burden_gini": u[:, 1]}
    )
    table, notes = sensitivity(exp, runs)
    assert table is not None and not notes
    assert set(table.columns) >= {"method", "outcome", "parameter", "index", "value", "conf"}
    main = "S1" if method == "sobol" else "mu_star"
    burden = table[(table["outcome"] == "burden_mean_min") & (table["index"] == main)].set_index("parameter")
    assert (
        burden.loc["behaviour.logit_scale_per_min", "value"]
        > 5 * burden.loc["behaviour.prior_wait_min", "value"]
    )
    gaps = runs.assign(burden_gini=np.where(runs["design_point"] == 0, np.nan, runs["burden_gini"]))
    table, notes = sensitivity(exp, gaps)
    assert table is not None and set(table["outcome"]) == {"burden_mean_min"}
    assert notes and "burden_gini" in notes[0]
