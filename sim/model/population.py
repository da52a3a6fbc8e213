"""Residents as columnar numpy state: one row per (sampled) resident."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.model.streams import Streams, name_key
from sim.scenario.schema import Mode
from sim.world.world import World

__all__ = ["Residents", "synthesise_residents"]


@dataclass
class Residents:
    """Columnar resident state owned by the model.

    Attributes:
        key: identity of the resident, (village, age band, k-th in that cell), as an integer;
            keys the resident's own draws (sampling, mode access, school attendance).
        village, band, unit, new_unit: indices into the world's lists.
        island: lives off the main island.
        owns: (modes, residents) bool, access to each mode (walk always).
        weight: residents each row stands for (1 / sample fraction).
        mem_fac, mem_wait: (groups, residents) last facility used per service group and the
            wait (min) expected there; -1 = no experience yet.
    """

    key: np.ndarray
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


def resident_keys(village: np.ndarray, band: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Integer identity of the k-th resident of a (village, age band) cell."""
    return (
        (village.astype(np.uint64) << np.uint64(40))
        | (band.astype(np.uint64) << np.uint64(32))
        | k.astype(np.uint64)
    )


def synthesise_residents(
    world: World, streams: Streams, *, modes: Mapping[str, Mode], sample_fraction: float
) -> Residents:
    """Build the resident table: counts per village and age band, mode access by band.

    Each resident keeps one identity (village, band, k) in every scenario; with a sample
    fraction f each village and age band keeps f of its residents (see :func:`_stratified_sample`).
    A resident has a mode when a uniform keyed by (mode name, identity) is below the band's ownership
    share. Scenarios with the same villages therefore have the same people with the same modes.
    """
    counts = world.village_pop
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    k = np.arange(len(cell)) - np.repeat(np.cumsum(flat) - flat, flat)
    village = (cell // counts.shape[1]).astype(np.int32)
    band = (cell % counts.shape[1]).astype(np.int8)
    key = resident_keys(village, band, k)
    if sample_fraction < 1.0:
        keep = _stratified_sample(streams, key, cell, k, flat, sample_fraction)
        key, village, band = key[keep], village[keep], band[keep]
    unit = world.village_unit[village]
    n = len(village)
    owns = np.ones((len(modes), n), dtype=bool)
    for m, (name, mode) in enumerate(modes.items()):
        if mode.ownership is not None:
            share = np.array([mode.ownership.get(b, 0.0) for b in world.age_bands])
            owns[m] = streams.uniform("population.owns", name_key(name), key) < share[band]
    weight = np.full(n, 1.0 / sample_fraction)
    return Residents(
        key=key,
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


def _stratified_sample(
    streams: Streams, key: np.ndarray, cell: np.ndarray, k: np.ndarray, counts: np.ndarray, fraction: float
) -> np.ndarray:
    """Which residents a sample keeps: in each (village, age band) cell of n residents,
    floor(f n + u) of them (u a uniform keyed by the cell, so f n on average), those with the
    lowest uniforms keyed by identity. Unlike keeping each resident with probability f, every
    village and age band then has f of its people (to within one), so the sample's demand at
    each facility carries no extra sampling noise, which queues, convex in the load, would turn
    into longer waits. The same cells give the same sample in every scenario.

    Args:
        key: identity of every resident.
        cell, k: cell index and position within the cell of every resident (sorted by cell).
        counts: residents per cell.
    """
    n_keep = np.floor(fraction * counts + streams.uniform("population.sample_cell", np.arange(counts.size)))
    u = streams.uniform("population.sample", key)
    order = np.lexsort((u, cell))  # by cell, then by uniform
    rank = np.empty(len(cell), dtype=np.int64)
    rank[order] = k
    return rank < n_keep[cell]
