"""Rank candidate lines: each added on its own to a base scenario, paired replications against the base."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.replications import ReplicationSet, mean_interval, run_many
from sim.scenario.load import LoadedScenario, load_scenario
from sim.transit.candidates import read_candidates
from sim.transit.lines import build_timetable
from sim.world.world import build_world

__all__ = ["RANK_COLUMNS", "rank_lines", "read_candidates"]

RANK_COLUMNS = (
    "rank",
    "line",
    "bus_hours_per_day",
    "n",
    "burden_fall_min",
    "burden_fall_ci_low",
    "burden_fall_ci_high",
    "person_hours_saved_per_day",
    "person_hours_per_bus_hour",
    "person_hours_per_bus_hour_ci_low",
    "person_hours_per_bus_hour_ci_high",
    "gini_change",
    "gini_change_ci_low",
    "gini_change_ci_high",
    "bus_trips",
    "no_way_home",
    "tied_with",
)
"""Ranking columns. Falls and savings are base minus candidate (positive = better); the Gini change
is candidate minus base (negative = more equal). Means over n paired seeds with 95% t intervals;
``bus_trips`` and ``no_way_home`` are means per run; ``tied_with`` lists the candidates whose
person-hours-per-bus-hour interval overlaps this one's (their order is not established)."""


def _bus_hours_per_day(loaded: LoadedScenario, line: str) -> float:
    tt = build_timetable(loaded, build_world(loaded))
    mine = np.array([tt.line_ids[li] == line for li in tt.trip_line], dtype=bool)
    return float((tt.trip_hours()[mine] * tt.trip_days[mine].sum(axis=1)).sum() / 7.0)


def _per_seed(rset: ReplicationSet) -> pd.DataFrame:
    """Per seed: mean burden (min per errand), Gini of per-resident burden, person-hours of burden
    per day (all residents represented: burden x completed errands x sample weight / days / 60),
    bus trips and trips with no way home."""
    rows = []
    for seed, s in zip(rset.seeds, rset.summaries, strict=True):
        burden, gini = s.burden_min.mean, s.equity.gini_burden_per_resident
        people = float("nan") if s.population is None else s.population
        weight = people / s.residents_simulated if s.residents_simulated else float("nan")
        rows.append(
            {
                "seed": seed,
                "burden": float("nan") if burden is None else float(burden),
                "gini": float("nan") if gini is None else float(gini),
                "person_hours": float("nan")
                if burden is None
                else burden * s.burden_min.n * weight / max(rset.days, 1) / 60.0,
                "bus_trips": float(s.transit.bus_trips if s.transit else 0),
                "no_way_home": float(s.transit.no_way_home if s.transit else 0),
            }
        )
    return pd.DataFrame(rows).set_index("seed")


def _overlaps(table: pd.DataFrame) -> list[str]:
    low, high = table["person_hours_per_bus_hour_ci_low"], table["person_hours_per_bus_hour_ci_high"]
    out = []
    for i in range(len(table)):
        if not (np.isfinite(low.iloc[i]) and np.isfinite(high.iloc[i])):
            out.append("no interval (n < 2)")
            continue
        ties = [
            other
            for j, other in enumerate(table["line"])
            if j != i and not (low.iloc[j] > high.iloc[i] or high.iloc[j] < low.iloc[i])
        ]
        out.append(",".join(ties))
    return out


def rank_lines(
    base: str | Path,
    candidates: str | Path,
    *,
    overlays: Sequence[str | Path] = (),
    days: int | None = None,
    seed: int | None = None,
    replications: int = 1,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run base and base + each candidate with the same seeds; rank by person-hours saved per bus-hour.

    Every scenario runs with ``derive_seeds(seed, replications)``, so each candidate is compared
    with the base seed by seed under common random numbers; all runs share one pool of workers.

    Returns:
        The ranking (one row per candidate, best first, columns :data:`RANK_COLUMNS`) and the
        base's means (burden min per errand, Gini, person-hours per day, bus trips, no way home).
    """
    lines = read_candidates(candidates)
    base_loaded = load_scenario(base, overlays=overlays)
    existing = set(base_loaded.scenario.transit.lines) if base_loaded.scenario.transit else set()
    clash = sorted(set(lines) & existing)
    if clash:
        raise ScenarioError(
            str(candidates), f"lines.{clash[0]}", "expected an id that the base scenario does not use"
        )
    scenarios = {"\0base": base_loaded}
    for lid, spec in lines.items():
        scenarios[lid] = load_scenario(base, overlays=overlays, overrides={f"transit.lines.{lid}": spec})
    sets = run_many(
        scenarios, n=replications, seed=seed, days=days, workers=workers, progress=progress, cancel=cancel
    )
    ref = _per_seed(sets["\0base"])
    rows = []
    for lid in lines:
        hours = _bus_hours_per_day(scenarios[lid], lid)
        mine = _per_seed(sets[lid]).reindex(ref.index)
        n, fall, fall_lo, fall_hi = mean_interval((ref["burden"] - mine["burden"]).to_numpy())
        saved = (ref["person_hours"] - mine["person_hours"]).to_numpy()
        _, per_hour, per_lo, per_hi = mean_interval(saved / hours if hours > 0 else saved * np.nan)
        _, gini, gini_lo, gini_hi = mean_interval((mine["gini"] - ref["gini"]).to_numpy())
        rows.append(
            {
                "line": lid,
                "bus_hours_per_day": round(hours, 3),
                "n": n,
                "burden_fall_min": fall,
                "burden_fall_ci_low": fall_lo,
                "burden_fall_ci_high": fall_hi,
                "person_hours_saved_per_day": float(np.nanmean(saved)),
                "person_hours_per_bus_hour": per_hour,
                "person_hours_per_bus_hour_ci_low": per_lo,
                "person_hours_per_bus_hour_ci_high": per_hi,
                "gini_change": gini,
                "gini_change_ci_low": gini_lo,
                "gini_change_ci_high": gini_hi,
                "bus_trips": float(mine["bus_trips"].mean()),
                "no_way_home": float(mine["no_way_home"].mean()),
            }
        )
    table = (
        pd.DataFrame(rows)
        .sort_values(
            ["person_hours_per_bus_hour", "gini_change"],
            ascending=[False, True],
            na_position="last",
            kind="stable",
        )
        .reset_index(drop=True)
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["tied_with"] = _overlaps(table)
    return table[list(RANK_COLUMNS)], {
        "burden_mean_min": float(ref["burden"].mean()),
        "gini_burden": float(ref["gini"].mean()),
        "person_hours_per_day": float(ref["person_hours"].mean()),
        "bus_trips": float(ref["bus_trips"].mean()),
        "no_way_home": float(ref["no_way_home"].mean()),
        "replications": float(len(ref)),
    }
