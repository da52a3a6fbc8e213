"""Headline metrics of a run (summary.json) computed from its tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics.equity import equity_blocks, gini, theil

__all__ = ["THRESHOLDS_MIN", "group_metrics", "measured_rows", "summarise"]

THRESHOLDS_MIN = (15, 30, 60)


def _num(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _burden_stats(burden: pd.Series | np.ndarray) -> dict[str, float | None]:
    b = np.asarray(burden, dtype=float)
    if len(b) == 0:
        return {"n": 0, "mean": None, "median": None, "p90": None}
    return {
        "n": len(b),
        "mean": _num(b.mean()),
        "median": _num(np.median(b)),
        "p90": _num(np.percentile(b, 90)),
    }


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes and labels of a column (a categorical's own codes, no re-hashing)."""
    cat = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    return cat.cat.codes.to_numpy(), [str(c) for c in cat.cat.categories]


def _completed(errands: pd.DataFrame) -> np.ndarray:
    """Boolean mask of completed errands."""
    code, labels = _codes(errands["status"])
    return code == labels.index("completed") if "completed" in labels else np.zeros(len(code), bool)


def _split_by_code(values: np.ndarray, code: np.ndarray, k: int) -> list[np.ndarray]:
    """``values`` per group 0..k-1, each in its original order (a stable counting sort, O(n))."""
    small = code.astype(np.uint8 if k <= 256 else np.uint16 if k <= 65536 else np.int64)
    order = np.argsort(small, kind="stable")  # radix sort for 8- and 16-bit keys
    return np.split(values[order], np.cumsum(np.bincount(code, minlength=k))[:-1])


Grouping = tuple[np.ndarray, list[str]]  # residents' group code 0..k-1 and the k labels


@dataclass(frozen=True)
class _Errands:
    """The errands columns the grouped metrics use, one row per errand."""

    resident: np.ndarray
    done: np.ndarray  # completed
    burden: np.ndarray  # minutes
    km: np.ndarray
    yuan: np.ndarray
    trips: np.ndarray

    @classmethod
    def of(cls, errands: pd.DataFrame, rows: np.ndarray | None = None) -> _Errands:
        """Columns of ``errands`` (only ``rows``, a boolean mask, if given)."""

        def col(name: str, dtype: Any = None) -> np.ndarray:
            values = errands[name].to_numpy(dtype)
            return values if rows is None else values[rows]

        done = _completed(errands)
        return cls(
            resident=col("resident"),
            done=done if rows is None else done[rows],
            burden=col("burden_min", float),
            km=col("distance_km", float),
            yuan=col("money_yuan", float),
            trips=col("trips", float),
        )


def group_metrics(residents: pd.DataFrame, errands: pd.DataFrame, by: str) -> dict[str, dict[str, Any]]:
    """Burden and access metrics per value of a residents column (former_unit, age_band, island)."""
    return _grouped_metrics(residents, _Errands.of(errands), {by: _codes(residents[by])})[by]


def _access_by_group(
    residents: pd.DataFrame, groupings: dict[str, Grouping]
) -> dict[str, dict[str, tuple[np.ndarray, dict[int, np.ndarray]]]]:
    """Per grouping and access column: weighted mean minutes and shares over each threshold, per group."""
    weight = residents["weight"].to_numpy(float)
    pops = {
        key: np.bincount(code, weights=weight, minlength=len(labels))
        for key, (code, labels) in groupings.items()
    }
    out: dict[str, dict[str, tuple[np.ndarray, dict[int, np.ndarray]]]] = {key: {} for key in groupings}
    for col in [c for c in residents.columns if c.startswith("access_") and c.endswith("_min")]:
        minutes = residents[col].to_numpy(float)
        finite = np.isfinite(minutes)
        w_finite = np.where(finite, weight, 0.0)
        w_minutes = np.where(finite, minutes * weight, 0.0)
        w_over = {t: weight * (minutes > t) for t in THRESHOLDS_MIN}
        for key, (code, labels) in groupings.items():
            k = len(labels)
            wsum = np.bincount(code, weights=w_finite, minlength=k)
            mean = np.bincount(code, weights=w_minutes, minlength=k) / np.where(wsum > 0, wsum, np.nan)
            pop = np.where(pops[key] > 0, pops[key], np.nan)
            shares = {t: np.bincount(code, weights=w_over[t], minlength=k) / pop for t in THRESHOLDS_MIN}
            out[key][col[: -len("_min")]] = (mean, shares)
    return out


def _grouped_metrics(
    residents: pd.DataFrame, errands: _Errands, groupings: dict[str, Grouping]
) -> dict[str, dict[str, dict[str, Any]]]:
    """:func:`group_metrics` for several groupings at once: bincounts and counting sorts, O(n).

    Pending errands are counted in an extra group k (dropped), so no per-grouping copies of the
    completed errands are made.
    """
    weight = residents["weight"].to_numpy(float)
    resident, done, burden, km, yuan = (
        errands.resident,
        errands.done,
        errands.burden,
        errands.km,
        errands.yuan,
    )
    trips_per_resident = np.bincount(resident, weights=errands.trips, minlength=len(weight))
    access = _access_by_group(residents, groupings)
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for key, (code, labels) in groupings.items():
        k = len(labels)
        err_code = np.where(done, code.astype(np.int32)[resident], np.int32(k))
        splits = [burden[done]] if k == 1 else _split_by_code(burden, err_code, k + 1)
        n_done = np.bincount(err_code, minlength=k + 1)
        dist = np.bincount(err_code, weights=km, minlength=k + 1)
        money = np.bincount(err_code, weights=yuan, minlength=k + 1)
        trips = np.bincount(code, weights=trips_per_resident, minlength=k)
        pop = np.bincount(code, weights=weight, minlength=k)
        out: dict[str, dict[str, Any]] = {}
        for i, label in enumerate(labels):
            sub = splits[i]
            has = n_done[i] > 0
            entry: dict[str, Any] = {
                "population": _num(pop[i]),
                "errands_completed": int(n_done[i]),
                "burden_min": _burden_stats(sub),
                "trips_per_completed_errand": _num(trips[i] / n_done[i]) if has else None,
                "distance_km_per_errand": _num(dist[i] / n_done[i]) if has else None,
                "money_yuan_per_errand": _num(money[i] / n_done[i]) if has else None,
                "burden_share_over_min": {
                    str(t): _num(float(np.mean(sub > t))) if has else None for t in THRESHOLDS_MIN
                },
            }
            for name, (mean, shares) in access[key].items():
                entry[name] = {
                    "mean_min": _num(mean[i]),
                    **{f"share_over_{t}": _num(shares[t][i]) for t in THRESHOLDS_MIN},
                }
            out[label] = entry
        result[key] = out
    return result


def measured_rows(errands: pd.DataFrame, trips: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the errands that arose from day 0 on (after the warm-up) and of their trips."""
    arise = errands["arise_day"].to_numpy()
    if len(arise) == 0 or arise.min() >= 0:
        return np.ones(len(errands), dtype=bool), np.ones(len(trips), dtype=bool)
    ids = errands["errand"].to_numpy()
    arise_by_id = np.zeros(int(ids.max()) + 1, dtype=arise.dtype)
    arise_by_id[ids] = arise  # errand ids are dense: an O(n) lookup
    return arise >= 0, arise_by_id[trips["errand"].to_numpy()] >= 0


def _counts(column: pd.Series, rows: np.ndarray) -> dict[str, int]:
    """Rows per label of a categorical column among ``rows``, most frequent first."""
    code, labels = _codes(column)
    counts = np.bincount(code[rows] + 1, minlength=len(labels) + 1)[1:]  # code -1: missing
    return {labels[i]: int(counts[i]) for i in np.argsort(-counts, kind="stable")}


def transit_summary(trips: pd.DataFrame, rows: np.ndarray | None = None) -> dict[str, Any]:
    """Bus trips, waits at stops and changes, trips with no way home (empty without a bus mode);
    only the trips in ``rows`` (a boolean mask) if given."""
    if "mode" not in trips or "bus" not in list(trips["mode"].cat.categories) or "no_way_home" not in trips:
        return {}
    rows = np.ones(len(trips), dtype=bool) if rows is None else rows
    bus = trips[rows & (trips["mode"] == "bus").to_numpy()]
    n, n_trips = len(bus), int(rows.sum())
    lines = pd.concat([bus["lines_out"].astype(str), bus["lines_home"].astype(str)])
    boardings: dict[str, int] = {}
    for label, count in lines[lines != ""].value_counts().items():
        for line in str(label).split(">"):
            boardings[line] = boardings.get(line, 0) + int(count)
    return {
        "bus_trips": n,
        "bus_share": _num(n / n_trips) if n_trips else None,
        "no_way_home": int(trips["no_way_home"].to_numpy()[rows].sum()),
        "no_way_home_share_of_bus_trips": _num(bus["no_way_home"].mean()) if n else None,
        "mean_stop_wait_min": _num(bus["stop_wait_min"].mean()) if n else None,
        "mean_transfer_wait_min": _num(bus["transfer_wait_min"].mean()) if n else None,
        "mean_travel_there_min": _num(bus["travel_min"].mean()) if n else None,
        "mean_travel_home_min": _num(bus["return_min"].mean()) if n else None,
        "boardings_by_line": dict(sorted(boardings.items())),
    }


def summarise(
    *,
    trips: pd.DataFrame,
    errands: pd.DataFrame,
    facility_days: pd.DataFrame,
    residents: pd.DataFrame,
    schools: pd.DataFrame,
) -> dict[str, Any]:
    """Headline metrics: burden per completed errand, access shares, queues, equity, by group.

    Errands that arose in the warm-up (``arise_day < 0``) and their trips are left out; queue
    metrics use the facility days from day 0 (which the warm-up errands' later trips still load).
    """
    err_rows, trip_rows = measured_rows(errands, trips)
    measured = _Errands.of(errands, err_rows)
    done_mask = measured.done
    per_resident = residents["burden_min_per_errand"].to_numpy()
    weight = residents["weight"].to_numpy()
    grouped = _grouped_metrics(
        residents,
        measured,
        {
            "all": (np.zeros(len(residents), np.int8), ["all"]),
            "former_unit": _codes(residents["former_unit"]),
            "age_band": _codes(residents["age_band"]),
            "island": (
                np.where(residents["island"].to_numpy(), 0, 1).astype(np.int8),
                ["islands", "main_island"],
            ),
        },
    )
    service_code, services = _codes(errands["service"])
    k = len(services)
    by_service_burden = _split_by_code(
        measured.burden,
        np.where(done_mask, service_code[err_rows].astype(np.int32), np.int32(k)),
        k + 1,
    )
    by_service = {s: _burden_stats(b) for s, b in zip(services, by_service_burden[:k], strict=True)}
    outcome_counts = _counts(trips["outcome"], trip_rows)
    mode_counts = _counts(trips["mode"], trip_rows)
    n_trips = int(trip_rows.sum())
    kinds = {}
    for kind, sub in facility_days.groupby("kind", observed=True):
        kinds[str(kind)] = {
            "facility_days": len(sub),
            "mean_utilisation": _num(sub["utilisation"].mean()),
            "mean_wait_min": _num(np.nansum(sub["mean_wait_min"] * sub["arrivals"]) / sub["arrivals"].sum())
            if sub["arrivals"].sum()
            else None,
            "p95_wait_min_mean": _num(sub["p95_wait_min"].mean()),
            "turned_away": int(sub["turned_away"].sum()),
            "max_longest_queue": int(sub["longest_queue"].max()),
        }
    placed = schools[schools["school"].notna()]
    equity = {
        "gini_burden_per_resident": _num(gini(per_resident, weight)),
        "theil_burden_per_resident": _num(theil(per_resident, weight)),
    }
    for col in [c for c in residents.columns if c.startswith("access_")]:
        name = col[len("access_") : -len("_min")]
        equity[f"gini_access_{name}"] = _num(gini(residents[col].to_numpy(), weight))
        equity[f"theil_access_{name}"] = _num(theil(residents[col].to_numpy(), weight))
    equity.update(equity_blocks(residents))  # profiles with decompositions (sim/metrics/equity.py)
    transit = transit_summary(trips, trip_rows)
    return {
        **({"transit": transit} if transit else {}),
        "population": _num(weight.sum()),
        "residents_simulated": len(residents),
        "errands": {
            "arisen": len(done_mask),
            "completed": int(done_mask.sum()),
            "pending_at_end": int((~done_mask).sum()),
            "trips": n_trips,
            "trips_completed": int(outcome_counts.get("completed", 0)),
            "trips_referred": int(outcome_counts.get("referred", 0)),
            "trips_turned_away": int(outcome_counts.get("turned_away", 0)),
        },
        **{key: v for key, v in grouped["all"]["all"].items() if key != "population"},
        "burden_min_by_service": by_service,
        "mode_share": {m: _num(c / n_trips) if n_trips else None for m, c in mode_counts.items()},
        "queues_by_kind": kinds,
        "school": {
            "pupils": len(schools),
            "unplaced": int(schools["school"].isna().sum()),
            "mean_one_way_min": _num(placed["one_way_min"].mean()) if len(placed) else None,
            "share_over_40_min": _num((placed["one_way_min"] > 40).mean()) if len(placed) else None,
            "mean_distance_km": _num(placed["distance_km"].mean()) if len(placed) else None,
        },
        "equity": equity,
        "by_former_unit": grouped["former_unit"],
        "by_age_band": grouped["age_band"],
        "by_island": grouped["island"],
    }
