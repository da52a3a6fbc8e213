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
    tier = facility_tiers(model.world)
    time = model.tables.time_min  # (modes, villages, facilities)
    inf = np.full(time.shape[:2], np.inf)
    low = time[:, :, tier == 0].min(axis=2) if (tier == 0).any() else inf
    high = time[:, :, tier > 0].min(axis=2) if (tier > 0).any() else inf
    n_modes = time.shape[0]
    owns = model.residents.owns[:n_modes, residents]
    bits = (
        owns.astype(np.uint8) << np.arange(n_modes, dtype=np.uint8)[:, None]
    )  # 8 bits per resident and mode
    mode_set = bits.sum(axis=0, dtype=np.int64)  # bits of modes owned
    bit = np.arange(n_modes)[:, None, None]
    owned = (np.arange(1 << n_modes)[None, :, None] >> bit) & 1 > 0  # (modes, mode sets, 1)
    t_low = np.where(owned, low[:, None, :], np.inf).min(axis=0)  # (mode sets, villages)
    t_high = np.where(owned, high[:, None, :], np.inf).min(axis=0)
    with np.errstate(invalid="ignore"):
        relative: np.ndarray = (t_low - t_high)[mode_set, model.residents.village[residents]]
    return relative


def health_summary(model: AccessModel, result: RunResult, days: int) -> dict[str, Any]:
    """Visits per person-year by tier, bypass shares, referrals and km per health errand by age band."""
    w, res = model.world, model.residents
    spec = model.loaded.scenario.health
    assert spec is not None
    bands = list(w.age_bands)
    trips, errands = result.trips, result.errands
    fac = _codes(trips["facility"], w.fac_ids)
    kind = np.asarray(w.fac_kind)[fac]
    weight = float(model.sample_weight)
    person_years = float(res.weight.sum()) * days / 365.0
    visits = {}
    for name in HEALTH_TIERS:
        k = list(w.kind_names).index(name) if name in w.kind_names else -1
        visits[name] = _num((kind == k).sum() * weight / person_years) if person_years > 0 else None
    ratio = (
        visits["village_clinic"] / visits["clinic"]
        if visits["village_clinic"] is not None and visits["clinic"]
        else None
    )

    _, measured = measured_rows(errands, trips)  # trips of errands that arose on measured days
    first = measured & _first_trips(trips["errand"].to_numpy(np.int64))  # trips are in time order
    minor = first & (_codes(trips["purpose"], w.services) == w.services.index(spec.levels[0]))
    rows = np.flatnonzero(minor)
    who = trips["resident"].to_numpy(np.int64)[rows]
    band = res.band[who]
    bypass = facility_tiers(w)[fac[rows]] > 0
    delta = relative_time_min(model, who)
    by_band = {
        b: {"first_trips": int((band == i).sum()), "bypass_share": _share(bypass[band == i])}
        for i, b in enumerate(bands)
    }
    edges = np.asarray(RELATIVE_TIME_EDGES_MIN)
    bin_of = np.searchsorted(edges, delta, side="left")  # bin j: (edges[j-1], edges[j]]
    labels = [f"<= {edges[0]:g}"]
    labels += [f"({a:g}, {b:g}]" for a, b in itertools.pairwise(edges)]
    labels += [f"> {edges[-1]:g}"]
    old = band == bands.index("60+") if "60+" in bands else np.zeros(len(band), bool)
    profile = {
        lab: {
            "first_trips": int((bin_of == j).sum()),
            "bypass_share": _share(bypass[bin_of == j]),
            "first_trips_60_plus": int(((bin_of == j) & old).sum()),
            "bypass_share_60_plus": _share(bypass[(bin_of == j) & old]),
        }
        for j, lab in enumerate(labels)
    }

    is_referred = _codes(trips["outcome"], None, "referred")
    referred = {
        name: int(((kind == list(w.kind_names).index(name)) & is_referred & measured).sum())
        for name in HEALTH_TIERS
        if name in w.kind_names
    }
    group = w.service_group[w.services.index(spec.levels[0])]
    e_svc = _codes(errands["service"], w.services)
    done = (errands["status"] == "completed").to_numpy() & (errands["arise_day"] >= 0).to_numpy()
    health = done & (w.service_group[e_svc] == group)
    e_band = res.band[errands["resident"].to_numpy(np.int64)]
    km = errands["distance_km"].to_numpy(float)
    km_by_band = {
        b: _num(km[health & (e_band == i)].mean()) if (health & (e_band == i)).any() else None
        for i, b in enumerate(bands)
    }
    return {
        "visits_per_person_year": visits,
        "village_clinic_to_health_centre_visits": _num(ratio) if ratio is not None else None,
        "bypass": {
            "care": spec.levels[0],
            "first_trips": len(rows),
            "share": _share(bypass),
            "by_age_band": by_band,
            "by_relative_time_min": profile,
        },
        "referred_trips_by_kind": referred,
        "health_errands_completed": int(health.sum()),
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


def _codes(column: pd.Series, names: list[str] | None, flag: str | None = None) -> np.ndarray:
    """Positions of a categorical column's values in ``names``, 32-bit (or, with ``flag``, value == flag)."""
    cats = [str(c) for c in column.cat.categories]
    codes = column.cat.codes.to_numpy()  # its own narrow dtype: -1 (missing) reads the lookup's last entry
    if flag is not None:
        is_flag: np.ndarray = codes == (cats.index(flag) if flag in cats else -2)
        return is_flag
    assert names is not None
    lookup = np.array([names.index(c) for c in cats] + [-1], dtype=np.int32)
    return lookup[codes]


def _share(flags: np.ndarray) -> float | None:
    return _num(flags.mean()) if len(flags) else None
