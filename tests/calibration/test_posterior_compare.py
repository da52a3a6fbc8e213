"""compare --posterior: paired runs at posterior draws, and the law-of-total-variance split."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.engine import calibrate
from sim.calibration.posterior_compare import total_variance
from sim.cli import main
from tests.calibration.conftest import WriteCalibration
from tests.conftest import TINY, TINY_MERGED


def test_total_variance_split_matches_a_brute_force_two_level_sample() -> None:
    rng = np.random.default_rng(0)
    k, r = 400, 6
    effects = rng.normal(2.0, 0.5, k)  # parameter sd 0.5
    d = effects[:, None] + rng.normal(0, 1.0, (k, r))  # stochastic sd 1
    per_draw = pd.DataFrame(
        {"draw": np.arange(k), "metric": "m", "mean_diff": d.mean(axis=1), "seed_var": d.var(axis=1, ddof=1)}
    )
    row = total_variance(per_draw, r).iloc[0]
    assert row["mean_diff"] == pytest.approx(2.0, abs=0.06)
    assert row["var_parameter"] == pytest.approx(0.25, rel=0.2)
    assert row["var_stochastic"] == pytest.approx(1.0, rel=0.1)
    assert row["share_parameter"] == pytest.approx(0.2, abs=0.05)
    # the interval holds the expected difference of ~95% of draws
    inside = (effects >= row["ci_low"]) & (effects <= row["ci_high"])
    assert 0.9 < inside.mean() <= 1.0


def test_compare_with_posterior_runs_both_plans_at_draws(
    write_calibration: WriteCalibration, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_calibration(
        method={"waves": 1, "runs_per_wave": 8, "noise_runs": 3, "check_runs": 0, "particles": 100}
    )
    out = tmp_path / "cal"
    calibrate(path, out=out, workers=1)
    args = ["compare", str(TINY), str(TINY_MERGED), "--posterior", str(out), "--draws", "3"]
    assert main([*args, "--replications", "2", "--days", "7", "--workers", "1", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    row = table.set_index("metric").loc["burden_min.mean"]
    assert row["draws"] == 3 and row["ci_low"] <= row["mean_diff"] <= row["ci_high"]
    assert 0 <= row["share_parameter"] <= 1 and row["var_stochastic"] >= 0
    assert main([*args, "--replications", "2", "--days", "7", "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "3 posterior draws x 2" in text and "burden_min.mean" in text
    assert main([*args, "--replications", "1", "--days", "7"]) == 2  # no seed variance with 1 replication
    assert "--replications >= 2" in capsys.readouterr().err
