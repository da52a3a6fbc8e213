"""Tables figures are drawn from, derived from a run's tables (burden by village, queues by hour, loads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.metrics.summary import THRESHOLDS_MIN

__all__ = [
    "LINE_LOADS",
    "completed_errands",
    "facility_load",
    "facility_utilisation",
    "hourly_queue",
    "read_line_loads",
    "threshold_shares",
    "village_burden",
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


def hourly_queue(trips: pd.DataFrame, facility_days: pd.DataFrame) -> pd.DataFrame:
    """Trips pooled by facility kind, day and hour of arrival: arrivals and mean wait (min).

    Columns: kind, day, hour (0-23, from arrival_min), arrivals, mean_wait_min.
    """
    trips = trips[trips["day"] >= 0]  # measured days (warm-up days are negative)
    kinds = facility_days.drop_duplicates("facility").set_index("facility")["kind"]
    kinds.index = kinds.index.astype(str)
    frame = pd.DataFrame(
        {
            "kind": trips["facility"].astype(str).map(kinds.astype(str)),
            "day": trips["day"].to_numpy(np.int64),
            "hour": (trips["arrival_min"].to_numpy(float) // 60).astype(np.int64),
            "wait": trips["wait_min"].to_numpy(float),
        }
    ).dropna(subset=["kind"])
    grouped = frame.groupby(["kind", "day", "hour"])["wait"]
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
    ``left_behind`` and ``trip`` are optional. Each vehicle run is averaged over the days it ran,
    then runs leaving at the same time on one line (e.g. both directions) are pooled: the larger
    peak, the summed left-behind. Columns out: line, departure_h, peak_load, capacity,
    left_behind (per day; NaN when absent).
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
    runs = frame.groupby(["line", "trip", "departure_h"], as_index=False).mean()
    pooled = runs.groupby(["line", "departure_h"], as_index=False).agg(
        peak_load=("peak_load", "max"), capacity=("capacity", "max"), left_behind=("left_behind", "sum")
    )
    if runs["left_behind"].isna().all():
        pooled["left_behind"] = np.nan
    return pooled
