"""Benchmark: seconds spent in the model's daily steps for a full Pingtan year.

Each measurement runs in a fresh subprocess: load the scenario, build the model (world, travel
tables, residents; not timed), then time 365 calls of ``model.step()`` (needs, choice, travel,
queues, memory, logs). Tables, summary and writing are not included (see bench_year.py).
Prints wall and CPU seconds (median, min and max over repeats) per scenario and the load
average before and after (on a shared machine CPU seconds are the steadier figure).

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
    """Build the model, then time ``days`` daily steps: wall and CPU seconds of this process."""
    from sim.model import AccessModel
    from sim.scenario import load_scenario

    model = AccessModel(load_scenario(scenario))
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(days):
        model.step()
    return {"steps_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu}


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
        times, cpus = [], []
        for _ in range(args.repeats):
            out = subprocess.run(
                [sys.executable, __file__, "--days", str(args.days), "--child", scenario],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            run = json.loads(out.stdout.strip().splitlines()[-1])
            times.append(run["steps_s"])
            cpus.append(run["cpu_s"])
        print(
            f"{Path(scenario).name}: daily steps wall median {statistics.median(times):.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f}); CPU median {statistics.median(cpus):.2f} s "
            f"(min {min(cpus):.2f}, max {max(cpus):.2f})"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
