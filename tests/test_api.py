"""The Python interface (``import sim``): the names a notebook finds, and the same results as the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.errors import SimError
from sim.replications import DIFFERENCE_COLUMNS, read_replications
from tests.conftest import ROOT, TINY, TINY_MERGED

TOWNSIM = [sys.executable, "-m", "sim.cli"]
PUBLIC = {"load", "run", "Run", "compare", "sweep", "metrics"}


def _as_cli_csv(table: pd.DataFrame) -> str:
    """The table as ``townsim compare --format csv`` prints it (values rounded to their interval)."""
    from sim.metrics.answer import round_to_interval

    return round_to_interval(table, ["mean_a", "mean_b", "mean_diff", "ci_low", "ci_high"]).to_csv(
        index=False
    )


def _cli(*args: str | Path) -> str:
    out = subprocess.run([*TOWNSIM, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_dir_lists_the_public_names_with_docstrings() -> None:
    names = dir(sim)
    assert set(names) >= PUBLIC
    assert not {"lazy_exports", "TYPE_CHECKING"} & set(names)
    for name in ("load", "run", "compare"):
        doc = getattr(sim, name).__doc__
        assert doc and "Returns:" in doc, name
    assert callable(sim.metrics.gini)


def test_metrics_gini_of_a_run_matches_the_mean_absolute_difference() -> None:
    """``sim.metrics.gini`` on a run's per-resident burden equals the brute-force Gini formula."""
    import numpy as np

    residents = sim.run(TINY, days=3, seed=2).tables["residents"]
    burden = residents["burden_min_total"].to_numpy(float)
    brute = np.abs(burden[:, None] - burden[None, :]).mean() / (2 * burden.mean())
    assert sim.metrics.gini(burden) == pytest.approx(brute, rel=1e-9)


def test_sim_sweep_is_callable_whether_or_not_the_sweep_package_was_imported() -> None:
    """``sim.sweep`` names the sweep package too: importing it must not hide the function."""
    code = (
        "import sim; before = callable(sim.sweep); import sim.sweep.runner; "
        "print(before, callable(sim.sweep), sim.sweep.run_sweep.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.stdout.split() == ["True", "True", "run_sweep"], out.stderr
    assert "Returns:" in (sim.api.sweep.__doc__ or "")


def test_import_sim_loads_nothing_heavy() -> None:
    code = "import sys, sim; dir(sim); print(sorted({'mesa', 'pandas', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr


def test_run_gives_the_cli_run_folder(tmp_path: Path) -> None:
    """``sim.run(...).save`` writes the folder ``townsim run`` writes: same tables, summary, scenario."""
    run = sim.run(TINY, days=4, seed=3)
    assert run.scenario.name == "tiny_baseline"
    assert run.summary.seed == 3 and run.summary.days == 4
    tables = run.tables
    assert {"trips", "errands", "facility_days", "residents", "schools", "daily"} <= set(tables)
    assert all(isinstance(frame, pd.DataFrame) for frame in tables.values())
    assert len(tables["errands"]) > 0
    saved = run.save(tmp_path / "api")
    _cli("run", TINY, "--days", "4", "--seed", "3", "--out", tmp_path / "cli", "--quiet")
    timed = {"provenance.json", ".townsim"}  # wall time, and the marker listing its size
    files = sorted(p.name for p in (tmp_path / "cli").iterdir() if p.name not in timed)
    assert files == sorted(p.name for p in saved.iterdir() if p.name not in timed)
    assert "summary.json" in files and "errands.parquet" in files
    for name in files:
        assert (saved / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    overall = run.metrics.query("metric == 'burden_min.mean' and group_kind == 'overall'")
    assert overall.value.iloc[0] == run.summary.burden_min.mean


def test_save_never_replaces_a_users_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"my work")
    run = sim.run(TINY, days=2, seed=1)
    with pytest.raises(SimError, match="mine"):
        run.save(folder)
    assert (folder / "thesis.docx").read_bytes() == b"my work"
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.docx"]


def test_load_applies_overlays_and_overrides() -> None:
    loaded = sim.load(TINY, overrides={"behaviour.logit_scale_per_min": 0.42})
    assert loaded.scenario.behaviour.logit_scale_per_min == 0.42
    merged = sim.load(TINY, overlays=[TINY_MERGED])
    assert merged.scenario.merger.units


def test_replicated_run_interval_save_and_compare(tmp_path: Path) -> None:
    """Replications: intervals, a replicated folder, ``compare`` equal to ``townsim compare --format csv``."""
    a = sim.run(TINY, days=3, seed=5, replications=2, workers=1)
    b = sim.run(TINY_MERGED, days=3, seed=5, replications=2, workers=1)
    n, mean, low, high = a.interval("burden_min.mean")
    assert n == 2 and low <= mean <= high
    assert a.summary.seed == 5 and len(a.tables["errands"]) > 0
    folder_a, folder_b = a.save(tmp_path / "a"), b.save(tmp_path / "b")
    assert read_replications(folder_a).seeds == [5, 6]
    table = sim.compare(a, b)
    assert tuple(table.columns) == DIFFERENCE_COLUMNS
    assert _as_cli_csv(table) == _cli("compare", folder_a, folder_b, "--format", "csv")
    pd.testing.assert_frame_equal(sim.compare(folder_a, folder_b), table)


def test_compare_scenario_files_runs_paired_seeds() -> None:
    table = sim.compare(TINY, TINY_MERGED, days=3, replications=2, seed=11, workers=1)
    cli = _cli(
        "compare",
        TINY,
        TINY_MERGED,
        "--days",
        "3",
        "--replications",
        "2",
        "--seed",
        "11",
        "--workers",
        "1",
        "--format",
        "csv",
    )
    assert tuple(table.columns) == DIFFERENCE_COLUMNS
    assert not table["metric"].str.contains("by_former_unit").any()  # groups in the group columns
    assert _as_cli_csv(table) == cli


def test_compare_refuses_mixed_sides_and_misplaced_options(tmp_path: Path) -> None:
    run = sim.run(TINY, days=2, seed=1)
    with pytest.raises(ValueError, match="two scenario files or two runs"):
        sim.compare(TINY, run)
    with pytest.raises(ValueError, match="days applies to scenario files"):
        sim.compare(run, run, days=3)
    with pytest.raises(ValueError, match="single run has no interval"):
        run.interval()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("days", 0, "days: expected a number of days from 1"),
        ("seed", -1, "seed: expected a seed"),
        ("replications", 0, "replications: expected"),
        ("days", 2.5, "days: expected a whole number"),
    ],
)
def test_options_out_of_range_are_refused_by_name(option: str, value: object, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        sim.run(TINY, **{option: value})
    with pytest.raises(ValueError, match=expected):
        sim.compare(TINY, TINY_MERGED, **{option: value})


def test_sweep_runs_and_analyses(tmp_path: Path) -> None:
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        f"name: api_sweep\nbase: {TINY}\ndays: 2\n"
        "parameters:\n  behaviour.logit_scale_per_min: {values: [0.1, 0.3]}\n"
        "levers: {baseline: []}\noutcomes: {burden_mean_min: burden_min.mean}\n"
        "sampler: {method: grid}\nreplications: 2\n",
        encoding="utf-8",
    )
    analysis = sim.sweep(experiment, out=tmp_path / "sweep", workers=1)
    points = analysis.points
    assert sorted(points["behaviour.logit_scale_per_min"]) == [0.1, 0.3]
    assert (points["n"] == 2).all() and (points["ci_low"] <= points["mean"]).all()
    assert (tmp_path / "sweep" / "analysis" / "points.parquet").is_file()
