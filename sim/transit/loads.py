"""Line loads per vehicle run: boardings, peak on-board load against capacity, passengers left behind."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # reading a run folder's (empty) line loads needs no timetable code
    from collections.abc import Mapping

    from sim.transit.capacity import VehicleLoads
    from sim.transit.timetable import Timetable

__all__ = ["LOAD_COLUMNS", "line_loads_frame"]

LOAD_COLUMNS = (
    "day",
    "line",
    "trip",
    "departure_min",
    "boardings",
    "peak_load",
    "capacity",
    "load_factor",
    "left_behind",
)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": np.zeros(0, np.int32),
            "line": pd.Categorical([]),
            "trip": pd.Categorical([]),
            "departure_min": np.zeros(0),
            "boardings": np.zeros(0),
            "peak_load": np.zeros(0),
            "capacity": np.zeros(0, np.int64),
            "load_factor": np.zeros(0),
            "left_behind": np.zeros(0),
        }
    )


def line_loads_frame(
    tt: Timetable | None,
    log: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]],
    *,
    days: int,
    start_weekday: int,
    weight: float = 1.0,
    enforced: Mapping[int, VehicleLoads] | None = None,
) -> pd.DataFrame:
    """One row per vehicle run and simulated day it ran.

    Each logged leg (trip, boarding stop-time, alighting stop-time) adds ``weight`` passengers on
    board from boarding to alighting. ``peak_load`` is the most on board over any segment;
    ``left_behind`` is counted post hoc as the excess of the peak over capacity (riders keep the
    times of the run they planned; overflow is not pushed to the next departure). With capacity
    enforced (``enforced``: the day's loads of :mod:`sim.transit.capacity`), the legs logged are
    those ridden, ``left_behind`` counts the persons each run refused and ``extra_wait_min`` the
    person-minutes they waited for a later run (the column is there only when a run refused
    someone: a capacity never reached leaves the table of a run without the rule).
    """
    if tt is None or tt.n_trips == 0:
        return _empty()
    n_st = len(tt.st_stop)
    st_trip = tt.st_trip
    by_day: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for day, trip, board, alight in log:
        by_day.setdefault(day, []).append((trip, board, alight))
    columns: dict[str, list[np.ndarray]] = {}  # per column, the running trips' values day after day
    dep0 = tt.trip_departure_min()
    cap = tt.line_capacity[tt.trip_line]
    for day in range(days):
        running = np.flatnonzero(tt.trip_days[:, (start_weekday + day) % 7])
        if len(running) == 0:
            continue
        diff = np.zeros(n_st + 1)
        boardings = np.zeros(tt.n_trips)
        for trip, board, alight in by_day.get(day, []):
            np.add.at(diff, board, weight)
            np.add.at(diff, alight, -weight)
            boardings += np.bincount(trip, minlength=tt.n_trips) * weight
        onboard = np.cumsum(diff[:-1])
        # cumsum runs across trips; each trip's legs net to zero, so the running sum restarts at 0
        peak = np.zeros(tt.n_trips)
        np.maximum.at(peak, st_trip, onboard)
        peak = np.round(peak, 9)
        today = {
            "day": np.full(len(running), day, dtype=np.int32),
            "line_code": tt.trip_line[running],
            "trip_code": running,
            "departure_min": dep0[running],
            "boardings": boardings[running],
            "peak_load": peak[running],
            "capacity": cap[running],
            **_refused(enforced, day, running),
        }
        for name, values in today.items():
            columns.setdefault(name, []).append(values)
    if not columns:
        return _empty()
    df = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    if enforced is not None and df["refused"].any():
        return _frame(df, tt).assign(
            left_behind=df["refused"].to_numpy(float), extra_wait_min=df["extra_wait_min"].to_numpy(float)
        )
    return _frame(df, tt)  # a capacity never reached: the table of a run without the rule


def _refused(
    enforced: Mapping[int, VehicleLoads] | None, day: int, running: np.ndarray
) -> dict[str, np.ndarray]:
    """Persons refused and their extra wait per running trip of ``day`` (nothing without capacity rules)."""
    if enforced is None:
        return {}
    loads = enforced.get(day)
    if loads is None:
        return {"refused": np.zeros(len(running)), "extra_wait_min": np.zeros(len(running))}
    return {"refused": loads.left_behind[running], "extra_wait_min": loads.extra_wait_min[running]}


def _frame(df: pd.DataFrame, tt: Timetable) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": df["day"].to_numpy(np.int32),
            "line": pd.Categorical.from_codes(
                df["line_code"].to_numpy(np.int64), categories=pd.Index(tt.line_ids)
            ),
            "trip": pd.Categorical.from_codes(
                df["trip_code"].to_numpy(np.int64), categories=pd.Index(tt.trip_ids)
            ),
            "departure_min": df["departure_min"].to_numpy(float),
            "boardings": df["boardings"].to_numpy(float),
            "peak_load": df["peak_load"].to_numpy(float),
            "capacity": df["capacity"].to_numpy(np.int64),
            "load_factor": df["peak_load"].to_numpy(float) / df["capacity"].to_numpy(float),
            "left_behind": np.maximum(df["peak_load"].to_numpy(float) - df["capacity"].to_numpy(float), 0.0),
        }
    )
