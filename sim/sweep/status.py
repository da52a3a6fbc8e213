"""Progress of a sweep folder: planned, ok, failed and pending runs, by lever, and the commonest errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.sweep.store import SweepStore

__all__ = ["SweepStatus", "format_status", "sweep_status"]


@dataclass(frozen=True)
class SweepStatus:
    """Counts of distinct runs of the plan last started in a folder.

    Attributes:
        out: the sweep folder.
        by_lever: per lever: planned, ok, failed, pending.
        errors: error text -> number of failed runs, commonest first.
        run_time_s: summed in-worker wall time of stored runs, seconds.
        stale_rows: stored rows not in the current plan (an older plan or changed scenario files).
    """

    out: Path
    by_lever: pd.DataFrame
    errors: pd.Series
    run_time_s: float
    stale_rows: int

    @property
    def total(self) -> pd.Series:
        """Planned, ok, failed and pending summed over levers."""
        return self.by_lever.sum()


def sweep_status(out: str | Path) -> SweepStatus:
    """Status of a sweep folder.

    Raises:
        SimError: the folder holds no sweep.
    """
    store = SweepStore(out)
    plan = store.read_plan().drop_duplicates("run_key")
    rows = store.read_rows()
    merged = plan[["run_key", "lever"]].merge(rows[["run_key", "status"]], on="run_key", how="left")
    merged["status"] = merged["status"].fillna("pending")
    by_lever = (
        pd.crosstab(merged["lever"], merged["status"])
        .reindex(columns=["ok", "failed", "pending"], fill_value=0)
        .reindex(list(dict.fromkeys(plan["lever"])))
    )
    by_lever.insert(0, "planned", by_lever.sum(axis=1))
    in_plan = rows["run_key"].isin(plan["run_key"])
    failed = rows[in_plan & (rows["status"] == "failed")]
    return SweepStatus(
        out=store.root,
        by_lever=by_lever.astype(int),
        errors=failed["error"].value_counts(),
        run_time_s=float(rows.loc[in_plan, "wall_time_s"].sum()) if "wall_time_s" in rows else 0.0,
        stale_rows=int((~in_plan).sum()),
    )


def format_status(status: SweepStatus, *, max_errors: int = 5) -> str:
    """Human-readable status: totals, a table by lever and the commonest errors."""
    total = status.total
    planned = int(total["planned"])
    finished = int(total["ok"] + total["failed"])
    share = finished / planned if planned else 1.0
    lines = [
        f"{status.out}: {finished:,} of {planned:,} runs done ({share:.0%}): "
        f"{int(total['ok']):,} ok, {int(total['failed']):,} failed, {int(total['pending']):,} pending; "
        f"{status.run_time_s:,.1f} s of run time stored",
        status.by_lever.to_string(),
    ]
    if status.stale_rows:
        lines.append(
            f"{status.stale_rows:,} stored rows belong to no planned run (older plan or changed scenario)"
        )
    for error, count in status.errors.head(max_errors).items():
        lines.append(f"failed x{count}: {error}")
    if total["pending"]:
        lines.append("run the same `townsim sweep` command again to finish the pending runs")
    return "\n".join(lines)
