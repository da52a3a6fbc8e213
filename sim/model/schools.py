"""School catchment: assign each pupil to the nearest school of their level with a free seat."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.model.population import Residents
from sim.model.streams import Streams, name_key
from sim.routing.tables import TravelTables
from sim.scenario.schema import SchoolLevel
from sim.world.world import World

__all__ = ["SchoolAssignment", "assign_schools"]


@dataclass(frozen=True)
class SchoolAssignment:
    """One row per pupil: resident row, level, school (-1 = no seat left), mode, one-way values."""

    resident: np.ndarray
    level: np.ndarray  # index into schools.levels
    school: np.ndarray
    mode: np.ndarray
    time_min: np.ndarray
    distance_km: np.ndarray
    money_yuan: np.ndarray


def assign_schools(
    world: World,
    levels: Mapping[str, SchoolLevel],
    residents: Residents,
    tables: TravelTables,
    streams: Streams,
) -> SchoolAssignment:
    """Greedy catchment: village-school pairs in order of road distance fill seats.

    A resident attends a level when a uniform keyed by (level, resident) is below the band's
    attendance share (the same pupils in every scenario). Within a village the pupils go to the
    nearest school with seats left; the trip mode is the fastest mode each pupil has access to.
    """
    walk = tables.modes.index("walk")
    parts: list[tuple[np.ndarray, ...]] = []
    for li, (level, spec) in enumerate(levels.items()):
        share = np.array([spec.attendance.get(b, 0.0) for b in world.age_bands])
        pupils = np.flatnonzero(
            streams.uniform("schools.attend", name_key(level), residents.key) < share[residents.band]
        )
        pupils = pupils[np.argsort(residents.village[pupils], kind="stable")]
        schools = np.array([i for i, lv in enumerate(world.fac_level) if lv == level], dtype=np.int64)
        seats = (
            world.fac_seats[schools].astype(float) / residents.weight[0] if len(residents) else np.zeros(0)
        )
        seats = np.floor(seats + 1e-9)
        assigned = np.full(len(pupils), -1, dtype=np.int64)
        if len(schools):
            villages, first, count = np.unique(
                residents.village[pupils], return_index=True, return_counts=True
            )
            dist = tables.distance_km[walk][np.ix_(villages, schools)]
            order = np.argsort(dist, axis=None, kind="stable")
            left = dict(zip(range(len(villages)), count.tolist(), strict=True))
            filled = np.zeros(len(villages), dtype=np.int64)
            for flat in order.tolist():
                vi, si = divmod(flat, len(schools))
                if left[vi] == 0 or seats[si] <= 0 or not np.isfinite(dist[vi, si]):
                    continue
                take = int(min(left[vi], seats[si]))
                lo = first[vi] + filled[vi]
                assigned[lo : lo + take] = schools[si]
                filled[vi] += take
                left[vi] -= take
                seats[si] -= take
        parts.append((pupils, np.full(len(pupils), li), assigned))
    resident = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    level_idx = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    school = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    village = residents.village[resident]
    safe = np.where(school < 0, 0, school)
    times = tables.time_min[:, village, safe]  # (modes, pupils)
    times = np.where(residents.owns[:, resident], times, np.inf)
    mode = np.argmin(times, axis=0)
    pick = (mode, village, safe)
    placed = school >= 0
    return SchoolAssignment(
        resident=resident,
        level=level_idx,
        school=school,
        mode=mode,
        time_min=np.where(placed, tables.time_min[pick], np.nan),
        distance_km=np.where(placed, tables.distance_km[pick], np.nan),
        money_yuan=np.where(placed, tables.money_yuan[pick], np.nan),
    )
