"""Families of a run: residents' ages, households and caregivers, and how pupils travel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.boarding import PupilTravel, pupil_travel, teaching_point_pupils
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
    """

    spec: Families
    age: np.ndarray
    households: HouseholdTable | None
    schools: SchoolAssignment
    travel: PupilTravel
    school_labels: list[str]

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
    walk_mode: int,
    school_days_per_week: int,
    streams: Streams,
    file: str,
) -> FamilyRun:
    """Draw ages, build households (if asked) and decide how each pupil travels."""
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
        walk_mode=walk_mode,
    )
    travel = pupil_travel(
        spec,
        assigned,
        levels=levels,
        age=age,
        village=residents.village,
        crossing=water_crossing(world),
        at_teaching_point=at_tp,
        school_days_per_week=school_days_per_week,
    )
    labels = list(world.fac_ids)
    if spec.teaching_points is not None:
        labels += [f"tp:{v}" for v in world.village_ids]
    return FamilyRun(
        spec=spec, age=age, households=households, schools=assigned, travel=travel, school_labels=labels
    )
