"""Benchmark: a full-population year of a Pingtan scenario at 1x, 2x and 4x population.

Each measurement runs in a fresh subprocess (so peak memory is that run's own) and times
the whole job a user waits for: load, build world and travel tables, 365 daily steps,
tables, summary and the Parquet run folder. Prints medians over repeats and the growth ratio.

Usage: python benchmarks/bench_year.py [--scenario FILE] [--days N] [--repeats R] [--scales 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(scenario: str, days: int, scale: float) -> dict[str, float]:
    """Run once in this process and report phase times (s) and peak RSS (MB)."""
    from sim.metrics.summary import summarise
    from sim.model import AccessModel
    from sim.results import build_result, write_run
    from sim.scenario import load_scenario

    t0 = time.perf_counter()
    loaded = load_scenario(scenario)
    model = AccessModel(loaded, population_scale=scale)
    t1 = time.perf_counter()
    model.run(days)
    t2 = time.perf_counter()
    result = build_result(model)
    result.summary = summarise(
        trips=result.trips, errands=result.errands, facility_days=result.facility_days,
        residents=result.residents, schools=result.schools,
    )
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_run(result, Path(tmp) / "run", scenario_raw=loaded.raw)
    t4 = time.perf_counter()
    return {
        "residents": len(model.residents),
        "trips": len(result.trips),
        "setup_s": t1 - t0,
        "days_s": t2 - t1,
        "tables_summary_s": t3 - t2,
        "write_s": t4 - t3,
        "total_s": t4 - t0,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios/pingtan/merged_2021.yaml"))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scales", default="1,2,4")
    parser.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(one_run(args.scenario, args.days, args.child)))
        return
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"scenario: {args.scenario}, {args.days} days, median of {args.repeats} runs per scale")
    base = None
    for scale in (float(s) for s in args.scales.split(",")):
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run(
                [sys.executable, __file__, "--scenario", args.scenario, "--days", str(args.days),
                 "--child", str(scale)],
                capture_output=True, text=True, check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        base = base or med["total_s"]
        print(
            f"scale {scale:g}x: {med['residents']:,.0f} residents, {med['trips']:,.0f} trips | "
            f"total {med['total_s']:.1f} s (setup {med['setup_s']:.1f}, days {med['days_s']:.1f}, "
            f"tables+summary {med['tables_summary_s']:.1f}, write {med['write_s']:.1f}) | "
            f"peak {med['peak_mb']:.0f} MB | x{med['total_s'] / base:.2f} of 1x"
        )


if __name__ == "__main__":
    main()
