"""Errands (needs) as columnar records: arise, wait for a trip, end completed or stay pending."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["Needs", "draw_new_needs"]


@dataclass
class Needs:
    """A batch of errands, one row each.

    Attributes:
        errand: global errand id.
        resident: resident row.
        service: service index.
        arise_day: day the need arose.
        next_day: first day the resident will act on it.
        last_day: day of the latest trip (-1 = none yet).
        trips: trips made so far.
        burden_min: door-to-door minutes so far (travel both ways + waits), all trips.
        distance_km, money_yuan: totals so far, all trips.
        forced_fac: facility the resident was referred to (-1 = free choice).
        informed: knows which facilities complete this errand.
    """

    errand: np.ndarray
    resident: np.ndarray
    service: np.ndarray
    arise_day: np.ndarray
    next_day: np.ndarray
    last_day: np.ndarray
    trips: np.ndarray
    burden_min: np.ndarray
    distance_km: np.ndarray
    money_yuan: np.ndarray
    forced_fac: np.ndarray
    informed: np.ndarray

    @classmethod
    def empty(cls) -> Needs:
        """No errands."""
        return cls.new(
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int16), 0, 0, np.zeros(0, bool)
        )

    @classmethod
    def new(
        cls,
        errand: np.ndarray,
        resident: np.ndarray,
        service: np.ndarray,
        day: int,
        retry_day: int,
        informed: np.ndarray,
    ) -> Needs:
        """Fresh errands arising on ``day``."""
        n = len(resident)
        return cls(
            errand=errand.astype(np.int64),
            resident=resident.astype(np.int64),
            service=service.astype(np.int16),
            arise_day=np.full(n, day, dtype=np.int32),
            next_day=np.full(n, retry_day, dtype=np.int32),
            last_day=np.full(n, -1, dtype=np.int32),
            trips=np.zeros(n, dtype=np.int16),
            burden_min=np.zeros(n),
            distance_km=np.zeros(n),
            money_yuan=np.zeros(n),
            forced_fac=np.full(n, -1, dtype=np.int32),
            informed=informed.astype(bool),
        )

    def __len__(self) -> int:
        return len(self.errand)

    def take(self, mask: np.ndarray) -> Needs:
        """Rows where ``mask`` holds (boolean mask or index array)."""
        return Needs(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Needs]) -> Needs:
        """Stack batches."""
        if not parts:
            return Needs.empty()
        return Needs(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Needs)})


def draw_new_needs(
    rng: np.random.Generator,
    band_members: list[np.ndarray],
    daily_rate: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Residents with a new need today and the service of each.

    Args:
        band_members: resident rows per age band.
        daily_rate: (services, bands) expected needs per person-day.

    Returns:
        (resident rows, service indices); Poisson counts per (service, band), residents
        drawn uniformly within the band.
    """
    lam = daily_rate * np.array([len(m) for m in band_members])[None, :]
    counts = rng.poisson(lam)
    residents: list[np.ndarray] = []
    services: list[np.ndarray] = []
    for s, b in zip(*np.nonzero(counts), strict=True):
        members = band_members[b]
        residents.append(members[rng.integers(0, len(members), counts[s, b])])
        services.append(np.full(counts[s, b], s, dtype=np.int16))
    if not residents:
        return np.zeros(0, np.int64), np.zeros(0, np.int16)
    return np.concatenate(residents), np.concatenate(services)
