"""Headline metrics of a run (summary.json) computed from its tables."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics.equity import equity_measures, round_blocks
from sim.results.summary_model import TransitSummary

__all__ = ["THRESHOLDS_MIN", "group_metrics", "measured_rows", "summarise"]

THRESHOLDS_MIN = (15, 30, 60)


def _num(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _sorted_median(s: np.ndarray) -> float:
    """``np.median`` of values already sorted ascending (NaN sorts last), with numpy's arithmetic."""
    n = len(s)
    if np.isnan(s[-1]):
        return float("nan")
    half = n // 2
    return float(s[half]) if n % 2 else float((s[half - 1] + s[half]) / 2)


def _sorted_percentile(s: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear method) of values sorted ascending, with numpy's arithmetic."""
    n = len(s)
    if np.isnan(s[-1]):
        return float("nan")
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return float(s[-1])
    below = int(np.floor(virtual))
    gamma = virtual - below
    a, b = float(s[below]), float(s[below + 1])
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


#: Burden stats (n, mean, median, p90) and shares over each threshold of one group (:func:`_burden_block`).
BurdenBlock = tuple[dict[str, float | None], dict[str, float | None]]


def _burden_block(s: np.ndarray) -> BurdenBlock:
    """Burden stats (n, mean, median, p90) and shares over each threshold of one group's completed
    errands, from their burdens (minutes) sorted ascending: order statistics and binary searches."""
    n = len(s)
    if n == 0:
        return {"n": 0, "mean": None, "median": None, "p90": None}, {str(t): None for t in THRESHOLDS_MIN}
    n_le = np.searchsorted(s, np.asarray([*THRESHOLDS_MIN, np.inf], dtype=float), side="right")
    over = n_le[-1] - n_le[:-1]  # finite values above each threshold (NaN sorts after inf)
    stats = {
        "n": n,
        "mean": _num(s.mean()),
        "median": _num(_sorted_median(s)),
        "p90": _num(_sorted_percentile(s, 90)),
    }
    return stats, {str(t): _num(int(c) / n) for t, c in zip(THRESHOLDS_MIN, over, strict=True)}


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes and labels of a column (a categorical's own codes, no re-hashing)."""
    cat = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    return cat.cat.codes.to_numpy(), [str(c) for c in cat.cat.categories]


def _completed(errands: pd.DataFrame) -> np.ndarray:
    """Boolean mask of completed errands."""
    code, labels = _codes(errands["status"])
    return code == labels.index("completed") if "completed" in labels else np.zeros(len(code), bool)


Grouping = tuple[np.ndarray, list[str]]  # residents' group code 0..k-1 and the k labels


@dataclass(frozen=True)
class _Errands:
    """The errands columns the grouped metrics use: resident and trips of every (measured) errand,
    the other columns of the completed ones only (residents as 32-bit ids, trips in their own
    integer dtype: half the memory or less, the same sums); distance and money stay the table's
    columns, taken at ``done`` only while summed."""

    resident: np.ndarray
    trips: np.ndarray
    done_resident: np.ndarray
    burden: np.ndarray  # minutes
    km: np.ndarray  # every errand's
    yuan: np.ndarray  # every errand's
    done: np.ndarray  # boolean mask of the completed (measured) errands
    done_service: np.ndarray  # service code
    services: list[str]  # service labels

    @classmethod
    def of(cls, errands: pd.DataFrame, rows: np.ndarray | None = None) -> _Errands:
        """Columns of ``errands`` (only ``rows``, a boolean mask, if given)."""
        done = _completed(errands)
        done_at = done if rows is None else done & rows
        service_code, services = _codes(errands["service"])

        def col(name: str, at: np.ndarray | None, dtype: Any = None) -> np.ndarray:
            """Column ``name`` at the rows of the boolean mask ``at`` (all if None), as ``dtype``."""
            values = errands[name].to_numpy() if name != "service" else service_code
            return np.asarray(values if at is None else values[at], dtype=dtype)

        return cls(
            resident=col("resident", rows, np.int32),
            trips=col("trips", rows),
            done_resident=col("resident", done_at, np.int32),
            burden=col("burden_min", done_at, float),
            km=col("distance_km", None, float),
            yuan=col("money_yuan", None, float),
            done=done_at,
            done_service=col("service", done_at),
            services=services,
        )


def group_metrics(residents: pd.DataFrame, errands: pd.DataFrame, by: str) -> dict[str, dict[str, Any]]:
    """Burden and access metrics per value of a residents column (former_unit, age_band, island)."""
    return _grouped_metrics(residents, _Errands.of(errands), {by: _codes(residents[by])})[0][by]


#: Most cells (combinations of group codes, times services) the grouped metrics split errands into.
MAX_CELLS = 1 << 16


@dataclass(frozen=True)
class _Cells:
    """Residents in cells, one per combination of the groupings' codes: per-group totals are
    bincounts over cells summed per group (O(n) once, not once per grouping)."""

    code: np.ndarray  # cell of each resident, as a bincount's index (intp: no conversion per bincount)
    n: int
    of_cell: dict[str, np.ndarray]  # each grouping's code per cell
    sizes: dict[str, int]

    @classmethod
    def of(cls, groupings: dict[str, Grouping]) -> _Cells:
        sizes = {key: len(labels) for key, (_, labels) in groupings.items()}
        n = math.prod(sizes.values())
        code = np.zeros(len(next(iter(groupings.values()))[0]), dtype=np.intp)
        for key, (group, _) in groupings.items():
            code = code * sizes[key] + group
        of_cell, stride = {}, n
        for key, k in sizes.items():
            stride //= k
            of_cell[key] = (np.arange(n) // stride) % k
        return cls(code=code, n=n, of_cell=of_cell, sizes=sizes)

    def totals(self, cell: np.ndarray, values: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per grouping, the sum of ``values`` (count if None) per group, rows given by their cell."""
        return self.sums(np.bincount(cell, weights=values, minlength=self.n))

    def sums(self, by_cell: np.ndarray) -> dict[str, np.ndarray]:
        """Per grouping, the sum per group of per-cell totals ``by_cell``."""
        return {
            key: np.bincount(of, weights=by_cell, minlength=self.sizes[key])
            for key, of in self.of_cell.items()
        }

    def interleaved(self, cell: np.ndarray, m: int) -> np.ndarray:
        """Bin of each value of an (rows, m) array, row by row: (cell of the row, column)."""
        key: np.ndarray = (cell[:, None] * m + np.arange(m)).ravel()
        return key

    def column_totals(self, key: np.ndarray, values: np.ndarray) -> list[dict[str, np.ndarray]]:
        """:meth:`totals` of each column of ``values`` (rows, m), ``key`` its :meth:`interleaved`
        bins: one bincount over the values row by row, so each (cell, column) sum adds the same
        values in the same order (row order) as a bincount per column, while the sums of
        neighbouring values go to different bins (residents come grouped by cell, and a
        bincount over one column chains each addition on the previous one)."""
        m = values.shape[1]
        by_cell = np.bincount(key, weights=values.ravel(), minlength=self.n * m).reshape(self.n, m)
        return [self.sums(by_cell[:, j]) for j in range(m)]


def _access_by_group(
    residents: pd.DataFrame, cells: _Cells, pops: dict[str, np.ndarray], weight: np.ndarray
) -> dict[str, dict[str, tuple[np.ndarray, dict[int, np.ndarray]]]]:
    """Per grouping and access column: weighted mean minutes and shares over each threshold, per
    group (``weight``: the residents' weights)."""
    out: dict[str, dict[str, tuple[np.ndarray, dict[int, np.ndarray]]]] = {key: {} for key in cells.sizes}
    columns = [c for c in residents.columns if c.startswith("access_") and c.endswith("_min")]
    if not columns:
        return out
    # per resident: weight where finite, weighted minutes where finite, weight over each threshold
    values = np.empty((len(weight), 2 + len(THRESHOLDS_MIN)))
    bins = cells.interleaved(cells.code, values.shape[1])
    for col in columns:
        minutes = residents[col].to_numpy(float)
        finite = np.isfinite(minutes)
        np.copyto(values[:, 0], 0.0)
        np.copyto(values[:, 0], weight, where=finite)  # np.where(finite, weight, 0.0)
        np.multiply(minutes, weight, out=values[:, 1])
        np.copyto(values[:, 1], 0.0, where=~finite)  # np.where(finite, minutes * weight, 0.0)
        for j, t in enumerate(THRESHOLDS_MIN):
            np.multiply(weight, minutes > t, out=values[:, 2 + j])  # weight * (minutes > t)
        wsum, wmin, *over_t = cells.column_totals(bins, values)
        over = dict(zip(THRESHOLDS_MIN, over_t, strict=True))
        for key in cells.sizes:
            mean = wmin[key] / np.where(wsum[key] > 0, wsum[key], np.nan)
            pop = np.where(pops[key] > 0, pops[key], np.nan)
            out[key][col[: -len("_min")]] = (mean, {t: over[t][key] / pop for t in THRESHOLDS_MIN})
    return out


#: Groups of a grouping whose sorted burdens :func:`_burden_groups` keeps to merge into a coarser group.
MERGE_PARTS = 2


def _burden_groups(
    burden: np.ndarray, cell: np.ndarray, counts: np.ndarray, of_cell: dict[str, np.ndarray]
) -> dict[str, list[BurdenBlock]]:
    """:func:`_burden_block` of the values of each group of each grouping (``of_cell``: group code
    of each cell; ``counts``: rows per cell, ``np.bincount(cell)`` to the number of cells).

    One counting sort by cell; a group's values are its cells' runs joined and sorted, one group at
    a time. Without a sign bit among the burdens (no -0.0, so equal values are equal bits) any
    arrangement of a group's values sorts to the same array: the cells are then not sorted one
    by one first, and a group made of at most :data:`MERGE_PARTS` groups of a grouping already
    sorted (all: the islands and the main island) merges their sorted values. With a sign bit,
    each cell is sorted, then each group of several cells, as the arrangement of -0.0 and 0.0
    may show in a median.
    """
    n_cells = len(counts)
    small = cell.astype(np.uint8 if n_cells <= 256 else np.uint16 if n_cells <= 65536 else np.int64)
    values = burden.take(np.argsort(small, kind="stable"))  # radix sort for 8- and 16-bit keys
    bounds = np.concatenate([[0], np.cumsum(counts)])
    any_order = not np.signbit(burden).any()
    if not any_order:
        for c in np.flatnonzero(np.diff(bounds) > 1):
            values[bounds[c] : bounds[c + 1]].sort()
    nonempty = counts > 0
    kept: list[tuple[np.ndarray, list[np.ndarray]]] = []  # (group per cell, sorted values per group)

    def parts_of(cells: np.ndarray) -> list[np.ndarray] | None:
        """Sorted values of the kept groups that make up the group of ``cells``, if any do."""
        cells = cells[nonempty[cells]]
        for of, sorted_values in kept:
            codes = np.unique(of[cells])
            if np.count_nonzero(nonempty & np.isin(of, codes)) == len(cells):
                return [sorted_values[g] for g in codes]
        return None

    blocks: dict[str, list[BurdenBlock]] = {}
    for key in sorted(of_cell, key=lambda key: -int(of_cell[key].max())):  # finer groupings first
        of = of_cell[key]
        k = int(of.max()) + 1
        members = np.split(np.argsort(of, kind="stable"), np.cumsum(np.bincount(of, minlength=k))[:-1])
        keep = any_order and k <= MERGE_PARTS
        groups, sorted_groups = [], []
        for cells in members:
            runs = [values[bounds[c] : bounds[c + 1]] for c in cells if bounds[c + 1] > bounds[c]]
            parts = parts_of(cells) if any_order and len(runs) > MERGE_PARTS else None
            if parts is not None and len(parts) == 1:  # the same values as a group already sorted
                joined = parts[0]
            elif parts is not None:  # a merge of sorted runs
                joined = np.concatenate(parts)
                joined.sort(kind="stable")
            else:
                joined = runs[0] if len(runs) == 1 else np.concatenate(runs) if runs else values[:0]
                if len(runs) > 1 or (any_order and len(runs) == 1):
                    joined.sort()
            groups.append(_burden_block(joined))
            if keep:
                sorted_groups.append(joined)
        blocks[key] = groups
        if keep:
            kept.append((of, sorted_groups))
    return {key: blocks[key] for key in of_cell}


def _grouped_metrics(
    residents: pd.DataFrame, errands: _Errands, groupings: dict[str, Grouping]
) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, dict[str, float | None]]]:
    """:func:`group_metrics` for several groupings at once, and burden stats per service: bincounts
    over cells (combinations of all groups and services) and one counting sort, O(n) apart from
    sorting each cell's burdens."""
    n_services = len(errands.services)
    cells = _Cells.of(groupings)
    if cells.n * n_services > MAX_CELLS and len(groupings) > 1:
        parts = [_grouped_metrics(residents, errands, {key: g}) for key, g in groupings.items()]
        return {key: v for part, _ in parts for key, v in part.items()}, parts[0][1]
    weight = np.array(residents["weight"].to_numpy(float))  # writable: a bincount copies a read-only one
    pop = cells.totals(cells.code, weight)
    trips = cells.totals(
        cells.code, np.bincount(errands.resident, weights=errands.trips, minlength=len(weight))
    )
    done_cell = cells.code[errands.done_resident]
    dist = cells.totals(done_cell, errands.km[errands.done])
    money = cells.totals(done_cell, errands.yuan[errands.done])
    cell_service = done_cell  # in place (one array less): each completed errand's (cell, service) code
    cell_service *= n_services
    cell_service += errands.done_service
    per_cell_service = np.bincount(cell_service, minlength=cells.n * n_services)
    n_done = cells.sums(per_cell_service.reshape(cells.n, n_services).sum(axis=1))  # exact counts
    burdens = _burden_groups(
        errands.burden,
        cell_service,
        per_cell_service,
        {
            **{key: np.repeat(of, n_services) for key, of in cells.of_cell.items()},
            "service": np.tile(np.arange(n_services), cells.n),
        },
    )
    access = _access_by_group(residents, cells, pop, weight)
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for key, (_, labels) in groupings.items():
        out: dict[str, dict[str, Any]] = {}
        for i, label in enumerate(labels):
            n = int(n_done[key][i])
            stats, shares = burdens[key][i]
            entry: dict[str, Any] = {
                "population": _num(pop[key][i]),
                "errands_completed": n,
                "burden_min": stats,
                "trips_per_completed_errand": _num(trips[key][i] / n) if n else None,
                "distance_km_per_errand": _num(dist[key][i] / n) if n else None,
                "money_yuan_per_errand": _num(money[key][i] / n) if n else None,
                "burden_share_over_min": shares,
            }
            for name, (mean, shares_over) in access[key].items():
                entry[name] = {
                    "mean_min": _num(mean[i]),
                    **{f"share_over_{t}": _num(shares_over[t][i]) for t in THRESHOLDS_MIN},
                }
            out[label] = entry
        result[key] = out
    by_service = {s: b[0] for s, b in zip(errands.services, burdens["service"], strict=True)}
    return result, by_service


def measured_rows(errands: pd.DataFrame, trips: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the errands that arose from day 0 on (after the warm-up) and of their trips."""
    arise = errands["arise_day"].to_numpy()
    if len(arise) == 0 or arise.min() >= 0:
        return np.ones(len(errands), dtype=bool), np.ones(len(trips), dtype=bool)
    ids = errands["errand"].to_numpy()
    measured = arise >= 0
    measured_by_id = np.zeros(int(ids.max()) + 1, dtype=bool)
    measured_by_id[ids] = measured  # errand ids are dense: an O(n) lookup, one byte per id
    return measured, measured_by_id[trips["errand"].to_numpy()]


#: Most labels :func:`_code_counts` counts one comparison pass at a time (more: one bincount).
FEW_LABELS = 16


def _code_counts(code: np.ndarray, k: int) -> np.ndarray:
    """Rows per code 0..k-1 of categorical codes (missing, -1, not counted), int64: for a few
    labels one comparison pass each over the small codes (no conversion of every row to a
    64-bit index as a bincount makes), the same counts as ``np.bincount(code + 1)[1:]``."""
    if k > FEW_LABELS:
        return np.bincount(code.astype(np.intp) + 1, minlength=k + 1)[1:]
    return np.array([np.count_nonzero(code == i) for i in range(k)], dtype=np.int64)


def _counts(column: pd.Series, rows: np.ndarray) -> dict[str, int]:
    """Rows per label of a categorical column among ``rows``, most frequent first: counts over
    every row less those over the rows left out (few: the warm-up's), the same integers."""
    code, labels = _codes(column)
    counts = _code_counts(code, len(labels))
    left_out = np.flatnonzero(~rows)
    if len(left_out):
        counts = counts - _code_counts(code.take(left_out), len(labels))
    return {labels[i]: int(counts[i]) for i in np.argsort(-counts, kind="stable")}


def transit_summary(trips: pd.DataFrame, rows: np.ndarray | None = None) -> TransitSummary | None:
    """Bus trips, waits at stops and changes, trips with no way home (None without a bus mode);
    only the trips in ``rows`` (a boolean mask) if given."""
    if "mode" not in trips or "bus" not in list(trips["mode"].cat.categories) or "no_way_home" not in trips:
        return None
    rows = np.ones(len(trips), dtype=bool) if rows is None else rows
    mode, modes = _codes(trips["mode"])
    is_bus = rows & (mode == modes.index("bus"))  # one column at a time, no copy of the table
    bus = np.flatnonzero(is_bus)  # the bus trips' rows, once: each column taken at them (few rows)
    n, n_trips = len(bus), int(np.count_nonzero(rows))

    def mean(column: str) -> float | None:
        return _num(pd.Series(trips[column].to_numpy().take(bus)).mean()) if n else None

    boardings: dict[str, int] = {}
    for column in ("lines_out", "lines_home"):  # boardings per label code, then per line of the label
        code, labels = _codes(trips[column])
        counts = np.bincount(code.take(bus) + 1, minlength=len(labels) + 1)[1:]
        for label, count in zip(labels, counts.tolist(), strict=True):
            for line in label.split(">") if label != "" and count else ():
                boardings[line] = boardings.get(line, 0) + count
    return TransitSummary(
        bus_trips=n,
        bus_share=_num(n / n_trips) if n_trips else None,
        no_way_home=int(np.count_nonzero(trips["no_way_home"].to_numpy(bool) & rows)),
        no_way_home_share_of_bus_trips=mean("no_way_home"),
        mean_stop_wait_min=mean("stop_wait_min"),
        mean_transfer_wait_min=mean("transfer_wait_min"),
        mean_travel_there_min=mean("travel_min"),
        mean_travel_home_min=mean("return_min"),
        boardings_by_line=dict(sorted(boardings.items())),
    )


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
    n_arisen, n_done = len(measured.resident), len(measured.done_resident)
    weight = residents["weight"].to_numpy()
    grouped, by_service = _grouped_metrics(
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
    measures = equity_measures(residents)  # profiles with decompositions (sim/metrics/equity.py)
    equity = {
        "gini_burden_per_resident": _num(measures["burden_min_per_errand"]["gini"]),
        "theil_burden_per_resident": _num(measures["burden_min_per_errand"]["theil"]),
    }
    for col in [c for c in measures if c.startswith("access_")]:  # access_<service>_min
        name = col[len("access_") : -len("_min")]
        equity[f"gini_access_{name}"] = _num(measures[col]["gini"])
        equity[f"theil_access_{name}"] = _num(measures[col]["theil"])
    equity.update(round_blocks(measures))
    transit = transit_summary(trips, trip_rows)
    return {
        **({"transit": transit} if transit is not None else {}),
        "population": _num(weight.sum()),
        "residents_simulated": len(residents),
        "errands": {
            "arisen": n_arisen,
            "completed": n_done,
            "pending_at_end": n_arisen - n_done,
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
