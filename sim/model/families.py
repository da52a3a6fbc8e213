"""Families of a run: residents' ages, households and caregivers, and how pupils travel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.boarding import PupilTravel, pupil_travel, school_bus_pupils, teaching_point_pupils
from sim.model.calendar import water_crossing
from sim.model.households import HouseholdTable, age_classes, band_ages, build_households, draw_ages
from sim.model.population import Residents
from sim.model.schools import SchoolAssignment
from sim.model.streams import Streams
from sim.scenario.families import Families
from sim.world.world import World

__all__ = ["FamilyRun", "build_families"]


@dataclass(frozen=True)
class FamilyRun:
    """Ages, households and pupils' travel of a run with a ``families`` block.

    Attributes:
        spec: the block.
        age: per resident, age in years (uniform within the band, keyed by identity).
        households: households and caregivers (None without ``households``).
        schools: the school assignment with teaching points applied.
        travel: per pupil, boarding, escort and weekly trips.
        school_labels: name of each school code (facilities, then ``tp:<village>``).
        mode_labels: name of each mode code of the schools table (the travel modes, then
            ``school_bus`` with school buses).
        bus_line: per pupil, the school bus line ridden (index into ``spec.school_buses``; -1: none).
    """

    spec: Families
    age: np.ndarray
    households: HouseholdTable | None
    schools: SchoolAssignment
    travel: PupilTravel
    school_labels: list[str]
    mode_labels: list[str]
    bus_line: np.ndarray

    def caregiver_of(self, resident: np.ndarray) -> np.ndarray:
        """Caregiver row of each resident's household (-1: none, or no households)."""
        if self.households is None:
            return np.full(len(resident), -1, dtype=np.int64)
        return self.households.caregiver[self.households.household[resident]]


def build_families(
    spec: Families,
    *,
    world: World,
    residents: Residents,
    schools: SchoolAssignment,
    levels: list[str],
    modes: list[str],
    road_km: np.ndarray,
    school_days_per_week: int,
    streams: Streams,
    file: str,
) -> FamilyRun:
    """Draw ages, build households (if asked) and decide how each pupil travels.

    Args:
        modes: the travel modes (the schools table's mode codes).
        road_km: (villages, facilities) road km, the school buses' road.
    """
    ages = band_ages(world.age_bands, file)
    age = draw_ages(ages, residents.band, residents.key, streams)
    households = None
    if spec.households is not None:
        households = build_households(
            spec.households,
            village=residents.village,
            klass=age_classes(ages)[residents.band],
            age=age,
            key=residents.key,
            n_villages=len(world.village_ids),
            village_ids=world.village_ids,
            streams=streams,
            file=file,
        )
    assigned, at_tp = teaching_point_pupils(
        spec,
        schools,
        levels=levels,
        village=residents.village,
        age=age,
        village_ids=world.village_ids,
        n_facilities=len(world.fac_ids),
        walk_mode=modes.index("walk"),
    )
    crossing = water_crossing(world)
    assigned, bus_line = school_bus_pupils(
        spec,
        assigned,
        village=residents.village,
        key=residents.key,
        world_fac_ids=world.fac_ids,
        village_ids=world.village_ids,
        road_km=road_km,
        crossing=crossing,
        bus_mode=len(modes),
        streams=streams,
        file=file,
    )
    travel = pupil_travel(
        spec,
        assigned,
        levels=levels,
        age=age,
        village=residents.village,
        crossing=crossing,
        at_teaching_point=at_tp,
        bus_rider=bus_line >= 0,
        school_days_per_week=school_days_per_week,
    )
    labels = list(world.fac_ids)
    if spec.teaching_points is not None:
        labels += [f"tp:{v}" for v in world.village_ids]
    return FamilyRun(
        spec=spec,
        age=age,
        households=households,
        schools=assigned,
        travel=travel,
        school_labels=labels,
        mode_labels=[*modes, "school_bus"] if spec.school_buses else list(modes),
        bus_line=bus_line,
    )
