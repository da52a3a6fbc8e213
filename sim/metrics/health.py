"""The ``health`` block of summary.json (runs with health tiers): visits by tier, bypassing, referral.

Visits are trips that reached a facility (any outcome) on measured days, each standing for
its sample weight, per person-year. Bypassing: a first trip for the lowest kind of care
(``health.levels[0]``) that went above the village clinic tier; the share is reported by age band
and by the chooser's relative travel time, the one-way minutes to the nearest village clinic
minus those to the nearest facility of a higher tier (fastest mode the resident has; negative:
the village clinic is nearer). Only errands that arose on measured days count.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.metrics.summary import measured_rows
from sim.model.health import facility_tiers
from sim.scenario.health import HEALTH_TIERS

if TYPE_CHECKING:
    from sim.model.model import AccessModel
    from sim.results.result import RunResult

__all__ = ["RELATIVE_TIME_EDGES_MIN", "health_summary", "relative_time_min"]

#: Bin edges (one-way minutes, village clinic minus nearest higher tier) of the bypass profile.
RELATIVE_TIME_EDGES_MIN = (-30.0, -20.0, -10.0, -5.0, 0.0)


def _num(x: float) -> float | None:
    return round(float(x), 6) if np.isfinite(x) else None


def relative_time_min(model: AccessModel, residents: np.ndarray) -> np.ndarray:
    """One-way minutes to the nearest village clinic minus to the nearest higher-tier health facility.

    Args:
        model: a model with health tiers.
        residents: resident rows.

    Returns:
        minutes per resident by the fastest mode each has (inf - x = inf when no village clinic),
        computed once per (set of modes owned, village).
    """
    relative, cell = _relative_cells(model)
    minutes: np.ndarray = relative[cell[residents]]
    return minutes


def _relative_cells(model: AccessModel) -> tuple[np.ndarray, np.ndarray]:
    """:func:`relative_time_min` per cell of (set of modes owned, village), flat, and each
    resident's cell: the minutes are the same for every resident of a cell."""
    tier = facility_tiers(model.world)
    time = model.tables.time_min  # (modes, villages, facilities)
    inf = np.full(time.shape[:2], np.inf)
    low = time[:, :, tier == 0].min(axis=2) if (tier == 0).any() else inf
    high = time[:, :, tier > 0].min(axis=2) if (tier > 0).any() else inf
    n_modes, n_villages = time.shape[:2]
    owns = model.residents.owns[:n_modes]
    bits = (
        owns.astype(np.uint8) << np.arange(n_modes, dtype=np.uint8)[:, None]
    )  # 8 bits per resident and mode
    mode_set = bits.sum(axis=0, dtype=np.int64)  # bits of modes owned
    bit = np.arange(n_modes)[:, None, None]
    owned = (np.arange(1 << n_modes)[None, :, None] >> bit) & 1 > 0  # (modes, mode sets, 1)
    t_low = np.where(owned, low[:, None, :], np.inf).min(axis=0)  # (mode sets, villages)
    t_high = np.where(owned, high[:, None, :], np.inf).min(axis=0)
    with np.errstate(invalid="ignore"):
        relative = (t_low - t_high).ravel()
    cell = mode_set * n_villages + model.residents.village
    return relative, cell


def health_summary(model: AccessModel, result: RunResult, days: int) -> dict[str, Any]:
    """Visits per person-year by tier, bypass shares, referrals and km per health errand by age band."""
    w, res = model.world, model.residents
    spec = model.loaded.scenario.health
    assert spec is not None
    bands = list(w.age_bands)
    trips, errands = result.trips, result.errands
    fac_lookup = _lookup(trips["facility"], w.fac_ids)
    kind_of_code = np.asarray(w.fac_kind)[fac_lookup]  # per facility code (missing: the lookup's -1)
    fac_code = trips["facility"].cat.codes.to_numpy()
    _, measured = measured_rows(errands, trips)  # trips of errands that arose on measured days
    # rows per facility code (missing last), all and referred on measured days: one bincount of
    # 2 * (code + 1) + referred, the same integers as a bincount of each
    pair = fac_code.astype(np.intp)
    pair += 1
    pair *= 2
    pair += _is(trips["outcome"], "referred") & measured
    per_pair = np.bincount(pair, minlength=2 * len(fac_lookup)).reshape(len(fac_lookup), 2)
    del pair
    at_code = np.roll(per_pair.sum(axis=1), -1)
    referred_at_code = np.roll(per_pair[:, 1], -1)
    weight = float(model.sample_weight)
    person_years = float(res.weight.sum()) * days / 365.0
    visits = {}
    for name in HEALTH_TIERS:
        k = list(w.kind_names).index(name) if name in w.kind_names else -1
        n_visits = at_code[kind_of_code == k].sum()
        visits[name] = _num(n_visits * weight / person_years) if person_years > 0 else None
    ratio = (
        visits["village_clinic"] / visits["clinic"]
        if visits["village_clinic"] is not None and visits["clinic"]
        else None
    )

    first = measured & _first_trips(trips["errand"].to_numpy(np.int64))  # trips are in time order
    minor = first & _is(trips["purpose"], spec.levels[0])
    rows = np.flatnonzero(minor)
    above_code = facility_tiers(w)[fac_lookup] > 0  # per facility code (missing: the lookup's -1)
    bypass = above_code[fac_code.take(rows)]
    relative, cell = _relative_cells(model)
    edges = np.asarray(RELATIVE_TIME_EDGES_MIN)
    bin_of_cell = np.searchsorted(edges, relative, side="left")  # bin j: (edges[j-1], edges[j]]
    n_bins, n_bands = len(edges) + 1, len(bands)
    key = (bin_of_cell * n_bands)[cell] + res.band  # (bin, age band) of each resident
    key = key.take(trips["resident"].to_numpy().take(rows))  # of each first trip
    key *= 2
    key += bypass  # (bin, age band, bypassed): first trips and bypasses from one bincount
    per_key = np.bincount(key, minlength=2 * n_bins * n_bands).reshape(n_bins, n_bands, 2)
    n_first = per_key.sum(axis=2)
    n_bypass = per_key[:, :, 1]
    by_band = {
        b: {
            "first_trips": int(n_first[:, i].sum()),
            "bypass_share": _share(n_bypass[:, i].sum(), n_first[:, i].sum()),
        }
        for i, b in enumerate(bands)
    }
    labels = [f"<= {edges[0]:g}"]
    labels += [f"({a:g}, {b:g}]" for a, b in itertools.pairwise(edges)]
    labels += [f"> {edges[-1]:g}"]
    old = bands.index("60+") if "60+" in bands else None
    profile = {
        lab: {
            "first_trips": int(n_first[j].sum()),
            "bypass_share": _share(n_bypass[j].sum(), n_first[j].sum()),
            "first_trips_60_plus": int(n_first[j, old]) if old is not None else 0,
            "bypass_share_60_plus": _share(n_bypass[j, old], n_first[j, old]) if old is not None else None,
        }
        for j, lab in enumerate(labels)
    }

    referred = {
        name: int(referred_at_code[kind_of_code == list(w.kind_names).index(name)].sum())
        for name in HEALTH_TIERS
        if name in w.kind_names
    }
    group = w.service_group[w.services.index(spec.levels[0])]
    in_group = w.service_group[_lookup(errands["service"], w.services)] == group  # per service code
    done = (errands["status"] == "completed").to_numpy() & (errands["arise_day"] >= 0).to_numpy()
    health = np.flatnonzero(done & in_group[errands["service"].cat.codes.to_numpy()])
    h_band = res.band.take(errands["resident"].to_numpy().take(health))
    h_km = errands["distance_km"].to_numpy(float).take(health)
    km_by_band = {}
    for i, b in enumerate(bands):
        in_band = h_band == i
        km_by_band[b] = _num(h_km[in_band].mean()) if in_band.any() else None
    return {
        "visits_per_person_year": visits,
        "village_clinic_to_health_centre_visits": _num(ratio) if ratio is not None else None,
        "bypass": {
            "care": spec.levels[0],
            "first_trips": len(rows),
            "share": _share(bypass.sum(), len(bypass)),
            "by_age_band": by_band,
            "by_relative_time_min": profile,
        },
        "referred_trips_by_kind": referred,
        "health_errands_completed": len(health),
        "round_trip_km_per_health_errand_by_age_band": km_by_band,
    }


def _first_trips(errand: np.ndarray) -> np.ndarray:
    """Whether each row is the first with its errand id (ids >= 0): ``~Series.duplicated()`` by
    the earliest row per id, without a hash table over every trip."""
    dtype = np.int32 if len(errand) < 1 << 31 else np.int64  # row numbers: 32 bits while they fit
    rows = np.arange(len(errand), dtype=dtype)
    first = np.full(int(errand.max(initial=-1)) + 1, len(errand), dtype=dtype)
    np.minimum.at(first, errand, rows)
    is_first: np.ndarray = first[errand] == rows
    return is_first


def _lookup(column: pd.Series, names: list[str]) -> np.ndarray:
    """Position in ``names`` of each category of a categorical column, 32-bit, and -1 last: indexed
    by the column's codes (-1, missing, reads the last entry)."""
    return np.array([names.index(str(c)) for c in column.cat.categories] + [-1], dtype=np.int32)


def _is(column: pd.Series, value: str) -> np.ndarray:
    """Whether each value of a categorical column is ``value``, by its codes."""
    cats = [str(c) for c in column.cat.categories]
    is_value: np.ndarray = column.cat.codes.to_numpy() == (cats.index(value) if value in cats else -2)
    return is_value


def _share(hits: int, n: int) -> float | None:
    """Share ``hits / n`` (the mean of ``n`` flags of which ``hits`` are set), None when n is 0."""
    return _num(hits / n) if n else None
