"""Benchmark of timetabled transit: travel tables and a full-population year with buses.

Usage: .venv/bin/python benchmarks/bench_transit.py [SCENARIO] [--repeat N] [--days D] [--skip-year]

1. Tables: road tables of every mode (scipy Dijkstra) + the model's bus tables (arrive-by and
   trip-home journeys per facility node and 5-minute slot) + the depart-at table of all population
   points x all facilities x departure slots every 15 minutes 06:00-20:00. Median of N repeats.
2. Year: ``townsim run``-equivalent (load, model incl. tables, 365 days, result tables, summary)
   in a fresh process each repeat; wall time and peak resident memory (ru_maxrss). Median of N.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "pingtan" / "merged_2021_buses.yaml"

YEAR = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from sim.runner import run_loaded
from sim.scenario.load import load_scenario
loaded = load_scenario(sys.argv[1])
result = run_loaded(loaded, days=int(sys.argv[2]))
wall = time.perf_counter() - t0
transit = result.checked_summary().transit
print(json.dumps({"wall_s": wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "trips": len(result.trips), "bus_trips": transit.bus_trips if transit else None,
                  "no_way_home": transit.no_way_home if transit else None,
                  "line_load_rows": len(result.line_loads)}))
"""


def bench_tables(scenario: Path, repeat: int) -> dict[str, float]:
    """Median seconds of each table-building step."""
    from sim.routing.tables import build_travel_tables
    from sim.scenario.load import load_scenario
    from sim.transit.tables import build_bus_tables, depart_at_tables, slot_grid
    from sim.world.world import build_world

    loaded = load_scenario(scenario)
    world = build_world(loaded)
    transit = loaded.scenario.transit
    assert transit is not None, "the benchmark needs a scenario with transit"
    names = ("road_tables_s", "bus_tables_s", "depart_at_s", "total_s")
    steps: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(repeat):
        t0 = time.perf_counter()
        build_travel_tables(world, loaded.scenario.modes)
        t1 = time.perf_counter()
        bus = build_bus_tables(loaded, world)
        t2 = time.perf_counter()
        slots = slot_grid(6 * 60, 20 * 60, 15)
        journeys = depart_at_tables(bus, world, slots=slots, transfer_min=transit.transfer_min)
        t3 = time.perf_counter()
        for key, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            value_list = steps[key]
            value_list.append(value)
    shape = journeys.dep_min.shape
    print(
        f"depart-at table: {len(world.village_ids)} population points x {len(slots)} slots x "
        f"{len(bus.fac_nodes)} facility nodes ({len(world.fac_ids)} facilities), shape {shape}; "
        f"{bus.timetable.n_trips} trips, {len(bus.timetable.connections())} connections"
    )
    return {k: statistics.median(v) for k, v in steps.items()}


def bench_year(scenario: Path, repeat: int, days: int) -> dict[str, float]:
    """Median wall time and peak memory of a full run in fresh processes."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", YEAR, str(scenario), str(days)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print("  run:", runs[-1])
    return {
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "peak_mb": statistics.median(r["peak_mb"] for r in runs),
    }


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("scenario", nargs="?", default=str(DEFAULT))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--skip-year", action="store_true")
    args = parser.parse_args()
    scenario = Path(args.scenario)
    tables = bench_tables(scenario, args.repeat)
    print("tables (median of", args.repeat, "):", {k: round(v, 3) for k, v in tables.items()})
    if not args.skip_year:
        year = bench_year(scenario, args.repeat, args.days)
        print(
            f"year ({args.days} days, median of {args.repeat}): wall {year['wall_s']:.1f} s, "
            f"peak {year['peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
