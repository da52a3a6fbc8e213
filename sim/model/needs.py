"""Errands (needs) as columnar records: arise, wait for a trip, end completed or stay pending."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.special import gammaln

from sim.model.streams import Streams, name_key

__all__ = ["NeedCells", "Needs", "draw_new_needs", "need_cells", "poisson_cdf", "poisson_inverse"]


@dataclass
class Needs:
    """A batch of errands, one row each.

    Attributes:
        errand: global errand id (dense: 0, 1, ... in order of arising).
        key: 64-bit identity keying the errand's random draws (same errand, same key, in any
            scenario run with this seed).
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
        channel: how it is (being) done: 0 trip, 1 online, 2 proxy agent, 3 mobile service
            (sim.model.levers.CHANNELS).
    """

    errand: np.ndarray
    key: np.ndarray
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
    channel: np.ndarray

    @classmethod
    def empty(cls) -> Needs:
        """No errands."""
        return cls.new(
            np.zeros(0, np.int64),
            np.zeros(0, np.uint64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int16),
            0,
            0,
            np.zeros(0, bool),
        )

    @classmethod
    def new(
        cls,
        errand: np.ndarray,
        key: np.ndarray,
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
            key=key.astype(np.uint64),
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
            channel=np.zeros(n, dtype=np.int8),
        )

    def __len__(self) -> int:
        return len(self.errand)

    def take(self, mask: np.ndarray) -> Needs:
        """Rows where ``mask`` holds (boolean mask or index array)."""
        return Needs(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Needs]) -> Needs:
        """Stack batches."""
        return Needs.gather([(p, None) for p in parts])

    @staticmethod
    def gather(parts: list[tuple[Needs, np.ndarray | None]]) -> Needs:
        """Stack the given rows (index arrays; None = all) of each batch, batch after batch, each
        column copied once into its place (no intermediate batches)."""
        if not parts:
            return Needs.empty()
        sizes = [len(b) if rows is None else len(rows) for b, rows in parts]
        ends = np.cumsum(sizes).tolist()
        columns = {}
        for f in fields(Needs):
            out = np.empty(ends[-1], dtype=np.result_type(*(getattr(b, f.name) for b, _ in parts)))
            for (batch, rows), end, size in zip(parts, ends, sizes, strict=True):
                column = getattr(batch, f.name)
                out[end - size : end] = column if rows is None else column.take(rows)
            columns[f.name] = out
        return Needs(**columns)


@dataclass(frozen=True)
class NeedCells:
    """Where needs arise: one cell per (service, age band) with a positive rate.

    Attributes:
        service, band: indices per cell.
        service_key, band_key: stable keys of their names (so adding a service or band keeps
            every other cell's draws).
        cdf: per cell, the Poisson CDF of that cell's daily count (index = count).
        members: resident rows, band after band.
        band_start, band_size: where each band's rows start in ``members`` and how many there are.
    """

    service: np.ndarray
    band: np.ndarray
    service_key: np.ndarray
    band_key: np.ndarray
    cdf: list[np.ndarray]
    members: np.ndarray
    band_start: np.ndarray
    band_size: np.ndarray


def poisson_cdf(lam: float) -> np.ndarray:
    """CDF of Poisson(lam) at 0, 1, ... up to where the tail is below 1e-30."""
    top = int(np.ceil(lam + 13 * np.sqrt(lam) + 30))
    k = np.arange(top + 1, dtype=float)
    log_pmf = k * np.log(lam) - lam - gammaln(k + 1)
    return np.cumsum(np.exp(log_pmf))


def poisson_inverse(lam: float, u: float) -> int:
    """Poisson(lam) by inverse CDF of one uniform."""
    cdf = poisson_cdf(lam)
    return min(int(np.searchsorted(cdf, u, side="right")), len(cdf) - 1)


def need_cells(
    band_members: list[np.ndarray], daily_rate: np.ndarray, services: list[str], bands: tuple[str, ...]
) -> NeedCells:
    """Cells with a positive expected daily count.

    Args:
        band_members: resident rows per age band.
        daily_rate: (services, bands) expected needs per person-day.
    """
    size = np.array([len(m) for m in band_members], dtype=np.int64)
    lam = daily_rate * size[None, :]
    s_idx, b_idx = np.nonzero(lam > 0)
    return NeedCells(
        service=s_idx,
        band=b_idx,
        service_key=np.array([name_key(services[s]) for s in s_idx], dtype=np.uint64),
        band_key=np.array([name_key(bands[b]) for b in b_idx], dtype=np.uint64),
        cdf=[poisson_cdf(float(lam[s, b])) for s, b in zip(s_idx, b_idx, strict=True)],
        members=np.concatenate([np.zeros(0, np.int64), *(np.asarray(m, np.int64) for m in band_members)]),
        band_start=np.cumsum(size) - size,
        band_size=size,
    )


def draw_new_needs(streams: Streams, cells: NeedCells, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residents with a new need on ``day``, the service of each and each errand's key.

    The count of a (service, band) cell is Poisson by inverse CDF of one uniform keyed by (day,
    service, band); the k-th need of the cell goes to a member of the band picked by a uniform
    keyed by (day, service, band, k). The same residents therefore get the same needs on the
    same days in every scenario with this seed and population, however else they differ.

    Returns:
        (resident rows, service indices, errand keys).
    """
    if len(cells.service) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int16), np.zeros(0, np.uint64)
    u = streams.uniform("needs.count", day, cells.service_key, cells.band_key)
    counts = np.array(
        [min(np.searchsorted(c, x, side="right"), len(c) - 1) for c, x in zip(cells.cdf, u, strict=True)]
    )
    cell = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(len(cell)) - np.repeat(np.cumsum(counts) - counts, counts)
    skey, bkey = cells.service_key[cell], cells.band_key[cell]
    pick = streams.uniform("needs.who", day, skey, bkey, k)
    band = cells.band[cell]
    size = cells.band_size[band]
    index = np.minimum((pick * size).astype(np.int64), size - 1)
    resident = cells.members[cells.band_start[band] + index]
    return resident, cells.service[cell].astype(np.int16), streams.key("errand", day, skey, bkey, k)
