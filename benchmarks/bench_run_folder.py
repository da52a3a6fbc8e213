"""Benchmark of the run-folder checks every reader makes first (``sim.results.folder``).

Usage: .venv/bin/python benchmarks/bench_run_folder.py RUN_FOLDER [--repeat N]

Times :func:`sim.results.folder.load_any_folder` on a finished run or replicated run folder (the
summary through RunSummary, provenance, scenario.yaml, table schemas, places and edges values,
the outline) after one warm-up call, and prints the median, min and max of N calls with the load
average, e.g. on ``townsim run scenarios/pingtan/merged_2021.yaml --days 30 --out /tmp/pt30``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from sim.results.folder import load_any_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a run folder or replicated run folder")
    parser.add_argument("--repeat", type=int, default=7, help="timed calls (default 7)")
    args = parser.parse_args()
    load_any_folder(args.folder)  # imports and file cache
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        load_any_folder(args.folder)
        times.append(time.perf_counter() - start)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"load_any_folder {args.folder}: median {statistics.median(times) * 1000:.0f} ms "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {args.repeat} calls; "
        f"load average {load}, {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
