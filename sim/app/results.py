"""What the page shows after a Run, from the paired replication sets of the base and the plan."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.app.families import families_rows
from sim.metrics.answer import decimals
from sim.replications import ReplicationSet, mean_interval, paired_difference, paired_place_difference

__all__ = ["UNIT_METRICS", "results_json"]

#: Metrics shown by former township: summary.json path -> (page key, scale to the unit shown).
UNIT_METRICS = {
    "burden_min.mean": ("burden_mean_min", 1.0),
    "burden_min.p90": ("burden_p90_min", 1.0),
    "burden_share_over_min.60": ("share_burden_over_60", 100.0),
    "trips_per_completed_errand": ("trips_per_errand", 1.0),
}


def _num(x: Any, scale: float = 1.0) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x) * scale


def _by_unit(diff: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    sel = diff[diff["group_kind"].isin(["former_unit", "overall"]) & diff["metric"].isin(list(UNIT_METRICS))]
    for r in sel.to_dict("records"):
        key, scale = UNIT_METRICS[str(r["metric"])]
        row: dict[str, Any] = {
            "group": "ALL" if r["group_kind"] == "overall" else str(r["group"]),
            "metric": key,
            "n": int(r["n"]),
        }
        for c in ("mean_a", "mean_b", "mean_diff", "ci_low", "ci_high"):
            row[c] = _num(r[c], scale)
        row["decimals"] = decimals(scale * (r["ci_high"] - r["ci_low"]) / 2, default=2)
        rows.append(row)
    return sorted(rows, key=lambda r: r["group"] == "ALL")  # the county last, under its townships


def _per_seed(base: ReplicationSet, plan: ReplicationSet) -> list[dict[str, Any]]:
    b = dict(zip(plan.seeds, plan.summaries, strict=True))
    out = []
    for seed, s in zip(base.seeds, base.summaries, strict=True):
        if seed in b:
            a_val, b_val = s.burden_min.mean, b[seed].burden_min.mean
            out.append(
                {
                    "seed": seed,
                    "a": a_val,
                    "b": b_val,
                    "diff": None if a_val is None or b_val is None else b_val - a_val,
                }
            )
    return out


def _villages(base: ReplicationSet, plan: ReplicationSet) -> dict[str, dict[str, Any]]:
    diff = paired_place_difference(base, plan)
    return {
        str(r["village"]): {
            "diff": _num(r["mean_diff"]),
            "a": _num(r["mean_a"]),
            "b": _num(r["mean_b"]),
            "clear": not bool(r["ci_includes_zero"]),
        }
        for r in diff.to_dict("records")
        if int(r["n"]) > 0
    }


def _facilities(
    base: ReplicationSet, plan: ReplicationSet, servers: tuple[dict[str, int], dict[str, int]]
) -> list[dict[str, Any]]:
    cols = ["arrivals_per_day", "mean_wait_min", "mean_utilisation", "turned_away"]
    means = [s.facilities.groupby("facility")[cols].mean() for s in (base, plan)]
    kinds = (
        pd.concat([base.facilities, plan.facilities])
        .drop_duplicates("facility")
        .set_index("facility")["kind"]
    )
    waits = paired_place_difference(base, plan, table="facilities", value="mean_wait_min").set_index(
        "facility"
    )
    rows = []
    for fid in dict.fromkeys([*means[0].index, *means[1].index]):
        row: dict[str, Any] = {"id": fid, "kind": kinds[fid]}
        for side, frame, days, srv in (
            ("a", means[0], base.days, servers[0]),
            ("b", means[1], plan.days, servers[1]),
        ):
            have = fid in frame.index
            row[f"servers_{side}"] = srv.get(fid)
            row[f"arrivals_per_day_{side}"] = _num(frame.loc[fid, "arrivals_per_day"]) if have else None
            row[f"mean_wait_min_{side}"] = _num(frame.loc[fid, "mean_wait_min"]) if have else None
            row[f"utilisation_{side}"] = _num(frame.loc[fid, "mean_utilisation"]) if have else None
            row[f"turned_away_per_day_{side}"] = _num(frame.loc[fid, "turned_away"] / days) if have else None
        if fid in waits.index:
            row["wait_ci"] = [_num(waits.loc[fid, "ci_low"]), _num(waits.loc[fid, "ci_high"])]
        rows.append(row)
    return rows


def _line_loads(run_dir: Path) -> pd.DataFrame:
    """Mean and highest load factor and left behind per day by line, from a kept run folder."""
    file = run_dir / "line_loads.parquet"
    if not file.is_file():
        return pd.DataFrame()
    ll = pd.read_parquet(file)
    if ll.empty:
        return pd.DataFrame()
    g = ll.groupby(ll["line"].astype(str))
    return pd.DataFrame(
        {
            "mean_load_factor": g["load_factor"].mean(),
            "max_load_factor": g["load_factor"].max(),
            "left_behind": g["left_behind"].sum(),
        }
    )


def _boardings(rset: ReplicationSet) -> pd.DataFrame:
    """Boardings per line (columns) and seed (rows); a line a run does not have carries 0."""
    rows = {
        seed: s.transit.boardings_by_line if s.transit is not None else {}
        for seed, s in zip(rset.seeds, rset.summaries, strict=True)
    }
    return pd.DataFrame.from_dict(rows, orient="index", dtype=float)


def _lines(base: ReplicationSet, plan: ReplicationSet, first_run: Path | None) -> list[dict[str, Any]]:
    a, b = _boardings(base), _boardings(plan)
    seeds = [s for s in base.seeds if s in set(plan.seeds)]
    names = list(dict.fromkeys([*a.columns, *b.columns]))
    a = a.reindex(index=seeds, columns=names).fillna(0.0)
    b = b.reindex(index=seeds, columns=names).fillna(0.0)
    loads = _line_loads(first_run) if first_run is not None else pd.DataFrame()
    rows = []
    for line in names:
        _, _, low, high = mean_interval((b[line] - a[line]).to_numpy(float) / plan.days)
        row: dict[str, Any] = {
            "line": line,
            "boardings_per_day_a": float(a[line].mean()) / base.days,
            "boardings_per_day_b": float(b[line].mean()) / plan.days,
            "boardings_ci": [_num(low), _num(high)],
        }
        if line in loads.index:
            row["mean_load_factor_b"] = _num(loads.loc[line, "mean_load_factor"])
            row["max_load_factor_b"] = _num(loads.loc[line, "max_load_factor"])
            row["left_behind_per_day_b"] = _num(loads.loc[line, "left_behind"], 1 / plan.days)
        rows.append(row)
    return rows


def results_json(
    base: ReplicationSet,
    plan: ReplicationSet,
    *,
    servers: tuple[dict[str, int], dict[str, int]],
    first_run: Path | None,
    raw: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the page shows after a Run (None where a value is undefined, never NaN);
    ``raw``: the plan's resolved scenario, for the names in the answer's sentences."""
    from sim.app.answer import answer_json

    diff = paired_difference(base, plan)
    return {
        "answer": answer_json(base, plan, raw),
        "by_unit": _by_unit(diff),
        "per_seed": _per_seed(base, plan),
        "villages": _villages(base, plan),
        "facilities": _facilities(base, plan, servers),
        "lines": _lines(base, plan, first_run),
        "families": families_rows(diff),  # school radius, boarding, escorts, ferries (sim/app/families.py)
    }
