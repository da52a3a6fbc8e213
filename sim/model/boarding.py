"""School travel of families: village teaching points, boarding, escorted pupils, weekly trips."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim.errors import ScenarioError
from sim.model.schools import SchoolAssignment
from sim.model.streams import Streams
from sim.scenario.families import Families

__all__ = ["PupilTravel", "pupil_travel", "school_bus_pupils", "teaching_point_pupils"]

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
    bus_rider: np.ndarray,
    school_days_per_week: int,
) -> PupilTravel:
    """Who boards and who is escorted, by the rules of their level.

    A pupil boards when their level boards for time and their one-way trip takes longer than
    ``board_over_min``, or boards across water and their school is on another landmass. Boarders
    travel home on Friday and back on Sunday; day pupils make two one-way trips per school day.
    Day pupils younger than their level's ``escort_below_age`` are escorted, unless they ride a
    school bus (its stop is in their village: the walk there is not counted).

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
    escort = placed & ~boarding & ~bus_rider & (age[sa.resident] < escort_age[lv])
    weekly = np.where(placed, np.where(boarding, BOARDER_WEEKLY_TRIPS, 2 * school_days_per_week), 0)
    return PupilTravel(
        teaching_point=at_teaching_point,
        crosses=crosses,
        boarding=boarding,
        escort=escort,
        weekly_trips=weekly.astype(np.int16),
        boarding_yuan_per_term=np.where(boarding, cost[lv], 0.0),
    )


def school_bus_pupils(
    spec: Families,
    sa: SchoolAssignment,
    *,
    village: np.ndarray,
    key: np.ndarray,
    world_fac_ids: list[str],
    village_ids: list[str],
    road_km: np.ndarray,
    crossing: np.ndarray,
    bus_mode: int,
    streams: Streams,
    file: str,
) -> tuple[SchoolAssignment, np.ndarray]:
    """Put pupils on the school buses: the pupils of a line's school living at its stops, up to its
    capacity (those with the lowest uniforms keyed by identity). A rider's one-way time is the road
    km from their stop to the school at the line's speed plus ``dwell_min`` per later stop; they
    pay the line's fare.

    Args:
        road_km: (villages, facilities) road km (shortest on foot, the road the bus drives).
        crossing: (facilities, villages) bool, across water.
        bus_mode: mode code of the school bus in the schools table.

    Returns:
        the new assignment and, per pupil, the line index it rides (-1: none).

    Raises:
        ScenarioError: a line whose school is closed or across water from a stop.
    """
    line = np.full(len(sa.resident), -1, dtype=np.int64)
    if not spec.school_buses:
        return sa, line
    time, km, money, mode = sa.time_min.copy(), sa.distance_km.copy(), sa.money_yuan.copy(), sa.mode.copy()
    pupil_village = village[sa.resident]
    u = streams.uniform("families.bus_seat", key[sa.resident])
    for i, (name, bus) in enumerate(spec.school_buses.items()):
        if bus.school not in world_fac_ids:
            raise ScenarioError(
                file,
                f"families.school_buses.{name}.school",
                f"expected an open school, '{bus.school}' is closed",
            )
        school = world_fac_ids.index(bus.school)
        stops = np.array([village_ids.index(v) for v in bus.stops], dtype=np.int64)
        if crossing[school, stops].any():
            raise ScenarioError(
                file,
                f"families.school_buses.{name}.stops",
                f"expected stops on the same island as '{bus.school}'",
            )
        order = np.full(len(village_ids), -1, dtype=np.int64)
        order[stops] = np.arange(len(stops))
        want = np.flatnonzero((sa.school == school) & (order[pupil_village] >= 0) & (line < 0))
        riders = want[np.argsort(u[want], kind="stable")[: bus.capacity]]
        stop = order[pupil_village[riders]]
        line[riders] = i
        km[riders] = road_km[pupil_village[riders], school]
        time[riders] = km[riders] / bus.speed_kph * 60.0 + bus.dwell_min * (len(stops) - 1 - stop)
        money[riders] = bus.fare_yuan
        mode[riders] = bus_mode
    return replace(sa, mode=mode, time_min=time, distance_km=km, money_yuan=money), line
