"""Measure the warm-up of the Pingtan scenarios by MSER on their daily series.

Runs each scenario from empty queues and memories (``simulation.warmup_days: 0``) for a year
and applies MSER (White 1997, "An effective truncation heuristic for bias reduction in
simulation output"; here on weekly batch means, which also removes the weekday cycle) to the
daily mean queue wait and to the pending errands: the truncation point d minimises
sum_{i>d} (Y_i - mean(Y_{d+1..n}))^2 / (n - d)^2 over d <= n/2 batches. Prints d in days per
scenario, seed and series, and the 7-day means of the first weeks against the rest of the year.

Usage: python benchmarks/warmup_mser.py [--days N] [--seeds 1,2,3] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [
    str(ROOT / "scenarios/pingtan" / n)
    for n in ("baseline.yaml", "merged_2021.yaml", "merged_2021_buses.yaml")
]
BATCH = 7


def mser_days(series: np.ndarray, batch: int = BATCH) -> int:
    """MSER truncation point (days) on batch means of ``series``."""
    n = len(series) // batch
    y = series[: n * batch].reshape(n, batch).mean(axis=1)
    best, best_d = np.inf, 0
    for d in range(n // 2 + 1):
        rest = y[d:]
        value = np.sum((rest - rest.mean()) ** 2) / len(rest) ** 2
        if value < best:
            best, best_d = value, d
    return best_d * batch


def main() -> None:
    from sim.model import AccessModel
    from sim.scenario import load_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=DEFAULT)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    for scenario in args.scenarios:
        for seed in (int(s) for s in args.seeds.split(",")):
            loaded = load_scenario(scenario, overrides={"simulation.warmup_days": 0})
            model = AccessModel(loaded, seed=seed)
            model.run(args.days)
            daily = model.datacollector.get_model_vars_dataframe()
            cuts = {}
            for col in ("mean_wait_min", "pending"):
                y = daily[col].to_numpy(float)
                weekly = y[: len(y) // 7 * 7].reshape(-1, 7).mean(axis=1)
                cuts[col] = mser_days(y)
                print(
                    f"{Path(scenario).name} seed {seed} {col}: MSER truncation {cuts[col]} days; "
                    f"weekly means weeks 1-6 {np.round(weekly[:6], 1).tolist()}, "
                    f"weeks 7-52 mean {weekly[6:].mean():.1f} (sd {weekly[6:].std(ddof=1):.1f})"
                )


if __name__ == "__main__":
    main()
