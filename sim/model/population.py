"""Residents as columnar numpy state: one row per (sampled) resident."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.world.world import World

__all__ = ["Residents", "synthesise_residents"]


@dataclass
class Residents:
    """Columnar resident state owned by the model.

    Attributes:
        village, band, unit, new_unit: indices into the world's lists.
        island: lives off the main island.
        owns: (modes, residents) bool, access to each mode (walk always).
        weight: residents each row stands for (1 / sample fraction).
        mem_fac, mem_wait: (groups, residents) last facility used per service group and the
            wait (min) expected there; -1 = no experience yet.
    """

    village: np.ndarray
    band: np.ndarray
    unit: np.ndarray
    new_unit: np.ndarray
    island: np.ndarray
    owns: np.ndarray
    weight: np.ndarray
    mem_fac: np.ndarray
    mem_wait: np.ndarray

    def __len__(self) -> int:
        return len(self.village)


def synthesise_residents(world: World, rng: np.random.Generator, *, sample_fraction: float) -> Residents:
    """Draw the resident table: counts per village and age band, mode access by band."""
    sc = world.loaded.scenario
    counts = world.village_pop
    sampled = rng.binomial(counts, sample_fraction) if sample_fraction < 1.0 else counts
    flat = sampled.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    village = (cell // counts.shape[1]).astype(np.int32)
    band = (cell % counts.shape[1]).astype(np.int8)
    unit = world.village_unit[village]
    n = len(village)
    owns = np.ones((len(sc.modes), n), dtype=bool)
    for m, mode in enumerate(sc.modes.values()):
        if mode.ownership is not None:
            share = np.array([mode.ownership.get(b, 0.0) for b in world.age_bands])
            owns[m] = rng.random(n) < share[band]
    weight = np.full(n, 1.0 / sample_fraction)
    return Residents(
        village=village,
        band=band,
        unit=unit,
        new_unit=world.unit_new[unit],
        island=world.unit_island[unit],
        owns=owns,
        weight=weight,
        mem_fac=np.full((len(world.groups), n), -1, dtype=np.int32),
        mem_wait=np.zeros((len(world.groups), n), dtype=np.float32),
    )
