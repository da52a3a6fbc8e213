"""Replications: seeds, paired CIs against scipy, parallel = serial, folders, precision target, CLI."""

from __future__ import annotations

import copy
import functools
import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.errors import SimError
from sim.replications import (
    DIFFERENCE_COLUMNS,
    PrecisionTarget,
    ReplicationSet,
    RunCancelled,
    derive_seeds,
    is_replications_dir,
    paired_difference,
    paired_place_difference,
    read_replications,
    run_paired,
    run_replications,
    summary_metrics,
)
from sim.results.summary_model import RunSummary
from sim.runner import run_loaded
from sim.scenario.load import load_scenario
from tests.conftest import TINY, TINY_MERGED

DAYS = 20


@functools.cache
def _template() -> dict:
    """The summary of a short tiny run, as JSON (the fake sets change a few of its values)."""
    return run_loaded(load_scenario(TINY), days=2, seed=1).checked_summary().to_json_dict()


def _fake_summary(name: str, seed: int, burden: float) -> RunSummary:
    data = copy.deepcopy(_template())
    data.update(scenario=name, seed=seed)
    data["burden_min"].update(mean=burden, p90=None)
    data["equity"]["gini_burden_per_resident"] = burden / 100
    data["by_former_unit"]["east"]["burden_min"]["mean"] = burden + 1
    data["by_island"]["islands"]["burden_min"]["mean"] = 2 * burden
    return RunSummary.model_validate(data)


def _fake_set(name: str, seeds: list[int], burden: list[float]) -> ReplicationSet:
    summaries = [_fake_summary(name, s, b) for s, b in zip(seeds, burden, strict=True)]
    villages = pd.DataFrame(
        {"seed": seeds, "village": "v1", "errands_completed": 1.0, "burden_mean_min": burden}
    )
    return ReplicationSet(name, 10, seeds[0], list(seeds), summaries, villages, villages.iloc[:0])


def test_derive_seeds_start_with_the_base_seed_and_are_prefix_stable() -> None:
    ten = derive_seeds(2021, 10)
    assert ten[0] == 2021 and len(set(ten)) == 10
    assert derive_seeds(2021, 4) == ten[:4]
    assert derive_seeds(2021, 10) == ten and derive_seeds(1, 10) != ten
    with pytest.raises(SimError):
        derive_seeds(1, 0)


def test_summary_metrics_flatten_overall_and_groups_with_nan_for_null() -> None:
    m = summary_metrics(_fake_set("a", [1], [40.0]).summaries[0])
    overall = m[m["group_kind"] == "overall"].set_index("metric")["value"]
    assert overall["burden_min.mean"] == 40.0 and np.isnan(overall["burden_min.p90"])
    assert "seed" not in overall.index and "scenario" not in overall.index
    east = m[(m["group_kind"] == "former_unit") & (m["group"] == "east")].set_index("metric")["value"]
    assert east["burden_min.mean"] == 41.0 and "population" in east.index


def test_paired_difference_matches_scipy_paired_t_interval() -> None:
    rng = np.random.default_rng(3)
    seeds = [5, 6, 7, 8, 9, 10]
    a_vals = rng.normal(50, 5, size=6)
    b_vals = a_vals + rng.normal(-2, 1, size=6)
    a = _fake_set("a", seeds, a_vals.tolist())
    # B lists its seeds in another order and has one extra seed: pairing is by seed, not position
    order = [3, 1, 0, 5, 2, 4]
    b = _fake_set("b", [seeds[i] for i in order] + [99], [b_vals[i] for i in order] + [0.0])
    diff = paired_difference(a, b)
    assert list(diff.columns) == list(DIFFERENCE_COLUMNS)
    row = diff[(diff["metric"] == "burden_min.mean") & (diff["group_kind"] == "overall")].iloc[0]
    ref = stats.ttest_rel(b_vals, a_vals).confidence_interval(0.95)
    assert row["n"] == 6
    assert row["mean_diff"] == pytest.approx(float(np.mean(b_vals - a_vals)))
    assert row["mean_b"] - row["mean_a"] == pytest.approx(row["mean_diff"])
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ref.low, ref.high))
    p90 = diff[diff["metric"] == "burden_min.p90"].iloc[0]  # null in every run: no pair, no number
    assert p90["n"] == 0 and np.isnan(p90["mean_diff"]) and np.isnan(p90["ci_low"])
    assert diff["group_kind"].tolist().index("former_unit") > diff["group_kind"].tolist().index("overall")
    place = paired_place_difference(a, b).iloc[0]
    assert (place["ci_low"], place["ci_high"]) == pytest.approx((ref.low, ref.high))
    assert bool(place["ci_includes_zero"]) == (ref.low <= 0 <= ref.high)


def test_paired_difference_needs_common_seeds_and_one_seed_gives_no_interval() -> None:
    with pytest.raises(SimError, match="share no seed"):
        paired_difference(_fake_set("a", [1, 2], [1.0, 2.0]), _fake_set("b", [3, 4], [1.0, 2.0]))
    one = paired_difference(_fake_set("a", [1], [1.0]), _fake_set("b", [1], [3.0]))
    row = one[one["metric"] == "burden_min.mean"].iloc[0]
    assert row["n"] == 1 and row["mean_diff"] == 2.0 and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])


def test_parallel_replications_equal_serial_and_single_runs() -> None:
    loaded = load_scenario(TINY)
    seen: list[tuple[int, int]] = []
    par = run_replications(
        loaded, n=3, seed=11, days=DAYS, workers=2, progress=lambda d, t: seen.append((d, t))
    )
    ser = run_replications(loaded, n=3, seed=11, days=DAYS, workers=1)
    assert par.seeds == ser.seeds == derive_seeds(11, 3)
    assert par.summaries == ser.summaries
    assert seen[-1] == (3, 3) and [d for d, _ in seen] == [1, 2, 3]
    alone = run_loaded(load_scenario(TINY), days=DAYS, seed=par.seeds[1]).summary  # world built afresh
    assert alone == par.summaries[1]
    pd.testing.assert_frame_equal(par.villages, ser.villages)
    assert set(par.villages["seed"]) == set(par.seeds) and par.villages["burden_mean_min"].notna().any()


def test_cancel_stops_between_runs_and_keeps_finished_ones() -> None:
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 2:
            cancel.set()

    with pytest.raises(RunCancelled) as info:
        run_replications(load_scenario(TINY), n=5, days=5, workers=1, progress=progress, cancel=cancel)
    assert info.value.partial["a"].n == 2


def test_precision_target_adds_replications_until_reached_or_maximum() -> None:
    loaded = load_scenario(TINY)
    loose = run_replications(
        loaded, n=3, days=DAYS, workers=1, target=PrecisionTarget("burden_min.mean", 1e6), max_n=8
    )
    assert loose.n == 3
    strict = run_replications(
        loaded, n=3, days=DAYS, workers=2, target=PrecisionTarget("burden_min.mean", 1e-6), max_n=6
    )
    assert strict.n == 6 and strict.seeds == derive_seeds(loaded.scenario.simulation.seed, 6)
    a, b = run_paired(
        loaded,
        load_scenario(TINY_MERGED),
        n=3,
        days=DAYS,
        workers=2,
        target=PrecisionTarget("burden_min.mean", 1e-6),
        max_n=5,
    )
    assert a.seeds == b.seeds and a.n == 5
    with pytest.raises(SimError, match="no metric"):
        run_replications(loaded, n=2, days=3, workers=1, target=PrecisionTarget("nonsense", 1.0), max_n=4)
    for bad in ("burden_min.mean", "burden_min.mean=-1", "x=abc", "planet:x:burden_min.mean=1"):
        with pytest.raises(SimError):
            PrecisionTarget.parse(bad)
    assert PrecisionTarget.parse("former_unit:east:burden_min.mean=0.5") == PrecisionTarget(
        "burden_min.mean", 0.5, "former_unit", "east"
    )


def test_run_replications_cli_writes_a_folder_compare_pairs(tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert (
        main(["run", str(TINY), "--days", str(DAYS), "--replications", "3", "--out", str(a), "--quiet"]) == 0
    )
    assert (
        main(
            [
                "run",
                str(TINY_MERGED),
                "--days",
                str(DAYS),
                "--replications",
                "3",
                "--out",
                str(b),
                "--quiet",
                "--keep-tables",
            ]
        )
        == 0
    )
    assert "95% CI" in capsys.readouterr().out
    assert is_replications_dir(a) and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    seeds = derive_seeds(7, 3)
    assert sorted(p.name for p in a.glob("seed_*")) == [f"seed_{seeds[0]}"]  # full tables of the first seed
    assert sorted(p.name for p in b.glob("seed_*")) == sorted(f"seed_{s}" for s in seeds)
    assert read_replications(a).seeds == seeds

    assert main(["compare", str(a), str(b), "--format", "csv"]) == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert list(table.columns) == list(DIFFERENCE_COLUMNS)
    assert set(table["group_kind"]) == {"overall", "former_unit", "age_band", "island"}
    assert (table["n"] == 3).any() and table["ci_low"].notna().any()
    assert main(["compare", str(a), str(b), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["a"]["seeds"] == seeds and len(data["rows"]) == len(table)
    assert main(["compare", str(a), str(b)]) == 0
    text = capsys.readouterr().out
    assert "== burden_min.mean ==" in text and "95% CI" in text and "paired by seed" in text

    # a single run pairs with the replication of its seed only
    single = tmp_path / "single"
    assert main(["run", str(TINY_MERGED), "--days", str(DAYS), "--out", str(single), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", str(a), str(single), "--format", "csv"]) == 0
    one = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert set(one["n"]) <= {0, 1}
    # the single run equals the first replication of B exactly
    rb = read_replications(b)
    assert read_replications(single).summaries[0] == rb.summaries[0]


def test_compare_scenario_files_runs_paired_replications(capsys) -> None:
    args = ["compare", str(TINY), str(TINY_MERGED), "--days", "10", "--replications", "3", "--format", "json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["a"]["seeds"] == data["b"]["seeds"] == derive_seeds(7, 3)


def test_replication_options_refuse_bad_input(tmp_path: Path, capsys) -> None:
    out = tmp_path / "x"
    with pytest.raises(SystemExit) as exc:
        main(["run", str(TINY), "--replications", "0", "--out", str(out)])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["run", str(TINY), "--precision", "burden_min.mean", "--out", str(out)])
    assert exc.value.code == 2 and "METRIC=HALF_WIDTH" in capsys.readouterr().err
    assert main(["run", str(TINY), "--max-replications", "5", "--out", str(out)]) == 2
    assert main(["compare", str(TINY), str(tmp_path)]) == 2
    assert main(["compare", str(tmp_path), str(tmp_path), "--days", "3"]) == 2
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["run", str(TINY), "--days", "2", "--replications", "2", "--out", str(mine), "--quiet"]) == 2
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert "not written by townsim" in capsys.readouterr().err
    assert not out.exists()
