"""Do sampled runs keep balking and reneging? (the figures in docs/queue-behaviour.md).

Runs a scenario with balking (beyond 30 waiting) and reneging (mean patience 90 min) on, with the
full population and with a sample fraction (ghost arrivals standing for the rest, who balk and
renege too), for several seeds, and prints per facility kind the mean wait and the shares of
trips that balked and left: full-population mean, sampled mean, and the mean paired difference
(sampled minus full, same seed) ± its standard error across seeds.

Usage: python benchmarks/queue_behaviour_sampling.py [--fraction 0.25] [--days N] [--seeds 1,2,3] [SCENARIO]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BEHAVIOUR = {"behaviour.balking": {"max_waiting": 30}, "behaviour.reneging": {"mean_min": 90}}
KINDS = ("hall", "service_point", "clinic")
MEASURES = ("wait min", "balked %", "left %")


def measure(scenario: str, fraction: float, days: int, seed: int) -> np.ndarray:
    """Per facility kind: mean wait (min), balked and left shares of trips (%)."""
    from sim.runner import run_loaded
    from sim.scenario.load import load_scenario

    overrides = {**BEHAVIOUR, "simulation.sample_fraction": fraction}
    result = run_loaded(load_scenario(scenario, overrides=overrides), days=days, seed=seed)
    trips = result.trips
    kinds = dict(zip(result.places["id"], result.places["kind"].astype(str), strict=True))
    kind = trips["facility"].astype(str).map(kinds).to_numpy()
    outcome = trips["outcome"].astype(str).to_numpy()
    out = []
    for k in KINDS:
        at = kind == k
        out += [trips["wait_min"].to_numpy()[at].mean(), 100 * np.mean(outcome[at] == "balked")]
        out += [100 * np.mean(outcome[at] == "left")]
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios/pingtan/merged_2021.yaml"))
    parser.add_argument("--fraction", type=float, default=0.25)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    full = np.array([measure(args.scenario, 1.0, args.days, s) for s in seeds])
    part = np.array([measure(args.scenario, args.fraction, args.days, s) for s in seeds])
    print(
        f"{Path(args.scenario).name}, {args.days} days, seeds {args.seeds}, sample {args.fraction}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"| facility kind, measure | full population | sample {args.fraction:g} | paired difference ± SE |")
    print("|---|---|---|---|")
    for i, name in enumerate(f"{k} {m}" for k in KINDS for m in MEASURES):
        diff = part[:, i] - full[:, i]
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
        print(
            f"| {name} | {full[:, i].mean():.2f} | {part[:, i].mean():.2f} | {diff.mean():+.2f} ± {se:.2f} |"
        )


if __name__ == "__main__":
    main()
