"""Bounds of every count a command takes, and damaged sweep folders given to analyze.

Every case: exit code 2, one ``townsim: error:`` message naming the option (or file and field),
nothing written, the user's files as they were; none runs before refusing (so none can build a
seed list of 10**12 entries first).
"""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from tests.conftest import ROOT, SCENARIOS, TINY, TINY_MERGED

Setup = Callable[[Path, Path], list[str]]
RUN = ["run", str(TINY), "--days", "1", "--quiet"]
COMPARE = ["compare", str(TINY), str(TINY_MERGED), "--days", "1"]
PLAN = ["plan-facilities", str(TINY_MERGED), "--kind", "hall", "--p", "2"]


def _argv(*argv: str) -> Setup:
    return lambda tmp, sweep: (
        [*argv, "--out", str(tmp / "out")] if argv[0] in ("run", "plan-facilities") else [*argv]
    )


def _scenario(field: str, value: object) -> Setup:
    def setup(tmp: Path, sweep: Path) -> list[str]:
        raw = copy.deepcopy(yaml.safe_load(TINY.read_text(encoding="utf-8")))
        raw.setdefault("simulation", {})[field] = value
        path = tmp / "scenario.yaml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return ["validate", str(path)]

    return setup


def _experiment(edit: Callable[[dict], None]) -> Setup:
    def setup(tmp: Path, sweep: Path) -> list[str]:
        raw = yaml.safe_load((ROOT / "experiments" / "tiny_grid.yaml").read_text(encoding="utf-8"))
        raw["base"] = str(TINY)
        raw["levers"] = {"baseline": []}
        edit(raw)
        (tmp / "exp.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return ["sweep", str(tmp / "exp.yaml"), "--out", str(tmp / "out"), "--workers", "1", "--quiet"]

    return setup


def _sweep(damage: Callable[[Path], None], command: str = "analyze") -> Setup:
    def setup(tmp: Path, sweep: Path) -> list[str]:
        copy_ = tmp / "sweep"
        shutil.copytree(sweep, copy_)
        damage(copy_)
        return [command, str(copy_)]

    return setup


def _first_part(folder: Path) -> Path:
    return sorted((folder / "results").glob("part-*.parquet"))[0]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


CASES: list[tuple[str, Setup, tuple[str, ...]]] = [
    ("run_replications_zero", _argv(*RUN, "--replications", "0"), ("--replications",)),
    ("run_replications_10001", _argv(*RUN, "--replications", "10001"), ("--replications", "10000")),
    ("run_replications_billion", _argv(*RUN, "--replications", "1000000000"), ("--replications",)),
    ("run_replications_text", _argv(*RUN, "--replications", "ten"), ("--replications",)),
    (
        "run_max_replications_10e12",
        _argv(*RUN, "--precision", "burden_min.mean=0.5", "--max-replications", str(10**12)),
        ("--max-replications",),
    ),
    (
        "run_last_seed_two_replications",
        _argv(*RUN, "--seed", str(2**32 - 1), "--replications", "2"),
        ("--seed",),
    ),
    (
        "run_seeds_run_over_the_top",
        _argv(*RUN, "--seed", str(2**32 - 5), "--replications", "10"),
        ("--seed",),
    ),
    ("run_precision_1e-300", _argv(*RUN, "--precision", "burden_min.mean=1e-300"), ("--precision",)),
    ("run_precision_nan", _argv(*RUN, "--precision", "burden_min.mean=nan"), ("--precision",)),
    ("run_precision_inf", _argv(*RUN, "--precision", "burden_min.mean=inf"), ("--precision",)),
    ("run_precision_1e300", _argv(*RUN, "--precision", "burden_min.mean=1e300"), ("--precision",)),
    ("run_days_36501", _argv(*RUN[:-3], "--days", "36501", "--quiet"), ("--days",)),
    ("run_workers_zero", _argv(*RUN, "--workers", "0"), ("--workers",)),
    ("run_workers_100000", _argv(*RUN, "--replications", "2", "--workers", "100000"), ("--workers", "256")),
    ("compare_replications_10001", _argv(*COMPARE, "--replications", "10001"), ("--replications",)),
    (
        "compare_seeds_over_the_top",
        _argv(*COMPARE, "--seed", str(2**32 - 1), "--replications", "2"),
        ("--seed",),
    ),
    (
        "rank_lines_replications_zero",
        lambda tmp, sweep: [
            "rank-lines",
            str(SCENARIOS / "tiny" / "buses.yaml"),
            str(tmp / "c.yaml"),
            "--replications",
            "0",
        ],
        ("--replications",),
    ),
    ("plan_check_days_billion", _argv(*PLAN, "--check-days", "1000000000"), ("--check-days",)),
    ("plan_check_days_text", _argv(*PLAN, "--check-days", "many"), ("--check-days",)),
    ("warmup_billion", _scenario("warmup_days", 10**9), ("scenario.yaml", "simulation.warmup_days")),
    ("warmup_negative", _scenario("warmup_days", -1), ("scenario.yaml", "simulation.warmup_days")),
    ("warmup_text", _scenario("warmup_days", "six weeks"), ("scenario.yaml", "simulation.warmup_days")),
    (
        "experiment_replications_billion",
        _experiment(lambda r: r.update(replications=10**9)),
        ("exp.yaml", "replications"),
    ),
    ("experiment_days_billion", _experiment(lambda r: r.update(days=10**9)), ("exp.yaml", "days")),
    (
        "experiment_first_seed_negative",
        _experiment(lambda r: r.update(first_seed=-1)),
        ("exp.yaml", "first_seed"),
    ),
    (
        "experiment_seeds_over_the_top",
        _experiment(lambda r: r.update(first_seed=2**32 - 1, replications=2)),
        ("exp.yaml", "first_seed + replications"),
    ),
    (
        "experiment_sampler_n_10e12",
        _experiment(lambda r: r.update(sampler={"method": "lhs", "n": 10**12})),
        ("exp.yaml", "sampler.n"),
    ),
    (
        "experiment_sampler_seed_negative",
        _experiment(lambda r: r.update(sampler={"method": "lhs", "n": 4, "seed": -1})),
        ("exp.yaml", "sampler.seed"),
    ),
    ("analyze_truncated_part", _sweep(lambda f: _truncate(_first_part(f))), ("part-", ".parquet")),
    (
        "analyze_part_without_run_key",
        _sweep(lambda f: pd.read_parquet(_first_part(f)).drop(columns="run_key").to_parquet(_first_part(f))),
        ("part-", "run_key"),
    ),
    ("analyze_part_garbage", _sweep(lambda f: _first_part(f).write_bytes(b"PAR1 garbage")), ("part-",)),
    ("analyze_truncated_plan", _sweep(lambda f: _truncate(f / "plan.parquet")), ("plan.parquet",)),
    ("status_truncated_part", _sweep(lambda f: _truncate(_first_part(f)), "sweep-status"), ("part-",)),
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep of 8 one-day runs (tiny grid, one replication)."""
    folder = tmp_path_factory.mktemp("sweep")
    text = (ROOT / "experiments" / "tiny_grid.yaml").read_text(encoding="utf-8")
    text = text.replace("../scenarios/", f"{SCENARIOS}/").replace("days: 14", "days: 1")
    (folder / "exp.yaml").write_text(text.replace("replications: 2", "replications: 1"), encoding="utf-8")
    argv = ["sweep", str(folder / "exp.yaml"), "--out", str(folder / "out"), "--workers", "1", "--quiet"]
    assert main(argv) == 0
    return folder / "out"


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_out_of_bounds_or_damaged_exits_2(
    case: tuple[str, Setup, tuple[str, ...]],
    tmp_path: Path,
    sweep: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, setup, expect = case
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(
        "lines:\n  x: {stops: [w1, e1], headway: {first: '07:00', last: '08:00', every_min: 30}}\n",
        encoding="utf-8",
    )
    argv = setup(tmp_path, sweep)
    before = _snapshot(tmp_path)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    assert re.match(r"townsim( [a-z-]+)?: error:", message), err
    for text in expect:
        assert text in message, f"{text!r} not in {message!r}"
    assert _snapshot(tmp_path) == before
