"""Size the windows of every hall and service point of a merged plan to its demand (utilisation <= 0.7).

Offered load of a facility = window minutes asked for per open day (service minutes of the
visits served + turned-away visits x the mean service minutes there) / open minutes of one
window. Windows = max(2, ceil(offered load / target)). Demand depends on the windows (turned-away
people come back, waits steer the choice between hall and service point), so the sizing is
iterated: run with the current windows, re-size, until no count changes (a fixed point) or the
counts cycle, in which case each facility gets the largest count of the cycle; a last run checks
the result.

The default target is 0.7 mean utilisation, not higher: demand peaks on weekdays and most of all
on Mondays (the weekend's backlog), so a facility's busiest day runs above 1.0 (service past
closing, visits turned away) even at a 0.6 mean; a 0.85 target left ~10% of hall visits turned
away. On Pingtan (merged_2021.yaml, 91 days, seed 2021) 0.7 gives 62 windows, the staff of the
staff-conserving plan, so the two plans differ only in where the windows are.

Usage: .venv/bin/python scenarios/pingtan/size_to_demand.py [--scenario merged_2021.yaml] [--days 91]
       [--target 0.7] [--seed 2021]
Prints the windows per facility and the mean utilisation of the last run.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.runner import run_loaded
from sim.scenario.load import load_scenario
from sim.world.world import build_world

HERE = Path(__file__).resolve().parent


def offered_load(trips: pd.DataFrame, facility_days: pd.DataFrame, open_min: pd.Series) -> pd.Series:
    """Busy windows asked for per facility: offered service minutes per open day / open minutes."""
    served = trips[trips["outcome"] != "turned_away"].groupby("facility", observed=True)["service_min"]
    mean_service = served.mean()
    turned = trips[trips["outcome"] == "turned_away"].groupby("facility", observed=True).size()
    minutes = served.sum().add(turned.reindex(mean_service.index, fill_value=0) * mean_service, fill_value=0)
    days = facility_days.groupby("facility", observed=True).size()
    return (minutes / days / open_min.reindex(minutes.index)).dropna()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(HERE / "merged_2021.yaml"))
    parser.add_argument("--days", type=int, default=91)
    parser.add_argument("--target", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    base = load_scenario(args.scenario)
    overrides: dict[str, int] = {}
    history: list[dict[str, int]] = []
    final = False
    while True:
        loaded = load_scenario(args.scenario, overrides=overrides)
        result = run_loaded(loaded, days=args.days, seed=args.seed)
        admin = result.facility_days[result.facility_days["kind"].isin(["hall", "service_point"])]
        world = build_world(loaded)
        open_min = pd.Series(world.fac_close_min - world.fac_open_min, index=world.fac_ids, dtype=float)
        load = offered_load(result.trips, admin, open_min)
        util = admin.groupby("facility", observed=True)["utilisation"].mean()
        print(f"run {len(history) + 1}: max mean utilisation {util.max():.3f}; {overrides or 'as planned'}")
        if final:
            break
        sized = {fid: max(2, math.ceil(a / args.target)) for fid, a in load.items()}
        merged = base.raw["merger"]["facilities"]
        new = {
            f"merger.facilities.{fid}.servers" if fid in merged else f"facilities.{fid}.servers": n
            for fid, n in sized.items()
        }
        if new == overrides:  # a fixed point: this run was the check
            break
        if new in history:  # a cycle: the largest count of each facility over it, then a check run
            cycle = history[history.index(new) :]
            new = {key: max(h[key] for h in cycle) for key in new}
            final = True
        history.append(new)
        overrides = new
    sized = {key.split(".")[-2]: n for key, n in overrides.items()}
    print("\nfacility, kind, windows, offered load, mean utilisation, busiest day")
    busiest = admin.groupby("facility", observed=True)["utilisation"].max()
    for fid in sorted(sized):
        kind = str(admin.loc[admin["facility"] == fid, "kind"].iloc[0])
        print(f"{fid}, {kind}, {sized[fid]}, {load[fid]:.2f}, {util[fid]:.3f}, {busiest[fid]:.3f}")
    print(f"total windows {sum(sized.values())}; utilisation max {np.max(util.to_numpy()):.3f}")


if __name__ == "__main__":
    main()
