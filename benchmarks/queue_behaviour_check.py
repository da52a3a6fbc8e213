"""What balking, reneging and day choice do to a plan's queues (the figures in docs/queue-behaviour.md).

Runs a scenario without the options and with each of them (and all three), for several seeds,
and prints per variant: the mean wait of visitors arriving at service points on Mondays between
11:00 and 12:00, the arrival-weighted mean wait at service points and at halls over all days,
the shares of trips that balked, left the queue and were turned away at closing, trips per
completed errand, Monday's share of hall and service-point visits, and the wall time of a run
and of turning its tables into records (``observe_tables``). Differences from the plain run are
paired by seed (common random numbers) with a 95% t interval across seeds.

Usage: python benchmarks/queue_behaviour_check.py [--days N] [--seeds 1,2,3,4] [SCENARIO]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
VARIANTS: dict[str, dict[str, Any]] = {
    "off": {},
    "balking": {"behaviour.balking": {"max_waiting": 30}},
    "reneging": {"behaviour.reneging": {"mean_min": 90}},
    "day choice": {"behaviour.day_choice": {"urgent_share": {"clinic": 0.7}}},
    "all three": {
        "behaviour.balking": {"max_waiting": 30},
        "behaviour.reneging": {"mean_min": 90},
        "behaviour.day_choice": {"urgent_share": {"clinic": 0.7}},
    },
}
MEASURES = (
    "Mon 11-12 wait at service points, min",
    "wait at service points, min",
    "wait at halls, min",
    "balked, % of trips",
    "left, % of trips",
    "turned away, % of trips",
    "trips per completed errand",
    "Monday share of hall visits, %",
    "run wall time, s",
    "observe_tables wall time, s",
)


def measure(scenario: str, overrides: dict[str, Any], days: int, seed: int) -> np.ndarray:
    """The measures of one run (see MEASURES)."""
    from sim.observed.observe import observe_tables
    from sim.runner import run_loaded
    from sim.scenario.load import load_scenario

    loaded = load_scenario(scenario, overrides=overrides)
    start = time.perf_counter()
    result = run_loaded(loaded, days=days, seed=seed)
    run_s = time.perf_counter() - start
    names = ("trips", "errands", "facility_days", "residents", "places", "line_loads")
    start = time.perf_counter()
    observe_tables({n: getattr(result, n) for n in names}, loaded.scenario, dt.date(2021, 5, 10))
    observe_s = time.perf_counter() - start
    trips, places = result.trips, result.places
    kind = trips["facility"].astype(str).map(dict(zip(places["id"], places["kind"].astype(str), strict=True)))
    monday = (trips["day"] % 7) == 0  # start_weekday mon
    outcome = trips["outcome"].astype(str)
    sp, hall = kind == "service_point", kind == "hall"
    late_morning = (trips["arrival_min"] >= 660) & (trips["arrival_min"] < 720)
    done = result.errands[(result.errands["status"] == "completed") & (result.errands["arise_day"] >= 0)]
    return np.array(
        [
            trips.loc[sp & monday & late_morning, "wait_min"].mean(),
            trips.loc[sp, "wait_min"].mean(),
            trips.loc[hall, "wait_min"].mean(),
            100 * (outcome == "balked").mean(),
            100 * (outcome == "left").mean(),
            100 * (outcome == "turned_away").mean(),
            done["trips"].mean(),
            100 * (monday & (sp | hall)).sum() / (sp | hall).sum(),
            run_s,
            observe_s,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios/pingtan/merged_2021.yaml"))
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seeds", default="1,2,3,4")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = {
        name: np.array([measure(args.scenario, o, args.days, s) for s in seeds])
        for name, o in VARIANTS.items()
    }
    print(
        f"{Path(args.scenario).name}, {args.days} days, seeds {args.seeds}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    t = stats.t.ppf(0.975, len(seeds) - 1) if len(seeds) > 1 else float("nan")
    print("| measure | " + " | ".join(VARIANTS) + " |")
    print("|---|" + "---|" * len(VARIANTS))
    for m, name in enumerate(MEASURES):
        cells = []
        for variant, values in runs.items():
            mean = values[:, m].mean()
            if variant == "off" or m >= len(MEASURES) - 2:
                cells.append(f"{mean:.3g}")
                continue
            diff = values[:, m] - runs["off"][:, m]
            half = t * diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
            cells.append(f"{mean:.3g} ({diff.mean():+.3g} ± {half:.2g})")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
