"""Per-seed cell tables: completed errands summed per combination of every registered group.

A run's completed errands (those that arose from day 0 on) are split into cells, one per
combination of the registered groups (:data:`sim.groups.GROUPS`) and the mode of the
trip that completed the errand. Each cell holds the count and sums from which the mean of any
crossed group (``former_unit × age_band``, ``village``, ...) and the parts of its burden are
recovered exactly, without the run's full tables: a replicated run keeps one small table per seed.

Burden parts of one completed errand (minutes; they sum to its ``burden_min`` exactly):

- ``travel``: door-to-door travel there and back on the completing trip, without stop waits;
- ``stop_wait``: waits at the first stop and at changes on that trip (bus and ferry), there and back;
- ``facility_wait``: the wait at the facility that completed it;
- ``repeat``: travel and waits of the earlier trips that did not complete it (turned away, referred);
- ``other``: the rest of its burden: the mobile van's walk and wait, and any burden of channels
  that do not log a trip (0 for errands completed by a trip).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.groups import GROUPS

__all__ = ["CELL_SUMS", "FACILITY_SUMS", "NO_TRIP", "PARTS", "cell_tables"]

PARTS = ("travel", "stop_wait", "facility_wait", "repeat", "other")
"""Burden parts of a completed errand (minutes), in the order the cell columns hold their sums."""

CELL_SUMS = (
    *(f"{p}_sum" for p in PARTS),
    "burden_sum",
    "trips_sum",
    "km_sum",
    "yuan_sum",
    "over_15",
    "over_30",
    "over_60",
)
"""Summed columns of :func:`errand_cells` (besides the count ``n``)."""

FACILITY_SUMS = ("n", "wait_sum")
"""Summed columns of :func:`facility_cells`: completing trips and their facility waits (min)."""

NO_TRIP = "no_trip"
"""``mode`` of a cell of errands completed without a trip (online, proxy, mobile van)."""


def _code_of(column: pd.Series, label: str) -> np.ndarray:
    """Boolean mask of the rows of a categorical column equal to ``label``."""
    cats = list(column.cat.categories)
    return column.cat.codes.to_numpy() == cats.index(label) if label in cats else np.zeros(len(column), bool)


def _completing(ids: np.ndarray, trips: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per errand of ``ids`` (completed errands' ids): parts summed over its logged trips, and the
    completing trip's mode and facility codes (-1: completed without a trip)."""
    k = len(ids)
    slot = np.full(int(ids.max()) + 1 if k else 1, -1, dtype=np.int64)
    slot[ids] = np.arange(k)
    trip_errand = trips["errand"].to_numpy() if len(trips) else np.zeros(0, np.int64)
    inside = trip_errand < len(slot)
    at = np.where(inside, slot[np.where(inside, trip_errand, 0)], -1)
    keep = np.flatnonzero(at >= 0)
    at = at[keep]

    def col(name: str) -> np.ndarray:
        return trips[name].to_numpy(float)[keep] if name in trips else np.zeros(len(at))

    done = _code_of(trips["outcome"], "completed")[keep] if len(trips) else np.zeros(0, bool)
    stops = col("stop_wait_min") + col("transfer_wait_min")
    travel = col("travel_min") + col("return_min") - stops
    wait = col("wait_min")

    def per_errand(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.bincount(at[rows], weights=values[rows], minlength=k)

    mode = np.full(k, -1, dtype=np.int64)
    facility = np.full(k, -1, dtype=np.int64)
    if len(at):
        mode[at[done]] = trips["mode"].cat.codes.to_numpy()[keep[done]]
        facility[at[done]] = trips["facility"].cat.codes.to_numpy()[keep[done]]
    return {
        "travel": per_errand(travel, done),
        "stop_wait": per_errand(stops, done),
        "facility_wait": per_errand(wait, done),
        "repeat": per_errand(travel + stops + wait, ~done),
        "mode": mode,
        "facility": facility,
    }


Coded = tuple[np.ndarray, list[str]]  # integer code per row, labels


def _coded(column: pd.Series, name: str) -> Coded:
    """Integer codes and text labels of a column (categoricals keep their own codes)."""
    if column.dtype == bool:
        labels = ["main_island", "islands"] if name == "island" else ["False", "True"]
        return column.to_numpy().astype(np.int64), labels
    cat = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    return cat.cat.codes.to_numpy().astype(np.int64), [str(c) for c in cat.cat.categories]


def _group_codes(
    residents: pd.DataFrame, errands: pd.DataFrame, rows: np.ndarray, groups: Sequence[str] | None
) -> tuple[dict[str, Coded], dict[str, np.ndarray]]:
    """Each registered group's codes for the errands in ``rows`` and its labels; and, for the
    residents' groups that are constant within each village (former township, island ...), their
    code per village code (such groups need not be part of the cell key)."""
    ids, who = residents["resident"].to_numpy(), errands["resident"].to_numpy()[rows]
    dense = len(ids) and ids[0] == 0 and ids[-1] == len(ids) - 1 and bool(np.all(np.diff(ids) == 1))
    index = who if dense else pd.Index(ids).get_indexer(who)
    out: dict[str, Coded] = {}
    per_village: dict[str, np.ndarray] = {}
    wanted = [g for g in GROUPS.values() if groups is None or g.name in groups]
    has_village = any(g.name == "village" for g in wanted) and "village" in residents
    village = _coded(residents["village"], "village") if has_village else None
    for g in wanted:
        table = residents if g.table == "residents" else errands
        if g.column not in table:
            continue
        code, labels = _coded(table[g.column], g.name)
        out[g.name] = (code[index] if g.table == "residents" else code[rows], labels)
        if village is not None and g.table == "residents" and g.name != "village" and len(code):
            first = np.full(len(village[1]), -1, dtype=np.int64)
            first[village[0][::-1]] = code[::-1]  # the first resident's value in each village
            if np.array_equal(first[village[0]], code):
                per_village[g.name] = first
    return out, per_village


def _sum_cells(
    keys: dict[str, Coded], values: dict[str, np.ndarray], per_village: dict[str, np.ndarray]
) -> pd.DataFrame:
    """``values`` summed per combination of ``keys`` present, with the keys as text, sorted by them.

    Groups in ``per_village`` follow from the village and are looked up after summing; the cells
    are found by a counting pass when the key space is small, else by sorting.
    """
    own = {k: v for k, v in keys.items() if k not in per_village}
    size = 1
    key = np.zeros(len(next(iter(values.values()))), dtype=np.int64)
    for code, labels in own.values():
        key = key * (len(labels) + 1) + (code + 1)  # code -1 (missing) is its own value
        size *= len(labels) + 1
    if size <= 1 << 22:
        present = np.bincount(key, minlength=size) > 0
        cells = np.flatnonzero(present)
        inverse = (np.cumsum(present) - 1)[key]
    else:
        cells, inverse = np.unique(key, return_inverse=True)
    codes: dict[str, np.ndarray] = {}
    rest = cells.copy()
    for name, (_, labels) in reversed(list(own.items())):
        rest, codes[name] = np.divmod(rest, len(labels) + 1)
    for name, lookup in per_village.items():
        codes[name] = lookup[codes["village"] - 1] + 1
    frame = pd.DataFrame(
        {name: np.asarray(["", *labels], dtype=object)[codes[name]] for name, (_, labels) in keys.items()}
    )
    for name, v in values.items():
        summed = np.bincount(inverse, weights=v, minlength=len(cells))
        frame[name] = summed.astype(np.int64) if v.dtype.kind in "iub" else summed
    return frame.sort_values(list(keys), kind="stable").reset_index(drop=True)


def cell_tables(
    residents: pd.DataFrame, errands: pd.DataFrame, trips: pd.DataFrame, groups: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's completed measured errands summed per cell: ``(errand cells, facility cells)``.

    ``groups``: the registered groups the cells keep (default: all; ``()``: the county only).

    Errand cells: one per combination of every registered group present in the tables and
    ``mode``, the completing trip's mode (``no_trip`` for errands completed without a trip);
    columns the groups (text), ``n`` (completed errands) and :data:`CELL_SUMS`: the parts'
    sums (min), ``burden_sum`` (min), trips, km and yuan summed, and the counts of errands whose
    burden exceeds 15, 30 and 60 min.

    Facility cells: one per combination of the groups and ``facility``, the facility of the
    completing trip; columns :data:`FACILITY_SUMS` (errands completed there and their waits
    there, min). Errands completed without a trip are left out.
    """
    measured = errands["arise_day"].to_numpy() >= 0  # arose after the warm-up (as summary.json)
    rows = np.flatnonzero(measured & _code_of(errands["status"], "completed"))
    parts = _completing(errands["errand"].to_numpy()[rows], trips)
    burden = errands["burden_min"].to_numpy(float)[rows]
    values = {p: parts[p] for p in ("travel", "stop_wait", "facility_wait", "repeat")}
    values["other"] = burden - (
        values["travel"] + values["stop_wait"] + values["facility_wait"] + values["repeat"]
    )
    modes = [str(m) for m in trips["mode"].cat.categories] if len(trips) else []
    mode_code = parts["mode"]
    keys, per_village = _group_codes(residents, errands, rows, groups)
    mode = (np.where(mode_code >= 0, mode_code, len(modes)), [*modes, NO_TRIP])
    cells = _sum_cells(
        {**keys, "mode": mode},
        {
            "n": np.ones(len(rows), np.int64),
            **{f"{p}_sum": values[p] for p in PARTS},
            "burden_sum": burden,
            "trips_sum": errands["trips"].to_numpy(float)[rows],
            "km_sum": errands["distance_km"].to_numpy(float)[rows],
            "yuan_sum": errands["money_yuan"].to_numpy(float)[rows],
            **{f"over_{t}": (burden > t).astype(np.int64) for t in (15, 30, 60)},
        },
        per_village,
    )
    by_trip = parts["facility"] >= 0
    facilities = [str(f) for f in trips["facility"].cat.categories] if len(trips) else []
    fac_cells = _sum_cells(
        {k: (code[by_trip], labels) for k, (code, labels) in keys.items()}
        | {"facility": (parts["facility"][by_trip], facilities)},
        {"n": np.ones(int(by_trip.sum()), np.int64), "wait_sum": values["facility_wait"][by_trip]},
        per_village,
    )
    return cells, fac_cells
