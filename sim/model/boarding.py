"""School travel of families: village teaching points, boarding, escorted pupils, weekly trips."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim.model.schools import SchoolAssignment
from sim.scenario.families import Families

__all__ = ["PupilTravel", "pupil_travel", "teaching_point_pupils"]

#: One-way journeys of a boarder a school week: home on Friday, back on Sunday.
BOARDER_WEEKLY_TRIPS = 2


@dataclass(frozen=True)
class PupilTravel:
    """Per pupil (rows of the school assignment).

    Attributes:
        teaching_point: attends the teaching point of their own village.
        crosses: the school is across water (a ferry crossing each way).
        boarding: lives at school in the week.
        escort: a day pupil taken to school and fetched by their caregiver.
        weekly_trips: one-way journeys in a school week (0 when unplaced).
        boarding_yuan_per_term: what boarding costs the family per term (0 for day pupils).
    """

    teaching_point: np.ndarray
    crosses: np.ndarray
    boarding: np.ndarray
    escort: np.ndarray
    weekly_trips: np.ndarray
    boarding_yuan_per_term: np.ndarray


def teaching_point_pupils(
    spec: Families,
    sa: SchoolAssignment,
    *,
    levels: list[str],
    village: np.ndarray,
    age: np.ndarray,
    village_ids: list[str],
    n_facilities: int,
    walk_mode: int,
) -> tuple[SchoolAssignment, np.ndarray]:
    """Move the youngest pupils of the teaching-point level in villages with one to it.

    A teaching point is school code ``n_facilities + village index``; its pupils walk
    ``one_way_km`` in ``one_way_min`` at no cost. Their seats at the school they would have
    attended are left unused (the catchment is not re-run). Returns the new assignment and
    which pupils attend a teaching point.
    """
    tp = spec.teaching_points
    at_tp = np.zeros(len(sa.resident), dtype=bool)
    if tp is None:
        return sa, at_tp
    has_tp = np.isin(np.arange(len(village_ids)), [village_ids.index(v) for v in tp.villages])
    pupil_village = village[sa.resident]
    at_tp = (sa.level == levels.index(tp.level)) & (age[sa.resident] < tp.below_age) & has_tp[pupil_village]
    moved = replace(
        sa,
        school=np.where(at_tp, n_facilities + pupil_village, sa.school),
        mode=np.where(at_tp, walk_mode, sa.mode),
        time_min=np.where(at_tp, tp.one_way_min, sa.time_min),
        distance_km=np.where(at_tp, tp.one_way_km, sa.distance_km),
        money_yuan=np.where(at_tp, 0.0, sa.money_yuan),
    )
    return moved, at_tp


def pupil_travel(
    spec: Families,
    sa: SchoolAssignment,
    *,
    levels: list[str],
    age: np.ndarray,
    village: np.ndarray,
    crossing: np.ndarray,
    at_teaching_point: np.ndarray,
    school_days_per_week: int,
) -> PupilTravel:
    """Who boards and who is escorted, by the rules of their level.

    A pupil boards when their level boards for time and their one-way trip takes longer than
    ``board_over_min``, or boards across water and their school is on another landmass. Boarders
    travel home on Friday and back on Sunday; day pupils make two one-way trips per school day.
    Day pupils younger than their level's ``escort_below_age`` are escorted.

    Args:
        crossing: (facilities, villages) bool, the facility is across water from the village.
    """
    placed = sa.school >= 0
    real = placed & ~at_teaching_point
    n_fac = crossing.shape[0]
    school = np.where(real, sa.school, 0).clip(max=n_fac - 1)
    crosses = real & crossing[school, village[sa.resident]]
    over = np.full(len(levels), np.inf)
    water = np.zeros(len(levels), dtype=bool)
    escort_age = np.zeros(len(levels), dtype=np.int64)
    cost = np.zeros(len(levels))
    for i, name in enumerate(levels):
        rule = spec.levels.get(name)
        if rule is None:
            continue
        over[i] = np.inf if rule.board_over_min is None else rule.board_over_min
        water[i] = rule.board_across_water
        escort_age[i] = rule.escort_below_age
        cost[i] = rule.boarding_yuan_per_term
    lv = sa.level.astype(np.int64)
    boarding = real & ((sa.time_min > over[lv]) | (water[lv] & crosses))
    escort = placed & ~boarding & (age[sa.resident] < escort_age[lv])
    weekly = np.where(placed, np.where(boarding, BOARDER_WEEKLY_TRIPS, 2 * school_days_per_week), 0)
    return PupilTravel(
        teaching_point=at_teaching_point,
        crosses=crosses,
        boarding=boarding,
        escort=escort,
        weekly_trips=weekly.astype(np.int16),
        boarding_yuan_per_term=np.where(boarding, cost[lv], 0.0),
    )
