"""RunResult: the tables a run produces, built from the model's columnar logs."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from sim.model.model import OUTCOMES, AccessModel, TripLog
from sim.model.needs import Needs
from sim.scenario.schema import WEEKDAYS
from sim.transit.loads import line_loads_frame
from sim.world.world import FACILITY_KINDS

__all__ = ["RunResult", "TABLES", "build_result", "access_times"]

TABLES = (
    "trips", "errands", "facility_days", "residents", "schools", "daily", "places", "edges", "line_loads",
)


@dataclass
class RunResult:
    """All outputs of one run: its tables, the headline summary and provenance.

    ``places`` (villages, seats, facilities with km coordinates) and ``edges`` (road and ferry
    links) carry the geography so maps can be drawn from a run folder alone.
    """

    trips: pd.DataFrame
    errands: pd.DataFrame
    facility_days: pd.DataFrame
    residents: pd.DataFrame
    schools: pd.DataFrame
    daily: pd.DataFrame
    places: pd.DataFrame
    edges: pd.DataFrame
    line_loads: pd.DataFrame = field(
        default_factory=lambda: line_loads_frame(None, [], days=0, start_weekday=0)
    )
    summary: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)


def _cat(codes: np.ndarray, labels: list[str]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=pd.Index(labels))


def access_times(model: AccessModel) -> dict[str, np.ndarray]:
    """Uncongested one-way minutes from each resident to the nearest facility completing each service.

    Respects jurisdiction (own current unit) and each resident's modes; ignores opening days.
    """
    w, res, tab = model.world, model.residents, model.tables
    out: dict[str, np.ndarray] = {}
    village_new_unit = w.unit_new[w.village_unit]
    for s, name in enumerate(w.services):
        ok = w.fac_completes[:, s] & (w.fac_servers > 0)
        mask = np.broadcast_to(ok[None, :], (len(w.village_ids), len(w.fac_ids)))
        if model.loaded.scenario.services[name].jurisdiction:
            mask = mask & (w.fac_new_unit[None, :] == village_new_unit[:, None])
        best = np.where(mask[None, :, :], tab.time_min, np.inf).min(axis=2)  # (modes, villages)
        per_mode = np.where(res.owns, best[:, res.village], np.inf)
        out[name] = per_mode.min(axis=0)
    return out


def _errands_frame(model: AccessModel, done: Needs, pending: Needs) -> pd.DataFrame:
    both = Needs.concat([done, pending])
    status = np.concatenate([np.zeros(len(done), np.int8), np.ones(len(pending), np.int8)])
    return pd.DataFrame(
        {
            "errand": both.errand,
            "resident": both.resident,
            "service": _cat(both.service, model.world.services),
            "arise_day": both.arise_day,
            "completed_day": np.where(status == 0, both.last_day, -1).astype(np.int32),
            "status": _cat(status, ["completed", "pending"]),
            "trips": both.trips,
            "burden_min": both.burden_min,
            "distance_km": both.distance_km,
            "money_yuan": both.money_yuan,
        }
    ).sort_values("errand", ignore_index=True)


def _trips_frame(model: AccessModel) -> pd.DataFrame:
    parts = model.trip_log
    cols = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) if parts else np.zeros(0)
            for f in fields(TripLog)}
    w = model.world
    village = model.residents.village[cols["resident"].astype(np.int64)]
    return pd.DataFrame(
        {
            "trip": np.arange(len(cols["errand"])),
            "errand": cols["errand"].astype(np.int64),
            "resident": cols["resident"].astype(np.int64),
            "purpose": _cat(cols["service"], w.services),
            "day": cols["day"].astype(np.int32),
            "origin": _cat(village, w.village_ids),
            "facility": _cat(cols["facility"], w.fac_ids),
            "mode": _cat(cols["mode"], model.tables.modes),
            "departure_min": cols["departure_min"],
            "arrival_min": cols["arrival_min"],
            "wait_min": cols["wait_min"],
            "service_min": cols["service_min"],
            "outcome": _cat(cols["outcome"], list(OUTCOMES)),
            "travel_min": cols["travel_min"],
            "distance_km": cols["distance_km"],
            "money_yuan": cols["money_yuan"],
            "return_min": cols["return_min"],
            "lines_out": _line_labels(model, cols["lines_out"]),
            "lines_home": _line_labels(model, cols["lines_home"]),
            "stop_wait_min": cols["stop_wait_min"],
            "transfer_wait_min": cols["transfer_wait_min"],
            "no_way_home": cols["no_way_home"].astype(bool),
        }
    )


def _line_labels(model: AccessModel, codes: np.ndarray) -> pd.Categorical[str]:
    """Lines used ("b1>f2"; "" = none) as a categorical."""
    labels = list(model.bus.labels) if model.bus is not None else []
    if "" not in labels:
        labels.append("")
    codes = np.asarray(codes, dtype=np.int64)
    return _cat(np.where(codes < 0, labels.index(""), codes), labels)


def _facility_days_frame(model: AccessModel, trips: pd.DataFrame) -> pd.DataFrame:
    """One row per facility and day it was open (receiving facilities only), from the trips."""
    w = model.world
    receiving = np.flatnonzero((w.fac_kind != FACILITY_KINDS.index("school")) & (w.fac_servers > 0))
    days = np.arange(model.day)
    weekday = (model.start_weekday + days) % 7
    day_grid, fac_grid = np.meshgrid(days, receiving, indexing="ij")
    is_open = w.fac_days[fac_grid, weekday[:, None]]
    day_col, fac_col = day_grid[is_open], fac_grid[is_open]
    key = day_col.astype(np.int64) * len(w.fac_ids) + fac_col
    trip_key = trips["day"].to_numpy(np.int64) * len(w.fac_ids) + trips["facility"].cat.codes.to_numpy(np.int64)
    served = trips["outcome"].to_numpy() != "turned_away"
    grouped = pd.DataFrame(
        {"key": trip_key, "wait": trips["wait_min"].to_numpy(), "served": served, "busy": trips["service_min"].to_numpy()}
    ).groupby("key")
    stats = grouped.agg(
        arrivals=("wait", "size"), served=("served", "sum"), busy=("busy", "sum"), mean_wait_min=("wait", "mean")
    )
    stats["p95_wait_min"] = grouped["wait"].quantile(0.95)
    stats = stats.reindex(key)
    longest = pd.Series(0, index=key, dtype=np.int64)
    if model.facility_log:
        log_day, log_fac, log_len = (np.concatenate(col) for col in zip(*model.facility_log, strict=True))
        longest.update(pd.Series(log_len, index=log_day.astype(np.int64) * len(w.fac_ids) + log_fac))
    capacity = w.fac_servers[fac_col] * (w.fac_close_min[fac_col] - w.fac_open_min[fac_col])
    arrivals = stats["arrivals"].fillna(0).to_numpy(np.int64)
    served_n = stats["served"].fillna(0).to_numpy(np.int64)
    return pd.DataFrame(
        {
            "day": day_col.astype(np.int32),
            "facility": _cat(fac_col, w.fac_ids),
            "kind": _cat(w.fac_kind[fac_col], list(FACILITY_KINDS)),
            "servers": w.fac_servers[fac_col],
            "arrivals": arrivals,
            "served": served_n,
            "turned_away": arrivals - served_n,
            "utilisation": stats["busy"].fillna(0).to_numpy() / capacity,
            "mean_wait_min": stats["mean_wait_min"].to_numpy(),
            "p95_wait_min": stats["p95_wait_min"].to_numpy(),
            "longest_queue": longest.to_numpy(np.int64),
        }
    )


def _schools_frame(model: AccessModel) -> pd.DataFrame:
    sa, w, sc = model.schools, model.world, model.loaded.scenario
    school_days = _school_days(model)
    return pd.DataFrame(
        {
            "resident": sa.resident.astype(np.int64),
            "origin": _cat(model.residents.village[sa.resident], w.village_ids),
            "level": _cat(sa.level, list(sc.schools.levels)),
            "school": pd.Categorical.from_codes(
                np.where(sa.school < 0, -1, sa.school).astype(np.int64), categories=pd.Index(w.fac_ids)
            ),
            "mode": _cat(sa.mode, model.tables.modes),
            "one_way_min": sa.time_min,
            "distance_km": sa.distance_km,
            "money_yuan_per_day": 2 * sa.money_yuan,
            "days_attended": np.where(sa.school >= 0, school_days, 0).astype(np.int32),
        }
    )


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
    done = errands[errands["status"] == "completed"]
    rid = done["resident"].to_numpy()
    completed = np.bincount(rid, minlength=n)
    burden = np.bincount(rid, weights=done["burden_min"].to_numpy(), minlength=n)
    trips = np.bincount(errands["resident"].to_numpy(), weights=errands["trips"].to_numpy(), minlength=n)
    pending = np.bincount(errands.loc[errands["status"] == "pending", "resident"].to_numpy(), minlength=n)
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
    return pd.DataFrame(frame)


def _geography_frames(model: AccessModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    w = model.world
    pop = w.village_pop.sum(axis=1)
    node_xy = w.node_xy
    places = pd.concat(
        [
            pd.DataFrame({
                "id": w.village_ids, "kind": "village", "x_km": node_xy[w.village_node, 0],
                "y_km": node_xy[w.village_node, 1], "former_unit": [w.unit_ids[u] for u in w.village_unit],
                "population": pop, "servers": 0, "zh": w.village_ids, "en": w.village_ids,
            }),
            pd.DataFrame({
                "id": [f"seat:{u}" for u in w.unit_ids], "kind": "seat", "x_km": node_xy[w.unit_seat_node, 0],
                "y_km": node_xy[w.unit_seat_node, 1], "former_unit": w.unit_ids, "population": 0, "servers": 0,
                "zh": w.unit_zh, "en": w.unit_en,
            }),
            pd.DataFrame({
                "id": w.fac_ids, "kind": [FACILITY_KINDS[k] for k in w.fac_kind], "x_km": node_xy[w.fac_node, 0],
                "y_km": node_xy[w.fac_node, 1], "former_unit": [w.unit_ids[u] for u in w.fac_unit],
                "population": 0, "servers": w.fac_servers, "zh": w.fac_zh, "en": w.fac_en,
            }),
        ],
        ignore_index=True,
    )
    index = {n: i for i, n in enumerate(w.nodes)}
    rows = [(u, v, d["road_class"], d.get("length_km", 0.0)) for u, v, d in w.graph.edges(data=True)]
    ui = np.array([index[r[0]] for r in rows], dtype=np.int64)
    vi = np.array([index[r[1]] for r in rows], dtype=np.int64)
    edges = pd.DataFrame({
        "u": [r[0] for r in rows], "v": [r[1] for r in rows], "road_class": [r[2] for r in rows],
        "length_km": [r[3] for r in rows], "x0_km": node_xy[ui, 0], "y0_km": node_xy[ui, 1],
        "x1_km": node_xy[vi, 0], "y1_km": node_xy[vi, 1],
    })
    return places, edges


def build_result(model: AccessModel) -> RunResult:
    """Tables of a finished run (summary and provenance are filled by the caller)."""
    done = Needs.concat(model.done_log)
    errands = _errands_frame(model, done, model.pending)
    daily = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    trips = _trips_frame(model)
    places, edges = _geography_frames(model)
    return RunResult(
        places=places,
        edges=edges,
        trips=trips,
        errands=errands,
        facility_days=_facility_days_frame(model, trips),
        residents=_residents_frame(model, errands),
        schools=_schools_frame(model),
        daily=daily,
        line_loads=line_loads_frame(
            model.bus.timetable if model.bus is not None else None, model.load_log, days=model.day,
            start_weekday=model.start_weekday, weight=model.sample_weight,
        ),
    )
