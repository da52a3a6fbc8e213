"""Figure fixtures: run folders of the built-in scenarios, their figure sets, a synthetic sweep folder."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.figures.figset import FigureSet
from sim.figures.fonts import Language
from sim.figures.runset import run_figures
from sim.results.io import write_run
from sim.runner import run_scenario
from tests.conftest import SCENARIOS

RUNS = {  # name: (scenario file, days)
    "tiny_baseline": (SCENARIOS / "tiny" / "baseline.yaml", 14),
    "tiny_merged": (SCENARIOS / "tiny" / "merged.yaml", 14),
    "tiny_buses": (SCENARIOS / "tiny" / "buses.yaml", 7),
    "pingtan_baseline": (SCENARIOS / "pingtan" / "baseline.yaml", 7),
    "pingtan_merged": (SCENARIOS / "pingtan" / "merged_2021.yaml", 7),
}
EN = Language("en")


@pytest.fixture(scope="session")
def run_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run folders of the built-in scenarios (short runs), by name; tiny_buses only if it exists."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name, (file, days) in RUNS.items():
        if not file.is_file():
            continue
        loaded, result = run_scenario(file, days=days)
        out[name] = write_run(result, root / name, scenario_raw=loaded.raw)
    return out


@pytest.fixture(scope="session")
def figure_sets(run_dirs: dict[str, Path]) -> Callable[..., FigureSet]:
    """English figure sets of a run (optionally against another), drawn once per session."""
    cache: dict[tuple[str, str | None], FigureSet] = {}

    def get(name: str, vs: str | None = None) -> FigureSet:
        if (name, vs) not in cache:
            cache[(name, vs)] = run_figures(run_dirs[name], language=EN, vs=run_dirs[vs] if vs else None)
        return cache[(name, vs)]

    return get


# The sweep folder contract (sim/sweep): experiment.yaml, results/, analysis/points.parquet and
# analysis/sensitivity.parquet with exactly these columns.
SWEEP_PARAMS = {
    "facility_defaults.clinic.service_time.mean_min": [6.0, 10.0, 14.0],
    "behaviour.logit_scale_per_min": [0.1, 0.3],
}
SWEEP_OUTCOMES = ("burden_mean_min", "burden_gini")
SWEEP_LEVERS = ("tiny_baseline", "tiny_merged")


def write_synthetic_sweep(
    folder: Path, *, sensitivity: bool = True, params: dict[str, list] | None = None
) -> Path:
    """A sweep folder holding exactly the contract's files, with made-up numbers (``params``: path ->
    values, default SWEEP_PARAMS; the first two drive the outcome)."""
    params = params or SWEEP_PARAMS
    (folder / "results").mkdir(parents=True)
    (folder / "analysis").mkdir()
    (folder / "experiment.yaml").write_text(
        yaml.safe_dump({"name": "synthetic", "parameters": {k: {"values": v} for k, v in params.items()}}),
        encoding="utf-8",
    )
    rows = []
    names = list(params)
    grid = (
        itertools.product(*params.values())
        if len(params) <= 3
        else zip(*params.values(), strict=True)  # a sampled design: one point per row of values
    )
    for values in grid:
        for lever, outcome in itertools.product(SWEEP_LEVERS, SWEEP_OUTCOMES):
            numeric = [v if isinstance(v, float) else 0.0 for v in values]
            mean = 40 + 2 * numeric[0] + 10 * numeric[1] + (5 if lever == "tiny_merged" else 0)
            mean = mean / 100 if outcome == "burden_gini" else mean
            rows.append(
                {
                    **dict(zip(names, values, strict=True)),
                    "lever": lever,
                    "outcome": outcome,
                    "n": 3,
                    "mean": mean,
                    "std": 0.05 * mean,
                    "ci_low": 0.9 * mean,
                    "ci_high": 1.1 * mean,
                }
            )
    pd.DataFrame(rows).to_parquet(folder / "analysis" / "points.parquet", index=False)
    if sensitivity:
        sens = []
        for method, indices in (("sobol", ("S1", "ST")), ("morris", ("mu_star", "sigma"))):
            for lever, outcome, param, index in itertools.product(
                SWEEP_LEVERS, SWEEP_OUTCOMES, names, indices
            ):
                sens.append(
                    {
                        "method": method,
                        "lever": lever,
                        "outcome": outcome,
                        "parameter": param,
                        "index": index,
                        "value": float(np.random.default_rng(len(sens)).uniform(0, 1)),
                        "conf": 0.05 if index != "sigma" else float("nan"),
                    }
                )
        pd.DataFrame(sens).to_parquet(folder / "analysis" / "sensitivity.parquet", index=False)
    return folder


@pytest.fixture
def synthetic_sweep(tmp_path: Path) -> Path:
    """A synthetic sweep folder (3 x 2 grid, 2 levers, 2 outcomes, Sobol and Morris indices)."""
    return write_synthetic_sweep(tmp_path / "sweep")
