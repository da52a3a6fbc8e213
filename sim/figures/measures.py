"""Tables figures are drawn from: derived from a run's tables (burden by village, queues by hour, loads),
and paired differences of replicated runs (from ``sim.replications``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.metrics.summary import THRESHOLDS_MIN
from sim.replications import ReplicationSet, paired_difference, paired_place_difference

__all__ = [
    "FIGURE_METRICS",
    "LINE_LOADS",
    "completed_errands",
    "facility_load",
    "facility_utilisation",
    "read_line_loads",
    "threshold_shares",
    "unit_differences",
    "village_burden",
    "village_differences",
    "weekly_queue",
]

LINE_LOADS = "line_loads"  # optional table written by runs with transit


def completed_errands(residents: pd.DataFrame, errands: pd.DataFrame) -> pd.DataFrame:
    """Completed errands with their resident's village, former township, age band and weight.

    Columns: burden_min (door-to-door minutes: travel, waits, service, repeat trips), village,
    former_unit, age_band, weight.
    """
    done = errands[(errands["status"] == "completed") & (errands["arise_day"] >= 0)]  # not the warm-up's
    who = residents.set_index("resident").loc[
        done["resident"].to_numpy(), ["village", "former_unit", "age_band", "weight"]
    ]
    frame = who.reset_index(drop=True)
    frame.insert(0, "burden_min", done["burden_min"].to_numpy(float))
    return frame


def village_burden(places: pd.DataFrame, done: pd.DataFrame) -> pd.DataFrame:
    """Villages (id, x_km, y_km, population) with the weighted mean burden per errand (min), NaN if none."""
    villages = places[places["kind"] == "village"][["id", "x_km", "y_km", "population"]].reset_index(
        drop=True
    )
    wsum = done.groupby("village", observed=True)["weight"].sum()
    bsum = (done["burden_min"] * done["weight"]).groupby(done["village"], observed=True).sum()
    mean = (bsum / wsum).rename(index=str)
    villages["burden_min"] = villages["id"].astype(str).map(mean).astype(float)
    return villages


def facility_load(places: pd.DataFrame, facility_days: pd.DataFrame) -> pd.DataFrame:
    """Receiving facilities (id, kind, x_km, y_km) with mean arrivals per open day (visitors/day)."""
    per_day = facility_days.groupby("facility", observed=True)["arrivals"].mean().rename(index=str)
    fac = places[places["id"].astype(str).isin(per_day.index)][["id", "kind", "x_km", "y_km"]].reset_index(
        drop=True
    )
    fac["arrivals_per_day"] = fac["id"].astype(str).map(per_day).astype(float)
    return fac


def threshold_shares(
    done: pd.DataFrame, *, by: str, thresholds: tuple[int, ...] = THRESHOLDS_MIN
) -> pd.DataFrame:
    """Weighted share (0..1) of completed errands whose burden exceeds each threshold, per group.

    Index: groups of ``by`` (in category order); columns: thresholds in minutes.
    """
    weight = done["weight"].to_numpy(float)
    burden = done["burden_min"].to_numpy(float)
    cols = {t: pd.Series(weight * (burden > t)).groupby(done[by].to_numpy()).sum() for t in thresholds}
    totals = pd.Series(weight).groupby(done[by].to_numpy()).sum()
    shares = pd.DataFrame(cols).div(totals, axis=0)
    column = done[by]
    if isinstance(column.dtype, pd.CategoricalDtype):
        shares = shares.reindex([c for c in column.cat.categories if c in shares.index])
    return shares


def weekly_queue(trips: pd.DataFrame, facility_days: pd.DataFrame, *, start_weekday: int = 0) -> pd.DataFrame:
    """Trips pooled by facility kind, weekday and hour of arrival over all simulated weeks.

    Columns: kind, weekday (0 = Monday; day 0 is ``start_weekday``), hour (0-23, from arrival_min),
    arrivals, mean_wait_min.
    """
    trips = trips[trips["day"] >= 0]  # measured days (warm-up days are negative)
    kinds = facility_days.drop_duplicates("facility").set_index("facility")["kind"]
    kinds.index = kinds.index.astype(str)
    frame = pd.DataFrame(
        {
            "kind": trips["facility"].astype(str).map(kinds.astype(str)),
            "weekday": (trips["day"].to_numpy(np.int64) + start_weekday) % 7,
            "hour": (trips["arrival_min"].to_numpy(float) // 60).astype(np.int64),
            "wait": trips["wait_min"].to_numpy(float),
        }
    ).dropna(subset=["kind"])
    grouped = frame.groupby(["kind", "weekday", "hour"])["wait"]
    return grouped.agg(arrivals="size", mean_wait_min="mean").reset_index()


def facility_utilisation(facility_days: pd.DataFrame) -> pd.DataFrame:
    """Per facility: kind, mean and maximum daily utilisation (busy server time / open server time, 0..1)."""
    grouped = facility_days.groupby("facility", observed=True)
    out = grouped.agg(
        kind=("kind", "first"),
        mean_utilisation=("utilisation", "mean"),
        max_utilisation=("utilisation", "max"),
    )
    out.index = out.index.astype(str)
    out["kind"] = out["kind"].astype(str)
    return out.sort_values("mean_utilisation")


def _departure_hours(values: pd.Series, *, column: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        v = values.astype(float)
        return v if column == "departure_h" or (column == "departure" and v.max() <= 24) else v / 60
    parts = values.astype(str).str.extract(r"(\d{1,2}):(\d{2})").astype(float)
    return parts[0] + parts[1] / 60


def _numeric(raw: pd.DataFrame, column: str) -> pd.Series | float:
    return pd.to_numeric(raw[column], errors="coerce") if column in raw.columns else np.nan


def read_line_loads(run_dir: str | Path) -> pd.DataFrame | None:
    """Bus line loads of a run folder, or None when the run has no transit (no table, or no rows).

    Reads ``line_loads.parquet`` (or ``.csv``) defensively: needs ``line``, a departure time
    (``departure_min`` in minutes after midnight, ``departure_h`` in hours, or ``departure`` as
    minutes, hours or "HH:MM") and ``peak_load`` (else ``boardings``); ``capacity``,
    ``left_behind`` and ``trip`` (``line:direction:HHMM``) are optional. Each vehicle run is averaged
    over the days it ran, then runs of one line and direction leaving at the same time are pooled: the
    larger peak, the summed left-behind. Columns out: line, direction (0 outbound, 1 return; 0 when
    the trip id does not say), departure_h, peak_load, capacity, left_behind (per day; NaN when absent).
    """
    run_dir = Path(run_dir)
    parquet, csv = run_dir / f"{LINE_LOADS}.parquet", run_dir / f"{LINE_LOADS}.csv"
    if parquet.is_file():
        raw = pd.read_parquet(parquet)
    elif csv.is_file():
        raw = pd.read_csv(csv)
    else:
        return None
    departure = next((c for c in ("departure_min", "departure_h", "departure") if c in raw.columns), None)
    load = next((c for c in ("peak_load", "boardings") if c in raw.columns), None)
    if raw.empty or "line" not in raw.columns or departure is None or load is None:
        return None
    frame = pd.DataFrame(
        {
            "line": raw["line"].astype(str),
            "trip": raw["trip"].astype(str) if "trip" in raw.columns else "",
            "departure_h": _departure_hours(raw[departure], column=departure),
            "peak_load": pd.to_numeric(raw[load], errors="coerce"),
            "capacity": _numeric(raw, "capacity"),
            "left_behind": _numeric(raw, "left_behind"),
        }
    ).dropna(subset=["departure_h", "peak_load"])
    if frame.empty:
        return None
    direction = frame["trip"].str.extract(r"^[^:]*:(\d+):", expand=False)
    frame["direction"] = pd.to_numeric(direction, errors="coerce").fillna(0).astype(np.int64)
    runs = frame.groupby(["line", "direction", "trip", "departure_h"], as_index=False).mean()
    pooled = runs.groupby(["line", "direction", "departure_h"], as_index=False).agg(
        peak_load=("peak_load", "max"), capacity=("capacity", "max"), left_behind=("left_behind", "sum")
    )
    if runs["left_behind"].isna().all():
        pooled["left_behind"] = np.nan
    return pooled


#: Summary metrics the difference figures show, by the name figures and labels use for them.
FIGURE_METRICS = {
    "burden_min.mean": "burden_mean_min",
    "burden_min.p90": "burden_p90_min",
    "burden_share_over_min.60": "share_burden_over_60",
}
_SHARES = {"burden_share_over_min.60"}  # fractions in summary.json, percent (points) in figures


def unit_differences(before: ReplicationSet, after: ReplicationSet) -> pd.DataFrame:
    """The :data:`FIGURE_METRICS` overall (group "ALL") and by former township, ``after`` minus
    ``before``, paired by seed with 95% intervals (``sim.replications.paired_difference``); shares in
    percent, so differences read as percentage points. Columns: ``DIFFERENCE_COLUMNS`` of
    ``sim.replications`` (``mean_a``: the comparison run ``before``, ``mean_b``: this run ``after``).
    """
    diff = paired_difference(before, after)
    keep = diff["metric"].isin(list(FIGURE_METRICS)) & diff["group_kind"].isin(["overall", "former_unit"])
    rows = diff[keep].copy()
    share = rows["metric"].isin(list(_SHARES)).to_numpy()
    values = ["mean_a", "mean_b", "mean_diff", "ci_low", "ci_high"]
    rows.loc[share, values] = rows.loc[share, values] * 100
    rows["group"] = rows["group"].where(rows["group_kind"] != "overall", "ALL")
    rows["metric"] = rows["metric"].map(FIGURE_METRICS)
    return rows.reset_index(drop=True)


def village_differences(places: pd.DataFrame, before: ReplicationSet, after: ReplicationSet) -> pd.DataFrame:
    """Villages (id, x_km, y_km, population) with the change in mean burden per completed errand
    (``after`` minus ``before``, min; ``burden_change_min``), its paired 95% interval (``ci_low``,
    ``ci_high``, NaN with fewer than 2 seeds) and ``n`` seeds, from the per-seed village tables
    (``sim.replications.paired_place_difference``)."""
    diff = paired_place_difference(before, after, table="villages").set_index("village")
    out = places[places["kind"] == "village"][["id", "x_km", "y_km", "population"]].reset_index(drop=True)
    key = out["id"].astype(str)
    out["burden_change_min"] = key.map(diff["mean_diff"]).astype(float)
    out["ci_low"] = key.map(diff["ci_low"]).astype(float)
    out["ci_high"] = key.map(diff["ci_high"]).astype(float)
    out["n"] = key.map(diff["n"]).fillna(0).astype(int)
    return out
