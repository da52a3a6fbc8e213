"""The ``elderly`` block of summary.json (runs with an ``elderly`` block): impairment, companions, fares.

Minutes are those of the trips on measured days (the trips table), summed over simulated
residents; ``*_per_year`` figures stand for the whole population (× sample weight × 365 / days).
A companion's minutes are each accompanied trip's there + wait + home, counted in the
companion's age band (``elderly.companion_band``) and added to the residents' own burden in the
totals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.model.model import AccessModel
    from sim.results.result import RunResult

__all__ = ["elderly_summary"]


def _num(x: float) -> float | None:
    return round(float(x), 6) if np.isfinite(x) else None


def _band_counts(band: np.ndarray, n: int) -> np.ndarray:
    """Rows per age band 0..n-1 (``np.bincount(band, minlength=n)`` for bands below n): one
    comparison pass per band over the small codes, no 64-bit copy of every row."""
    return np.array([np.count_nonzero(band == i) for i in range(n)], dtype=np.int64)


def elderly_summary(model: AccessModel, result: RunResult, days: int) -> dict[str, Any]:
    """Impaired shares, companions' minutes, burden with companions by age band, fare subsidy, bus shares."""
    f = model.frailty
    spec = model.loaded.scenario.elderly
    assert f is not None and spec is not None
    res, bands = model.residents, list(model.world.age_bands)
    scale = float(model.sample_weight) * 365.0 / days
    count = np.bincount(res.band, minlength=len(bands))
    impaired = np.bincount(res.band, weights=f.impaired, minlength=len(bands))
    trips = result.trips
    rows = trips["resident"].to_numpy(np.int64)
    band = res.band[rows]
    minutes = trips["travel_min"].to_numpy(float) + trips["wait_min"].to_numpy(float)
    minutes += trips["return_min"].to_numpy(float)
    own = np.bincount(band, weights=minutes, minlength=len(bands))
    with_companions = own.copy()
    with_companions[bands.index(spec.companion_band)] += f.companion_min
    is_bus = (trips["mode"] == "bus").to_numpy()  # compared by category code, no strings per trip
    bus_rows = np.flatnonzero(is_bus)  # the bus trips (few): their bands and money taken once
    bus_band = band.take(bus_rows)
    n_trips = _band_counts(band, len(bands))
    bus = _band_counts(bus_band, len(bands)).astype(float)  # sums of ones: the same whatever the order
    bus_money = np.bincount(  # the bus trips' money only: the same sums as adding zeros for the others
        bus_band, weights=trips["money_yuan"].to_numpy(float).take(bus_rows), minlength=len(bands)
    )
    return {
        "impaired_share_by_age_band": {
            b: _num(impaired[i] / count[i]) if count[i] else None for i, b in enumerate(bands)
        },
        "companion_band": spec.companion_band,
        "companion_trips": f.companion_trips,
        "companion_min": _num(f.companion_min),
        "companion_person_hours_per_year": _num(f.companion_min * scale / 60.0),
        "burden_min_by_age_band": {b: _num(own[i]) for i, b in enumerate(bands)},
        "burden_min_by_age_band_with_companions": {b: _num(with_companions[i]) for i, b in enumerate(bands)},
        "burden_min_with_companions": _num(with_companions.sum()),
        "fare_subsidy_yuan": _num(f.fare_waived_yuan),
        "fare_subsidy_yuan_per_year": _num(f.fare_waived_yuan * scale),
        "bus_share_by_age_band": {
            b: _num(bus[i] / n_trips[i]) if n_trips[i] else None for i, b in enumerate(bands)
        },
        "bus_money_yuan_by_age_band": {b: _num(bus_money[i]) for i, b in enumerate(bands)},
    }
