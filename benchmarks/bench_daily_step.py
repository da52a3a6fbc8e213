"""Benchmark: seconds spent in the model's daily steps for a full Pingtan year.

Each measurement runs in a fresh subprocess: load the scenario, build the model (world, travel
tables, residents; not timed), then time 365 calls of ``model.step()`` (needs, choice, travel,
queues, memory, logs). Tables, summary and writing are not included (see bench_year.py).
Prints median, min and max over repeats per scenario and the load average before and after.

Usage: python benchmarks/bench_daily_step.py [--days N] [--repeats R] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [
    str(ROOT / "scenarios/pingtan/merged_2021.yaml"),
    str(ROOT / "scenarios/pingtan/merged_2021_buses.yaml"),
]


def one_run(scenario: str, days: int) -> dict[str, float]:
    """Build the model, then time ``days`` daily steps (s)."""
    from sim.model import AccessModel
    from sim.scenario import load_scenario

    model = AccessModel(load_scenario(scenario))
    start = time.perf_counter()
    for _ in range(days):
        model.step()
    elapsed = time.perf_counter() - start
    return {"steps_s": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=DEFAULT)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(one_run(args.child, args.days)))
        return
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.days} steps, {args.repeats} fresh runs each")
    for scenario in args.scenarios:
        times = []
        for _ in range(args.repeats):
            out = subprocess.run(
                [sys.executable, __file__, "--days", str(args.days), "--child", scenario],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            times.append(json.loads(out.stdout.strip().splitlines()[-1])["steps_s"])
        print(
            f"{Path(scenario).name}: daily steps median {statistics.median(times):.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f})"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
