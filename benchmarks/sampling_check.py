"""Check that a sampled run keeps the queues of a full run (README figures).

Runs a scenario at sample fractions 1 and f for several seeds and prints, per facility kind,
the arrival-weighted mean wait, the turned-away share and the mean utilisation over the
measured days, as mean ± standard error across seeds.

Usage: python benchmarks/sampling_check.py [--fraction F] [--days N] [--seeds 1,2,3] [SCENARIO]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def queue_stats(
    scenario: str, fraction: float, days: int, seed: int
) -> dict[str, tuple[float, float, float]]:
    """Per facility kind: (mean wait min, turned-away share, mean utilisation) over days >= 0."""
    from sim.model import AccessModel
    from sim.results import build_result
    from sim.scenario import load_scenario

    model = AccessModel(
        load_scenario(scenario, overrides={"simulation.sample_fraction": fraction}), seed=seed
    )
    model.run(days)
    result = build_result(model)
    fd = result.facility_days
    out = {}
    for kind, sub in fd.groupby("kind", observed=True):
        arrivals = sub["arrivals"].sum()
        wait = float(np.nansum(sub["mean_wait_min"] * sub["arrivals"]) / arrivals) if arrivals else np.nan
        away = float(sub["turned_away"].sum() / arrivals) if arrivals else np.nan
        out[str(kind)] = (wait, away, float(sub["utilisation"].mean()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios/pingtan/baseline.yaml"))
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=91)
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    for fraction in (1.0, args.fraction):
        runs = [queue_stats(args.scenario, fraction, args.days, seed) for seed in seeds]
        for kind in runs[0]:
            values = np.array([r[kind] for r in runs])
            mean, se = values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(len(values))
            print(
                f"f={fraction:g} {kind}: wait {mean[0]:.1f} ± {se[0]:.1f} min, turned away "
                f"{100 * mean[1]:.2f} ± {100 * se[1]:.2f}%, utilisation {mean[2]:.3f} ± {se[2]:.3f}"
            )


if __name__ == "__main__":
    main()
