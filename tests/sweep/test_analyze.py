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
    assert table is not None and not [n for n in notes if "skipped" in n]
    assert not [n for n in notes if "logit_scale" in n]  # the dominant index is told from noise
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
    assert any("burden_gini: skipped" in n for n in notes)


def test_indices_carry_intervals_and_noisy_ones_are_named(write_experiment: WriteExperiment) -> None:
    """Bootstrap intervals are value ± conf; a Sobol design too small for pure noise is flagged,
    and the text table prints every index with its interval."""
    from sim.sweep.analyze import format_indices

    sampler = {"method": "sobol", "n": 8, "seed": 3}
    parameters = {
        "behaviour.logit_scale_per_min": {"range": [0.05, 0.3]},
        "behaviour.prior_wait_min": {"range": [0.0, 30.0]},
    }
    exp = load_experiment(write_experiment(sampler=sampler, parameters=parameters, levers={"base": []}))
    design = build_design(exp.experiment)
    noise = np.random.default_rng(0).normal(size=len(design.points))  # no parameter matters
    runs = pd.DataFrame(
        {"lever": "base", "design_point": range(len(noise)), "burden_mean_min": noise, "burden_gini": noise}
    )
    table, notes = sensitivity(exp, runs)
    assert table is not None
    assert np.allclose(table["ci_low"], table["value"] - table["conf"])
    assert np.allclose(table["ci_high"], table["value"] + table["conf"])
    noisy = (2 * table["conf"] > table["value"].abs()) | (table["value"] + table["conf"] < 0)
    assert noisy.any()
    warned = [n for n in notes if n.startswith("warning: sobol base/burden_mean_min")]
    assert len(warned) == 1 and "more design points" in warned[0]
    for r in table[noisy & (table["outcome"] == "burden_mean_min")].itertuples():
        assert f"{r.index}({r.parameter})" in warned[0]
    text = format_indices(table)
    assert len(text.splitlines()) == len(table) + 1
    assert "behaviour.prior_wait_min" in text and "[" in text
