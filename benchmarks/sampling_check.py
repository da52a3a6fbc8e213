"""Check that a sampled run keeps the queues of a full run (the figures in docs/validation.md).

Runs a scenario with the full population and at each sample fraction for several seeds and
prints, per facility kind, the arrival-weighted mean wait, the turned-away share and the mean
utilisation over the measured days: full-population mean, sampled mean, and the mean paired
difference (sampled minus full, same seed) ± its standard error across seeds.

Usage: python benchmarks/sampling_check.py [--fractions 0.1,0.25] [--days N] [--seeds 1,...,6] [SCENARIO]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MEASURES = ("wait min", "turned away %", "utilisation")


def queue_stats(scenario: str, fraction: float, days: int, seed: int) -> dict[str, np.ndarray]:
    """Per facility kind: (mean wait min, turned-away %, mean utilisation) over the measured days."""
    from sim.model import AccessModel
    from sim.results import build_result
    from sim.scenario import load_scenario

    model = AccessModel(
        load_scenario(scenario, overrides={"simulation.sample_fraction": fraction}), seed=seed
    )
    model.run(days)
    fd = build_result(model).facility_days
    out = {}
    for kind, sub in fd.groupby("kind", observed=True):
        arrivals = sub["arrivals"].sum()
        if arrivals == 0:
            continue
        wait = float(np.nansum(sub["mean_wait_min"] * sub["arrivals"]) / arrivals)
        away = float(100 * sub["turned_away"].sum() / arrivals)
        out[str(kind)] = np.array([wait, away, float(sub["utilisation"].mean())])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios/pingtan/baseline.yaml"))
    parser.add_argument("--fractions", default="0.1,0.25")
    parser.add_argument("--days", type=int, default=91)
    parser.add_argument("--seeds", default="1,2,3,4,5,6")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    fractions = [float(f) for f in args.fractions.split(",")]
    start = time.perf_counter()
    runs = {f: [queue_stats(args.scenario, f, args.days, s) for s in seeds] for f in [1.0, *fractions]}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{Path(args.scenario).name}, {args.days} measured days, seeds {args.seeds}; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.1f}; {time.perf_counter() - start:.0f} s wall, "
        f"{usage.ru_utime + usage.ru_stime:.0f} s CPU"
    )
    full = runs[1.0]
    for kind in full[0]:
        a = np.array([r[kind] for r in full])
        for f in fractions:
            b = np.array([r[kind] for r in runs[f]])
            d = b - a
            se = d.std(axis=0, ddof=1) / np.sqrt(len(d))
            cells = [
                f"{name} {a[:, i].mean():.3g} -> {b[:, i].mean():.3g} ({d[:, i].mean():+.2g} ± {se[i]:.2g})"
                for i, name in enumerate(MEASURES)
            ]
            print(f"{kind:13s} f={f:<5g} " + "; ".join(cells))


if __name__ == "__main__":
    main()
