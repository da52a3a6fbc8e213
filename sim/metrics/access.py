"""Accessibility indices per village and former township, by service: 2SFCA, E2SFCA, gravity, queues.

Two-step floating catchment (Luo & Wang 2003): each facility's supply (servers: windows or
doctors) is divided by the demand that reaches it, weighted by a distance-decay function f of
travel minutes, R_j = S_j / sum_k P_k f(t_kj); a place's index sums the ratios it reaches,
A_i = sum_j R_j f(t_ij). Reported per 1,000 residents (servers per 1,000 users of the service).

- ``2sfca``: f = 1 within the catchment (``CATCHMENT_MIN``), 0 beyond.
- ``e2sfca``: Gaussian decay f = exp(-t^2 / 2 sigma^2) within the catchment (Luo & Qi 2009 with
  a continuous Gaussian, as in PySAL ``access.weights.gaussian``).
- ``gravity``: f = max(t, t_min)^-beta with no cut-off (Joseph & Bantock 1982: supply over
  competing gravity-weighted demand).
- ``e2sfca_queue``: E2SFCA where the cost is travel plus the expected wait at the facility
  (arrival-weighted mean wait of the simulated facility-days, or for a plan not yet simulated the
  wait expected from demand assignment and the M(t)/M/c chain, :mod:`sim.planning.waits`).

Demand is multimodal (Mao & Nekorchuk 2013): each resident travels by their fastest own mode, so
a village contributes one demand row per mode. Errands with jurisdiction only reach facilities of
the resident's own (post-merger) unit. ``sim.metrics.access`` is the vectorised implementation
used in every run; tests check it against PySAL ``access`` on the same inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from sim.metrics.equity import _concentration, _decompose, _xlogx_total

if TYPE_CHECKING:
    from sim.model.model import AccessModel
    from sim.results.result import RunResult
    from sim.results.summary_model import IndexStats, MeanByUnit, RunSummary

__all__ = [
    "CATCHMENT_MIN",
    "GAUSSIAN_SIGMA_MIN",
    "GRAVITY_BETA",
    "GRAVITY_MIN_COST_MIN",
    "LIFE_CIRCLES_MIN",
    "ExpectedWaits",
    "ResidentCells",
    "access_summary",
    "compare_columns",
    "facility_mean_wait",
    "gaussian_weight",
    "gravity_weight",
    "resident_cells",
    "step_weight",
    "two_step_fca",
]

CATCHMENT_MIN = 30.0  # assumed: the 30-minute circle (GB 50180-2018 tiers; county 30-minute emergency circle)
GAUSSIAN_SIGMA_MIN = 15.0  # assumed: weight 0.61 at 15 min, 0.14 at the 30-min catchment edge
GRAVITY_BETA = 1.5  # assumed: a common travel-time decay exponent
GRAVITY_MIN_COST_MIN = 5.0  # assumed: costs below 5 min count as 5 (no infinite pull at 0)
LIFE_CIRCLES_MIN = (5, 15, 30)  # GB 50180-2018 life-circle tiers as used by the reform texts
PER = 1000.0  # index unit: servers per 1,000 residents


def step_weight(cost_min: np.ndarray, catchment_min: float = CATCHMENT_MIN) -> np.ndarray:
    """1 within the catchment (cost <= catchment), else 0; infinite cost -> 0."""
    return (np.asarray(cost_min) <= catchment_min).astype(float)


def gaussian_weight(
    cost_min: np.ndarray, sigma_min: float = GAUSSIAN_SIGMA_MIN, catchment_min: float = CATCHMENT_MIN
) -> np.ndarray:
    """exp(-t^2 / 2 sigma^2) within the catchment, else 0."""
    t = np.asarray(cost_min, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(
            t <= catchment_min, np.exp(-np.square(np.where(np.isfinite(t), t, 0)) / (2 * sigma_min**2)), 0.0
        )


def gravity_weight(
    cost_min: np.ndarray, beta: float = GRAVITY_BETA, min_cost_min: float = GRAVITY_MIN_COST_MIN
) -> np.ndarray:
    """max(t, t_min)^-beta for reachable pairs, 0 for unreachable ones."""
    t = np.asarray(cost_min, dtype=float)
    finite = np.isfinite(t)
    return np.where(finite, np.maximum(np.where(finite, t, 1.0), min_cost_min) ** -beta, 0.0)


def two_step_fca(demand: np.ndarray, supply: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Two-step floating catchment index of each demand row.

    Args:
        demand: (rows,) people at each demand row.
        supply: (facilities,) servers of each facility.
        weight: (rows, facilities) decay weight of the travel cost (0 = out of reach).

    Returns:
        (rows,) supply per person reachable (0 where nothing is in reach).
    """
    reached = demand @ weight
    ratio = np.divide(supply, reached, out=np.zeros(len(supply)), where=reached > 0)
    index: np.ndarray = weight @ ratio
    return index


def facility_mean_wait(facility_days: pd.DataFrame, fac_ids: list[str]) -> np.ndarray:
    """Arrival-weighted mean queue wait (min) per facility over the simulated days (0 without arrivals)."""
    code = facility_days["facility"].cat.codes.to_numpy(np.int64)
    arrivals = facility_days["arrivals"].to_numpy(float)
    waits = np.nan_to_num(facility_days["mean_wait_min"].to_numpy(float)) * arrivals
    total = np.bincount(code, weights=waits, minlength=len(fac_ids))
    n = np.bincount(code, weights=arrivals, minlength=len(fac_ids))
    mean: np.ndarray = np.divide(total, n, out=np.zeros(len(fac_ids)), where=n > 0)
    return mean


def _round(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 4)


def _rounded(values: np.ndarray) -> list[float | None]:
    """:func:`_round` of each value (as Python floats: no numpy scalar per value)."""
    return [round(v, 4) if math.isfinite(v) else None for v in np.asarray(values, dtype=float).tolist()]


def _wmean(
    values: np.ndarray,
    weight: np.ndarray,
    code: np.ndarray,
    k: int,
    shared: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Weighted mean of the finite ``values`` with positive ``weight`` per ``code`` 0..k-1 (NaN if none).

    ``shared``: where the weight sums per code are kept when every row is, for other values with
    the same weights and codes (the same sums).
    """
    ok = np.isfinite(values) & (weight > 0)
    if not ok.all():  # copies (per errand, in the realised km) only when rows are left out
        values, weight, code = values[ok], weight[ok], code[ok]
        w = np.bincount(code, weights=weight, minlength=k)
    elif shared is not None and "weight" in shared:
        w = shared["weight"]
    else:
        w = np.bincount(code, weights=weight, minlength=k)
        if shared is not None:
            shared["weight"] = w
    s = np.bincount(code, weights=values * weight, minlength=k)
    mean: np.ndarray = np.divide(s, w, out=np.full(k, np.nan), where=w > 0)
    return mean


class ResidentCells:
    """Residents grouped in (own modes, village, age band) cells: every measure is constant in a cell.

    One O(n) pass over residents; everything after works on at most 2^modes x villages x bands cells.
    """

    def __init__(
        self,
        owns: np.ndarray,
        village: np.ndarray,
        band: np.ndarray,
        weight: np.ndarray,
        *,
        village_unit: np.ndarray,
        unit_island: np.ndarray,
        n_bands: int,
        typical_min: np.ndarray,
    ) -> None:
        """Group residents into cells.

        Args:
            owns: (modes, residents) bool, the modes each resident can use.
            village: (residents,) village index of each resident.
            band: (residents,) age band index of each resident.
            weight: (residents,) residents each agent represents.
            village_unit: (villages,) former unit index of each village.
            unit_island: (units,) whether each former unit is off the main island.
            n_bands: number of age bands.
            typical_min: (modes, villages) typical one-way minutes (the median over facilities);
                a cell's fastest own mode is the one with the least.
        """
        n_modes, n_vil = owns.shape[0], len(village_unit)
        bits = (owns.astype(np.int64) << np.arange(n_modes)[:, None]).sum(axis=0)
        n_sets = 1 << n_modes
        key = (bits * n_vil + village) * n_bands + band
        self.weight = np.bincount(key, weights=weight, minlength=n_sets * n_vil * n_bands)
        grid = np.arange(len(self.weight))
        mode_set = grid // (n_vil * n_bands)
        self.owns = ((mode_set[None, :] >> np.arange(n_modes)[:, None]) & 1).astype(bool)  # (modes, cells)
        self.village = (grid // n_bands) % n_vil
        self.band = grid % n_bands
        self.unit = village_unit[self.village]
        self.island = unit_island[self.unit].astype(np.int64)
        self.mode = np.where(self.owns, typical_min[:, self.village], np.inf).argmin(
            axis=0
        )  # fastest own mode
        self.n_vil = n_vil

    def best(self, per_mode: np.ndarray) -> np.ndarray:
        """Per cell, the smallest (modes, villages) value over the cell's own modes."""
        best: np.ndarray = np.where(self.owns, per_mode[:, self.village], np.inf).min(axis=0)
        return best


def resident_cells(model: AccessModel) -> ResidentCells:
    """The :class:`ResidentCells` of a model's residents (typical minutes: the median over facilities,
    so that unreachable facilities count as far)."""
    w, res = model.world, model.residents
    return ResidentCells(
        res.owns,
        res.village,
        res.band,
        res.weight,
        village_unit=w.village_unit,
        unit_island=w.unit_island,
        n_bands=len(w.age_bands),
        typical_min=np.median(model.tables.time_min, axis=2),
    )


class ExpectedWaits(Protocol):
    """Expected queues of a plan not yet simulated, per facility (as ``planning.waits.PlannedWaits``)."""

    @property
    def visits_per_open_day(self) -> np.ndarray:
        """Expected visits per open day."""

    @property
    def wait_min(self) -> np.ndarray:
        """Expected mean wait (min)."""

    @property
    def erlang_c_day_mean_min(self) -> np.ndarray:
        """Erlang C wait at the day's mean arrival rate (min)."""

    @property
    def utilisation(self) -> np.ndarray:
        """Expected share of server time busy."""


def _service_cost(model: AccessModel, s: int) -> tuple[np.ndarray, np.ndarray]:
    """(modes, villages, facilities) one-way minutes to facilities completing service s, else inf."""
    w, tab = model.world, model.tables
    ok = w.fac_completes[:, s] & w.fac_receives_visitors
    mask = np.broadcast_to(ok[None, :], (len(w.village_ids), len(w.fac_ids)))
    if model.loaded.scenario.services[w.services[s]].jurisdiction:
        mask = mask & (w.fac_new_unit[None, :] == w.unit_new[w.village_unit][:, None])
    return np.where(mask[None], tab.time_min, np.inf), ok


def _indices(
    cells: ResidentCells, cost: np.ndarray, supply: np.ndarray, users: np.ndarray, wait: np.ndarray
) -> dict[str, np.ndarray]:
    """Index value per cell for each method; demand rows are (fastest mode, village) with their users."""
    n_modes = cost.shape[0]
    row = cells.mode * cells.n_vil + cells.village
    demand = np.bincount(row, weights=cells.weight * users[cells.band], minlength=n_modes * cells.n_vil)
    flat = cost.reshape(n_modes * cells.n_vil, -1)
    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "2sfca": step_weight,
        "e2sfca": gaussian_weight,
        "gravity": gravity_weight,
    }
    out = {name: two_step_fca(demand, supply, f(flat)) * PER for name, f in methods.items()}
    out["e2sfca_queue"] = two_step_fca(demand, supply, gaussian_weight(flat + wait[None, :])) * PER
    return {name: a[row] for name, a in out.items()}


def _by_unit(values: np.ndarray, weight: np.ndarray, unit: np.ndarray, unit_ids: list[str]) -> dict[str, Any]:
    means = _wmean(values, weight, unit, len(unit_ids))
    return {u: _round(m) for u, m in zip(unit_ids, means, strict=True)}


def _merger_status(model: AccessModel) -> list[str]:
    """Per former unit: ``unmerged``, ``new_seat`` (seat of a merged unit) or ``absorbed``."""
    w = model.world
    members = np.bincount(w.unit_new, minlength=len(w.new_unit_ids))
    seat_of = {nid: nu.seat for nid, nu in model.loaded.scenario.merger.units.items()}
    out = []
    for u, uid in enumerate(w.unit_ids):
        nid = w.new_unit_ids[w.unit_new[u]]
        if members[w.unit_new[u]] <= 1:
            out.append("unmerged")
        else:
            seat = seat_of.get(nid)
            out.append("new_seat" if seat in (uid, f"seat:{uid}") else "absorbed")
    return out


def access_summary(
    model: AccessModel,
    result: RunResult | None,
    *,
    planned: ExpectedWaits | None = None,
    cells: ResidentCells | None = None,
) -> dict[str, Any]:
    """The ``access`` block of summary.json: indices, queue-aware times, life circles, merger-effect cells.

    Args:
        model: the model (world, travel tables, residents), finished if ``result`` is given.
        result: its tables (facility-days for waits, errands and schools for realised distances);
            None for a plan not yet simulated: ``planned`` then gives the waits, and the realised
            distances are left out.
        planned: expected waits of a plan not yet simulated (from demand assignment and the
            M(t)/M/c chain, :func:`sim.planning.waits.planned_waits`); used when ``result`` is None.
        cells: the model's :class:`ResidentCells` if already made (:func:`resident_cells`).

    Raises:
        ValueError: neither ``result`` nor ``planned`` is given.
    """
    w, tab = model.world, model.tables
    sc = model.loaded.scenario
    cells = resident_cells(model) if cells is None else cells
    walk = tab.modes.index("walk")
    expected: dict[str, Any] | None = None
    if result is None:
        if planned is None:
            raise ValueError("access_summary: a plan not yet simulated needs its planned waits")
        wait = planned.wait_min
        expected = {
            f: {
                "visits_per_open_day": _round(planned.visits_per_open_day[i]),
                "wait_min": _round(planned.wait_min[i]),
                "erlang_c_day_mean_min": _round(planned.erlang_c_day_mean_min[i]),
                "utilisation": _round(planned.utilisation[i]),
            }
            for i, f in enumerate(w.fac_ids)
            if planned.visits_per_open_day[i] > 0
        }
    else:
        wait = facility_mean_wait(result.facility_days, w.fac_ids)
    unit_ids = w.unit_ids
    services: dict[str, Any] = {}
    cell_measures: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (value, user weight) per cell
    by_village: dict[str, list[float | None]] = {}
    pop_v = np.bincount(cells.village, weights=cells.weight, minlength=len(w.village_ids))
    for s, name in enumerate(w.services):
        rates = np.array([sc.services[name].rate_per_person_year.get(b, 0.0) for b in w.age_bands])
        users = (rates > 0).astype(float)
        cost, ok = _service_cost(model, s)
        supply = np.where(ok, w.fac_servers, 0).astype(float)
        idx = _indices(cells, cost, supply, users, wait)
        uw = cells.weight * users[cells.band]
        entry: dict[str, Any] = {"users": _round(uw.sum()), "index_per_1000": {}}
        for method, values in idx.items():
            entry["index_per_1000"][method] = {
                "mean": _round(np.average(values, weights=uw) if uw.sum() > 0 else np.nan),
                "by_former_unit": _by_unit(values, uw, cells.unit, unit_ids),
                "theil": _theil_profile(values, uw, cells),
            }
            vil = _wmean(values, uw, cells.village, len(w.village_ids))
            by_village[f"{name}.{method}"] = _rounded(vil)
        # best over each resident's own modes (as the residents' access_<service>_min columns)
        own_min = cells.best(cost.min(axis=2))
        q_min = cells.best((cost + wait[None, None, :]).min(axis=2))
        walk_min = cost[walk].min(axis=1)[cells.village]
        entry["unreachable_share"] = (
            _round(uw[~np.isfinite(own_min)].sum() / uw.sum()) if uw.sum() > 0 else None
        )
        entry["queue_aware_nearest_min"] = {
            "mean": _round(_wmean(q_min, uw, np.zeros(len(uw), np.int64), 1)[0]),
            "by_former_unit": _by_unit(q_min, uw, cells.unit, unit_ids),
        }
        entry["life_circle_share"] = _life_circles(walk_min, own_min, uw, cells.unit, unit_ids)
        dist_km = np.where(np.isfinite(cost[walk]), tab.distance_km[walk], np.inf).min(axis=1)[cells.village]
        cell_measures[f"nearest_min_{name}"] = (own_min, uw)
        cell_measures[f"queue_aware_nearest_min_{name}"] = (q_min, uw)
        cell_measures[f"nearest_km_{name}"] = (dist_km, uw)
        cell_measures[f"e2sfca_{name}"] = (idx["e2sfca"], uw)
        services[name] = entry
    out: dict[str, Any] = {
        "parameters": {
            "catchment_min": CATCHMENT_MIN,
            "gaussian_sigma_min": GAUSSIAN_SIGMA_MIN,
            "gravity_beta": GRAVITY_BETA,
            "gravity_min_cost_min": GRAVITY_MIN_COST_MIN,
            "index_unit": "servers per 1,000 users of the service (users: age bands with a visit rate)",
            "travel": "one-way min, fastest own mode; e2sfca_queue adds the facility's mean wait",
            "wait_source": "simulated facility-days (arrival-weighted mean wait)",
        },
        "services": services,
        "facility_mean_wait_min": {f: _round(x) for f, x in zip(w.fac_ids, wait, strict=True) if x > 0},
        "by_village": {
            "village": list(w.village_ids),
            "population": _rounded(pop_v),
            **by_village,
        },
        "merger_effect_cells": _effect_cells(model, result, cells, cell_measures),
    }
    if expected is not None:
        out["parameters"]["wait_source"] = (
            "expected: demand assignment and the M(t)/M/c chain (not simulated)"
        )
        out["facility_expected_wait"] = expected
    return out


def _theil_profile(values: np.ndarray, weight: np.ndarray, cells: ResidentCells) -> dict[str, float | None]:
    """Theil T by former unit and by island and the age concentration index of one index's values:
    the values cleaned, weighted and their ``x ln x`` summed once for all three (as
    :func:`theil_decomposition` and :func:`concentration_index` each do alone)."""
    x = np.asarray(values, dtype=float)
    w = np.asarray(weight, dtype=float)
    keep = np.isfinite(x) & (w > 0)
    every = bool(keep.all())
    if not every:
        x, w = x[keep], w[keep]
    if len(x) == 0:
        unit = isl = {"total": np.nan, "between": np.nan, "within": np.nan}
        concentration = np.nan
    else:

        def codes(g: np.ndarray) -> np.ndarray:
            c = np.asarray(g, dtype=np.int64)
            return c if every else c[keep]

        wx = w * x
        xlogx = _xlogx_total(x, w, wx)
        unit = _decompose(x, codes(cells.unit), w, xlogx, wx)
        isl = _decompose(x, codes(cells.island), w, xlogx, wx)
        concentration = _concentration(x, codes(cells.band), w, wx)
    return {
        "total": _round(unit["total"]),
        "between_former_unit": _round(unit["between"]),
        "within_former_unit": _round(unit["within"]),
        "between_island": _round(isl["between"]),
        "within_island": _round(isl["within"]),
        "concentration_index_age": _round(concentration),
    }


def _life_circles(
    walk_min: np.ndarray, own_min: np.ndarray, weight: np.ndarray, unit: np.ndarray, unit_ids: list[str]
) -> dict[str, Any]:
    """Shares of users within 5/15/30 min: walking (the GB 50180 circles) and by their fastest own mode."""
    total = weight.sum()
    unit_all = np.bincount(unit, weights=weight, minlength=len(unit_ids))  # the same for every circle
    out: dict[str, Any] = {}
    for label, minutes in (("walk", walk_min), ("own_mode", own_min)):
        block: dict[str, Any] = {}
        for t in LIFE_CIRCLES_MIN:
            inside = weight * (minutes <= t)
            block[str(t)] = _round(inside.sum() / total) if total > 0 else None
            unit_in = np.bincount(unit, weights=inside, minlength=len(unit_ids))
            share = np.divide(unit_in, unit_all, out=np.full(len(unit_ids), np.nan), where=unit_all > 0)
            block[f"{t}_by_former_unit"] = dict(zip(unit_ids, _rounded(share), strict=True))
        out[label] = block
    return out


def _effect_cells(
    model: AccessModel,
    result: RunResult | None,
    cells: ResidentCells,
    measures: dict[str, tuple[np.ndarray, np.ndarray]],
) -> dict[str, Any]:
    """Per former unit and age band: population, nearest distance and time, E2SFCA, realised distances.

    These are the cells ``townsim merger-effect`` differences between runs (before / after a merger,
    merged vs unmerged former townships). Realised distances need a run (``result``).
    """
    w = model.world
    n_units, n_bands = len(w.unit_ids), len(w.age_bands)
    key = cells.unit * n_bands + cells.band
    k = n_units * n_bands
    table: dict[str, np.ndarray] = {"population": np.bincount(key, weights=cells.weight, minlength=k)}
    for name, (values, weight) in measures.items():
        table[name] = _wmean(values, weight, key, k)
    if result is not None:
        table.update(_realised_km(model, result, k))
    rounded = {name: _rounded(col) for name, col in table.items()}
    rows = []
    for u in range(n_units):
        for b in range(n_bands):
            i = u * n_bands + b
            rows.append(
                {
                    "former_unit": w.unit_ids[u],
                    "age_band": w.age_bands[b],
                    **{name: col[i] for name, col in rounded.items()},
                }
            )
    return {"merger_status": dict(zip(w.unit_ids, _merger_status(model), strict=True)), "rows": rows}


def _realised_km(model: AccessModel, result: RunResult, k: int) -> dict[str, np.ndarray]:
    """Per (former unit, age band) cell: round-trip km per completed errand by group, school km."""
    w, res = model.world, model.residents
    n_bands = len(w.age_bands)
    r_key = res.unit.astype(np.int64) * n_bands + res.band
    r_weight = res.weight
    errands = result.errands
    table: dict[str, np.ndarray] = {}
    done = (errands["status"] == "completed").to_numpy()
    e_res = errands["resident"].to_numpy(np.int64)[done]
    service = errands["service"].cat.codes.to_numpy()[done]  # small codes: no 64-bit copy of every row
    group_cell = (w.service_group * k)[service] + r_key[e_res]  # the group's first cell, per service code
    e_weight = r_weight[e_res]
    del e_res, service
    n_groups = len(w.groups)
    shared: dict[str, np.ndarray] = {}  # weight per (group, cell), the same for every column

    def by_group(column: str) -> np.ndarray:
        """(groups, k) weighted mean of an errands column per (service group, cell): one bincount
        over both, the same sums as one per group."""
        values = errands[column].to_numpy(float)[done]
        return _wmean(values, e_weight, group_cell, n_groups * k, shared).reshape(n_groups, k)

    km = by_group("distance_km")
    minutes = by_group("burden_min") if model.frailty is not None else None
    for g, group in enumerate(w.groups):
        table[f"round_trip_km_per_errand_{group}"] = km[g]
        if minutes is not None:  # minutes, where the frail elderly walk slower (elderly:)
            table[f"burden_min_per_errand_{group}"] = minutes[g]
    pupils = result.schools
    placed = pupils["school"].notna().to_numpy()
    p_res = pupils["resident"].to_numpy(np.int64)[placed]
    table["school_km"] = _wmean(
        pupils["distance_km"].to_numpy(float)[placed], r_weight[p_res], r_key[p_res], k
    )
    return table


def compare_columns(summary: RunSummary) -> dict[str, dict[str, float | None]]:
    """Extra ``townsim compare`` columns per former township and ALL: E2SFCA and queue-aware minutes
    per service; for ALL also the between-township share of the Theil index of burden."""
    out: dict[str, dict[str, float | None]] = {"ALL": {}}
    for svc, entry in summary.access.services.items():
        blocks: tuple[tuple[str, IndexStats | MeanByUnit], ...] = (
            (f"e2sfca_{svc}", entry.index_per_1000["e2sfca"]),
            (f"queue_aware_{svc}_min", entry.queue_aware_nearest_min),
        )
        for col, block in blocks:
            out["ALL"][col] = block.mean
            for unit, value in block.by_former_unit.items():
                out.setdefault(unit, {})[col] = value
    burden = summary.equity.profiles.get("burden_min_per_errand", {})
    if "theil_between_share_former_unit" in burden:
        out["ALL"]["burden_theil_between_share"] = burden["theil_between_share_former_unit"]
    return out
