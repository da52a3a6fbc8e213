"""The frail elderly in the daily step: slower walking, companions and bus fare concessions.

With a scenario's ``elderly:`` block (:class:`sim.scenario.elderly.Elderly`) each resident is
impaired with their band's share and then needs a companion with ``companion_share``, by draws
keyed by the resident (streams ``elderly.impaired``, ``elderly.companion``). Choice sees each
resident's own costs through cost groups (impaired or not x fare discount): the choice tables get
one copy of every mode per group, walking slower for the impaired and the bus cheaper by the
discount, and a chooser's ownership pattern points into its group's copy, so the logit and its
inverse-CDF draw are unchanged. Nothing here runs without the block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.population import Residents
from sim.model.streams import Streams
from sim.scenario.elderly import Elderly

__all__ = ["ChoiceCosts", "Frailty"]


@dataclass(frozen=True)
class ChoiceCosts:
    """Static costs and ownership as the choice rule sees them (modes repeated per cost group).

    Attributes:
        static_min: (groups x modes, villages, facilities) generalised cost.
        owns: (groups x patterns, groups x modes) bool.
        pattern: per resident, its row of ``owns``.
        real_mode: per choice mode, the mode it is.
        bus_rows: choice modes that are the bus.
    """

    static_min: np.ndarray
    owns: np.ndarray
    pattern: np.ndarray
    real_mode: np.ndarray
    bus_rows: np.ndarray


class Frailty:
    """Impairment and companions per resident, fare discounts, and what they cost over a run.

    Args:
        spec: the scenario's ``elderly`` block.
        bands: the age bands.
        residents: the resident table.
        streams: the run's keyed streams.
        weight: residents each simulated one stands for.
    """

    def __init__(
        self, spec: Elderly, bands: tuple[str, ...], residents: Residents, streams: Streams, weight: float
    ) -> None:
        self.spec = spec
        self.weight = weight
        band = residents.band
        share = np.array([spec.impaired_share.get(b, 0.0) for b in bands])
        self.impaired = streams.uniform("elderly.impaired", residents.key) < share[band]
        needs = streams.uniform("elderly.companion", residents.key) < spec.companion_share
        self.companion = self.impaired & needs
        self.discount = np.array([spec.fare_discount.get(b, 0.0) for b in bands])[band]
        self.companion_trips = 0
        self.companion_min = 0.0  # measured days, simulated residents
        self.fare_waived_yuan = 0.0  # measured days, simulated residents

    def choice_costs(
        self,
        static_min: np.ndarray,
        owns: np.ndarray,
        pattern: np.ndarray,
        *,
        time_min: np.ndarray,
        money_yuan: np.ndarray,
        walk: int,
        bus: int,
        vot_min_per_yuan: float,
    ) -> ChoiceCosts:
        """Choice tables with one copy of the modes per cost group (impaired x fare discount).

        Args:
            static_min: (modes, villages, facilities) round-trip generalised cost.
            owns: (patterns, modes) modes of each ownership pattern; ``pattern`` per resident.
            time_min, money_yuan: (modes, villages, facilities) one-way minutes and yuan.
            walk, bus: mode indices (bus -1 without transit).
            vot_min_per_yuan: minutes per yuan.
        """
        levels, level = np.unique(self.discount, return_inverse=True)
        code = self.impaired.astype(np.int64) * len(levels) + level
        groups, group = np.unique(code, return_inverse=True)
        n_modes, n_pat = static_min.shape[0], owns.shape[0]
        blocks = []
        for g in groups.tolist():
            impaired, d = g // len(levels), float(levels[g % len(levels)])
            block = static_min.copy()
            if impaired:
                block[walk] += 2 * time_min[walk] * (1 / self.spec.walk_speed_factor - 1)
            if bus >= 0 and d > 0:
                cut = 2 * money_yuan[bus] * vot_min_per_yuan * d  # inf where no journey: left as it is
                np.subtract(block[bus], cut, out=block[bus], where=np.isfinite(cut))
            blocks.append(block)
        n_groups = len(groups)
        choice_owns = np.zeros((n_groups * n_pat, n_groups * n_modes), dtype=bool)
        for k in range(n_groups):
            choice_owns[k * n_pat : (k + 1) * n_pat, k * n_modes : (k + 1) * n_modes] = owns
        return ChoiceCosts(
            static_min=np.concatenate(blocks),
            owns=choice_owns,
            pattern=group * n_pat + pattern,
            real_mode=np.tile(np.arange(n_modes), n_groups),
            bus_rows=np.arange(n_groups) * n_modes + bus if bus >= 0 else np.zeros(0, np.int64),
        )

    def walk_min(self, travel: np.ndarray, mode: np.ndarray, rows: np.ndarray, walk: int) -> np.ndarray:
        """One-way minutes with the impaired walking at their speed (``rows``: residents per trip)."""
        slow = (mode == walk) & self.impaired[rows]
        if not slow.any():
            return travel
        return np.where(slow, travel / self.spec.walk_speed_factor, travel)

    def pay(self, day: int, money: np.ndarray, fare: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Trip money after the riders' fare discounts (``fare``: the bus and ferry fares in it)."""
        waived = self.discount[rows] * fare
        if day >= 0:
            self.fare_waived_yuan += float(waived.sum())
        return money - waived

    def accompany(self, day: int, rows: np.ndarray, minutes: np.ndarray) -> None:
        """Count the companions' minutes of today's trips (``minutes``: each trip's there + wait + home)."""
        if day < 0:
            return
        with_companion = self.companion[rows]
        self.companion_trips += int(with_companion.sum())
        self.companion_min += float(minutes[with_companion].sum())
