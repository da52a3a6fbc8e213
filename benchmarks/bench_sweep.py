"""Sweep throughput on the tiny scenario at 1 and 2 Dask workers, parallel efficiency, machinery overhead.

Usage: ``.venv/bin/python benchmarks/bench_sweep.py [--runs 40] [--days 60] [--repeats 3]``

Each sweep runs ``--runs`` runs of the tiny merged scenario (``--days`` days each) on a fresh
LocalCluster into a fresh folder. Steady throughput is measured from the first finished run to
the last (so cluster start, worker imports and the up-front checks are reported apart, as
startup). Machinery overhead at 1 worker = (steady wall time - summed in-worker run time of
the same runs) / summed run time, i.e. what the sweep adds per run on top of the run itself.
Figures are medians over ``--repeats`` sweeps.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from sim.sweep.runner import run_sweep
from sim.sweep.store import SweepStore

ROOT = Path(__file__).resolve().parents[1]


def _experiment(folder: Path, *, runs: int, days: int) -> Path:
    data = {
        "name": "bench_sweep",
        "base": str(ROOT / "scenarios" / "tiny" / "merged.yaml"),
        "days": days,
        "outcomes": {"burden_mean_min": "burden_min.mean"},
        "replications": runs,
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _one_sweep(experiment: Path, out: Path, *, workers: int) -> dict[str, float]:
    stamps: list[float] = []
    started = time.perf_counter()
    report = run_sweep(
        experiment, out=out, workers=workers, progress=lambda _s: stamps.append(time.perf_counter())
    )
    rows = SweepStore(out).read_rows().sort_values("finished_at")
    steady_runs = len(stamps) - 1
    steady_wall = stamps[-1] - stamps[0]
    # Runs finishing after the first one; with w workers the first w runs overlap the start.
    steady_run_time = float(rows["wall_time_s"].iloc[1:].sum())
    return {
        "sweep_wall_s": report.wall_time_s,
        "startup_s": stamps[0] - started,
        "runs_per_s": steady_runs / steady_wall,
        "run_s": float(rows["wall_time_s"].median()),
        "overhead": steady_wall * workers / steady_run_time - 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        experiment = _experiment(folder, runs=args.runs, days=args.days)
        for repeat in range(args.repeats):
            for workers in (1, 2):
                out = folder / f"w{workers}_r{repeat}"
                results[workers].append(_one_sweep(experiment, out, workers=workers))
    med = {w: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for w, rs in results.items()}
    print(f"tiny merged scenario, {args.days} days a run, {args.runs} runs a sweep, median of {args.repeats}")
    for w in (1, 2):
        m = med[w]
        print(
            f"  {w} worker(s): {m['runs_per_s']:.2f} runs/s steady, median run {m['run_s']:.3f} s, "
            f"startup {m['startup_s']:.1f} s, whole sweep {m['sweep_wall_s']:.1f} s"
        )
    efficiency = med[2]["runs_per_s"] / (2 * med[1]["runs_per_s"])
    print(f"  parallel efficiency at 2 workers: {efficiency:.0%} (target >= 80%)")
    print(f"  sweep machinery overhead at 1 worker: {med[1]['overhead']:.1%} of run time (target <= 5%)")


if __name__ == "__main__":
    main()
