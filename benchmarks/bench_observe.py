"""Speed of turning a run's tables into the four record kinds in memory (``observe_tables``).

Runs a scenario once (default: Pingtan's merged_2021_buses, 28 days, full population) and prints
the median of 7 timings of ``observe_tables`` on its tables, with the number of trips.

Usage: python benchmarks/bench_observe.py [--days N] [SCENARIO]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("trips", "errands", "facility_days", "residents", "places", "line_loads")


def main() -> None:
    from sim.observed.observe import observe_tables
    from sim.runner import run_loaded
    from sim.scenario.load import load_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios/pingtan/merged_2021_buses.yaml"))
    parser.add_argument("--days", type=int, default=28)
    args = parser.parse_args()
    loaded = load_scenario(args.scenario)
    result = run_loaded(loaded, days=args.days)
    tables = {name: getattr(result, name) for name in TABLES}
    times = []
    for _ in range(7):
        start = time.perf_counter()
        records = observe_tables(tables, loaded.scenario, dt.date(2021, 5, 10))
        times.append(time.perf_counter() - start)
    rows = ", ".join(f"{kind} {len(frame):,}" for kind, frame in records.items())
    print(
        f"{Path(args.scenario).name}, {args.days} days, {len(result.trips):,} trips -> {rows}; "
        f"observe_tables median {np.median(times):.3f} s (min {min(times):.3f}); "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
