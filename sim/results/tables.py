"""RunResult: the tables a run produces, built from the model's columnar logs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.model.calendar import closed_grid
from sim.model.levers import CHANNELS
from sim.model.model import AccessModel
from sim.results.families import (
    calendar_day_columns,
    calendar_school_days,
    households_frame,
    resident_columns,
    school_columns,
)
from sim.results.result import TABLES, RunResult, proxy_trips_frame
from sim.scenario.schema import WEEKDAYS
from sim.transit.loads import line_loads_frame
from sim.world.bends import bends_text
from sim.world.world import FACILITY_KINDS

__all__ = ["TABLES", "RunResult", "access_times", "build_result", "trip_rows_frame"]


def _cat(codes: np.ndarray, labels: list[str]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels))


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A DataFrame over the given arrays without copying or consolidating them."""
    return pd.DataFrame(columns, copy=False)


def access_times(model: AccessModel) -> dict[str, np.ndarray]:
    """Uncongested one-way minutes from each resident to the nearest facility completing each service.

    Respects jurisdiction (own current unit) and each resident's modes; ignores opening days.
    Computed per village and pattern of modes owned, then looked up per resident.
    """
    w, res, tab = model.world, model.residents, model.tables
    code = np.zeros(len(res), dtype=np.int64)
    for m in range(len(tab.modes)):
        code |= res.owns[m].astype(np.int64) << m
    patterns = np.flatnonzero(np.bincount(code))  # the mode-ownership patterns residents have
    lookup = np.zeros(int(patterns[-1]) + 1 if len(patterns) else 1, dtype=np.int64)
    lookup[patterns] = np.arange(len(patterns))
    cell = res.village.astype(np.int64) * len(patterns) + lookup[code]
    owns = ((patterns[:, None] >> np.arange(len(tab.modes))) & 1).astype(bool)  # (patterns, modes)
    out: dict[str, np.ndarray] = {}
    village_new_unit = w.unit_new[w.village_unit]
    for s, name in enumerate(w.services):
        ok = w.fac_completes[:, s] & w.fac_receives_visitors
        mask = np.broadcast_to(ok[None, :], (len(w.village_ids), len(w.fac_ids)))
        if model.loaded.scenario.services[name].jurisdiction:
            mask = mask & (w.fac_new_unit[None, :] == village_new_unit[:, None])
        best = np.where(mask[None, :, :], tab.time_min, np.inf).min(axis=2)  # (modes, villages)
        by_cell = np.where(owns[None, :, :], best.T[:, None, :], np.inf).min(axis=2)  # (villages, patterns)
        out[name] = by_cell.ravel()[cell]
    return out


def _errands_frame(model: AccessModel, cols: dict[str, np.ndarray], ids: np.ndarray) -> pd.DataFrame:
    """One row per errand in errand-id order: the model's errands log (errands written at their ids);
    ``ids``: 0, 1, ... (at least one per errand)."""
    return _frame(
        {
            "errand": ids[: len(cols["resident"])],
            "resident": cols["resident"],
            "service": _cat(cols["service"], model.world.services),
            "arise_day": cols["arise_day"],
            "completed_day": np.where(cols["status"] == 0, cols["last_day"], np.int32(-1)),
            "status": _cat(cols["status"], ["completed", "pending"]),
            "trips": cols["trips"],
            "burden_min": cols["burden_min"],
            "distance_km": cols["distance_km"],
            "money_yuan": cols["money_yuan"],
            "channel": _cat(cols["channel"], list(CHANNELS)),
        }
    )


def _trips_frame(model: AccessModel, cols: dict[str, np.ndarray], ids: np.ndarray) -> pd.DataFrame:
    """One row per trip of the measured days; ``ids``: 0, 1, ... (at least one per trip)."""
    w = model.world
    return _frame(
        {
            "trip": ids[: len(cols["errand"])],
            "errand": cols["errand"],
            "resident": cols["resident"],
            "purpose": _cat(cols["service"], w.services),
            "day": cols["day"],
            "origin": _cat(model.residents.village[cols["resident"]], w.village_ids),
            "facility": _cat(cols["facility"], w.fac_ids),
            "mode": _cat(cols["mode"], model.tables.modes),
            "departure_min": cols["departure_min"],
            "arrival_min": cols["arrival_min"],
            "wait_min": cols["wait_min"],
            "service_min": cols["service_min"],
            "outcome": _cat(cols["outcome"], model.outcome_labels()),
            "travel_min": cols["travel_min"],
            "distance_km": cols["distance_km"],
            "money_yuan": cols["money_yuan"],
            "return_min": cols["return_min"],
            "lines_out": _line_labels(model, cols["lines_out"]),
            "lines_home": _line_labels(model, cols["lines_home"]),
            "stop_wait_min": cols["stop_wait_min"],
            "transfer_wait_min": cols["transfer_wait_min"],
            "no_way_home": cols["no_way_home"],
        }
    )


def trip_rows_frame(model: AccessModel, start: int, stop: int) -> pd.DataFrame:
    """Rows ``start`` to ``stop - 1`` of the trips table, as :func:`build_result` has them (rows
    already logged: ``townsim run`` encodes the trips file from these while the run goes on)."""
    return _trips_frame(model, model.trip_rows(start, stop), np.arange(start, stop, dtype=np.int64))


def _line_labels(model: AccessModel, codes: np.ndarray) -> pd.Categorical[str]:
    """Lines used ("b1>f2"; "" = none) as a categorical, from the log's codes (label code plus one,
    0 = none)."""
    labels = list(model.bus.labels) if model.bus is not None else []
    if "" not in labels:
        labels.append("")
    return _cat(np.where(codes == 0, labels.index(""), codes - 1), labels)


def _facility_days_frame(model: AccessModel) -> pd.DataFrame:
    """One row per facility and measured day it was open (receiving facilities only), from the
    model's facility-day log (facilities with visitors) and longest queues."""
    w = model.world
    n_fac = len(w.fac_ids)
    n_keys = max(model.day, 1) * n_fac
    receiving = np.flatnonzero(w.fac_receives_visitors)
    days = np.arange(model.day)
    weekday = (model.start_weekday + days) % 7
    day_grid, fac_grid = np.meshgrid(days, receiving, indexing="ij")
    is_open = w.fac_days[fac_grid, weekday[:, None]]
    if model.calendar is not None:  # closed on public holidays
        is_open &= ~closed_grid(model.calendar, days, w.fac_kind[receiving])
    day_col, fac_col = day_grid[is_open], fac_grid[is_open]
    key = day_col.astype(np.int64) * n_fac + fac_col
    log = model.facility_day_log.columns()
    at = log["day"].astype(np.int64) * n_fac + log["facility"]

    def spread(values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(n_keys, fill, dtype=np.result_type(values, type(fill)))
        out[at] = values
        spread_out: np.ndarray = out[key]
        return spread_out

    arrivals, served = spread(log["arrivals"], 0), spread(log["served"], 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_wait = spread(log["wait_sum_min"], 0.0) / arrivals
    longest = np.zeros(n_keys, dtype=np.int64)
    if model.facility_log:
        log_day, log_fac, log_len = (np.concatenate(col) for col in zip(*model.facility_log, strict=True))
        on_log = log_day >= 0
        longest[log_day[on_log].astype(np.int64) * n_fac + log_fac[on_log]] = log_len[on_log]
    capacity = w.fac_servers[fac_col] * (w.fac_close_min[fac_col] - w.fac_open_min[fac_col])
    return _frame(
        {
            "day": day_col.astype(np.int32),
            "facility": _cat(fac_col, w.fac_ids),
            "kind": _cat(w.fac_kind[fac_col], w.kind_names),
            "servers": w.fac_servers[fac_col],
            "arrivals": arrivals,
            "served": served,
            "turned_away": arrivals - served,
            "utilisation": spread(log["busy_min"], 0.0) / capacity,
            "mean_wait_min": mean_wait,
            "p95_wait_min": spread(log["p95_wait_min"], np.nan),
            "longest_queue": longest[key],
        }
    )


def _schools_frame(model: AccessModel) -> pd.DataFrame:
    sa, w, sc = model.schools, model.world, model.loaded.scenario
    school_days = _school_days(model) if model.calendar is None else calendar_school_days(model)
    days_attended = np.where(sa.school >= 0, school_days, 0).astype(np.int32)
    labels = w.fac_ids if model.families is None else model.families.school_labels  # + teaching points
    frame = {
        "resident": sa.resident.astype(np.int64),
        "origin": _cat(model.residents.village[sa.resident], w.village_ids),
        "level": _cat(sa.level, list(sc.schools.levels)),
        "school": _cat(np.where(sa.school < 0, -1, sa.school), labels),
        "mode": _cat(sa.mode, model.tables.modes if model.families is None else model.families.mode_labels),
        "one_way_min": sa.time_min,
        "distance_km": sa.distance_km,
        "money_yuan_per_day": 2 * sa.money_yuan,
        "days_attended": days_attended,
    }
    if model.families is not None:  # boarding, escorts, weekly trips (sim/results/families.py)
        frame.update(school_columns(model, days_attended))
    return _frame(frame)


def _school_days(model: AccessModel) -> int:
    sc = model.loaded.scenario
    days = 0
    for d in range(model.day):
        weekday = WEEKDAYS[(model.start_weekday + d) % 7]
        holiday = any(first <= d <= last for first, last in sc.schools.holidays)
        days += int(weekday in sc.schools.days and not holiday)
    return days


def _residents_frame(model: AccessModel, errands: pd.DataFrame) -> pd.DataFrame:
    res, w = model.residents, model.world
    n = len(res)
    rid = errands["resident"].to_numpy()
    measured = errands["arise_day"].to_numpy() >= 0  # errands of the warm-up are not measured
    status = errands["status"].cat.codes.to_numpy()  # 0 completed, 1 pending
    counts = np.bincount(rid * 3 + np.where(measured, status, 2), minlength=3 * n).reshape(n, 3)
    completed, pending = counts[:, 0], counts[:, 1]
    # adding 0.0 for the rows left out leaves each resident's sum exactly as over the rows kept
    done_burden = np.where(measured & (status == 0), errands["burden_min"].to_numpy(), 0.0)
    burden = np.bincount(rid, weights=done_burden, minlength=n)
    trips = np.bincount(rid, weights=np.where(measured, errands["trips"].to_numpy(), 0), minlength=n)
    school_min = np.full(n, np.nan)
    sa = model.schools
    school_min[sa.resident] = sa.time_min
    frame = {
        "resident": np.arange(n),
        "village": _cat(res.village, w.village_ids),
        "former_unit": _cat(res.unit, w.unit_ids),
        "unit": _cat(res.new_unit, w.new_unit_ids),
        "age_band": _cat(res.band, list(w.age_bands)),
        "island": res.island,
        "weight": res.weight,
        **{f"has_{m}": res.owns[i] for i, m in enumerate(model.tables.modes) if m != "walk"},
        "errands_completed": completed.astype(np.int32),
        "errands_pending": pending.astype(np.int32),
        "trips": trips.astype(np.int32),
        "burden_min_total": burden,
        "burden_min_per_errand": np.where(completed > 0, burden / np.maximum(completed, 1), np.nan),
        "school_one_way_min": school_min,
    }
    for name, minutes in access_times(model).items():
        frame[f"access_{name}_min"] = minutes
    if model.calendar is not None and model.calendar.spec.spring_festival is not None:
        frame["registered_absent"] = model.calendar.absent  # away except around the Spring Festival
    if model.families is not None:  # age, household, caregiver's escort minutes
        days = _school_days(model) if model.calendar is None else calendar_school_days(model)
        days = np.where(model.schools.school >= 0, days, 0).astype(np.int32)
        frame.update(resident_columns(model, model.trip_columns(), days))
    return _frame(frame)


def _geography_frames(model: AccessModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    w = model.world
    pop = w.village_pop.sum(axis=1)
    node_xy = w.node_xy
    places = pd.concat(
        [
            pd.DataFrame(
                {
                    "id": w.village_ids,
                    "kind": "village",
                    "x_km": node_xy[w.village_node, 0],
                    "y_km": node_xy[w.village_node, 1],
                    "former_unit": [w.unit_ids[u] for u in w.village_unit],
                    "population": pop,
                    "servers": 0,
                    "zh": w.village_ids,
                    "en": w.village_ids,
                }
            ),
            pd.DataFrame(
                {
                    "id": [f"seat:{u}" for u in w.unit_ids],
                    "kind": "seat",
                    "x_km": node_xy[w.unit_seat_node, 0],
                    "y_km": node_xy[w.unit_seat_node, 1],
                    "former_unit": w.unit_ids,
                    "population": 0,
                    "servers": 0,
                    "zh": w.unit_zh,
                    "en": w.unit_en,
                }
            ),
            pd.DataFrame(
                {
                    "id": w.fac_ids,
                    "kind": [FACILITY_KINDS[k] for k in w.fac_kind],
                    "x_km": node_xy[w.fac_node, 0],
                    "y_km": node_xy[w.fac_node, 1],
                    "former_unit": [w.unit_ids[u] for u in w.fac_unit],
                    "population": 0,
                    "servers": w.fac_servers,
                    "zh": w.fac_zh,
                    "en": w.fac_en,
                }
            ),
        ],
        ignore_index=True,
    )
    order = w.edge_order()
    ui, vi = w.edges.u[order], w.edges.v[order]
    names = np.asarray(w.nodes, dtype=object)
    edges = pd.DataFrame(
        {
            "u": names[ui].tolist(),
            "v": names[vi].tolist(),
            "road_class": w.edges.road_class[order].tolist(),
            "length_km": w.edges.length_km[order].tolist(),
            "x0_km": node_xy[ui, 0],
            "y0_km": node_xy[ui, 1],
            "x1_km": node_xy[vi, 0],
            "y1_km": node_xy[vi, 1],
            "bends_km": [bends_text(b) for b in w.edges.bends[order]],  # "" = straight
        }
    )
    return places, edges


def build_result(model: AccessModel) -> RunResult:
    """Tables of a finished run (summary and provenance are filled by the caller).

    The trips, errands and facility-day tables wrap the model's logs without copying them; the trip
    and errand ids are views of one ``np.arange``.
    """
    errand_cols, trip_cols = model.errand_columns(), model.trip_columns()
    ids = np.arange(max(len(errand_cols["resident"]), len(trip_cols["errand"])), dtype=np.int64)
    errands = _errands_frame(model, errand_cols, ids)
    daily = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    if model.calendar is not None:  # date, ferry suspensions and public holidays of each day
        daily = daily.assign(**calendar_day_columns(model.calendar, daily["day"].to_numpy()))
    places, edges = _geography_frames(model)
    return RunResult(
        places=places,
        edges=edges,
        trips=_trips_frame(model, trip_cols, ids),
        errands=errands,
        facility_days=_facility_days_frame(model),
        residents=_residents_frame(model, errands),
        schools=_schools_frame(model),
        daily=daily,
        line_loads=line_loads_frame(
            model.bus.timetable if model.bus is not None else None,
            model.load_log,
            days=model.day,
            start_weekday=model.start_weekday,
            weight=model.sample_weight,
            enforced=model.capacity.log if model.capacity is not None else None,
        ),
        proxy_trips=proxy_trips_frame(model.levers.proxy_log, model.world.village_ids, model.world.fac_ids),
        households=households_frame(model),  # None without families.households
    )
