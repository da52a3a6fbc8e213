"""Benchmark: cost of the accessibility and equity blocks of summary.json on a full-population run.

Runs the scenario once (default: Pingtan merged_2021, 365 days, full population), then times
``access_summary`` (2SFCA / E2SFCA / gravity / queue-aware indices, life circles, merger-effect
cells) and ``equity_blocks`` (Gini, Palma, Theil decompositions, concentration by age) repeatedly.
Prints median, min and max of the repeats, and the same at a larger population scale to show growth.

Usage: python benchmarks/bench_access.py [--scenario FILE] [--days N] [--repeats R] [--scales 1,2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from sim.metrics.access import access_summary
    from sim.metrics.equity import equity_blocks
    from sim.model import AccessModel
    from sim.results import build_result
    from sim.scenario import load_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios/pingtan/merged_2021.yaml"))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scales", default="1,2")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.1f}")
    loaded = load_scenario(args.scenario)
    for scale in (float(s) for s in args.scales.split(",")):
        model = AccessModel(loaded, population_scale=scale)
        model.run(args.days)
        result = build_result(model)
        for name, call in (
            ("access_summary", lambda m=model, r=result: access_summary(m, r)),
            ("equity_blocks", lambda r=result: equity_blocks(r.residents)),
        ):
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                call()
                times.append(time.perf_counter() - t0)
            print(
                f"scale {scale:g}x ({len(model.residents):,} residents, {len(result.errands):,} errands, "
                f"{args.days} days): {name} median {statistics.median(times):.3f} s "
                f"(min {min(times):.3f}, max {max(times):.3f}, {args.repeats} repeats)"
            )


if __name__ == "__main__":
    main()
