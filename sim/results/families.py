"""Table columns of the calendar and families blocks: school days, boarding, escorts, households."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.calendar import pupil_school_days
from sim.model.escorts import clinic_escort_min, school_escort_min
from sim.model.households import TYPES
from sim.world.world import FACILITY_KINDS

if TYPE_CHECKING:
    from sim.model.calendar import RunCalendar
    from sim.model.model import AccessModel

__all__ = [
    "calendar_day_columns",
    "calendar_school_days",
    "households_frame",
    "resident_columns",
    "school_columns",
]


def calendar_school_days(model: AccessModel) -> np.ndarray:
    """Days each pupil attends with a calendar: public holidays closed; day pupils whose school is
    across water stay home on days without ferries (boarders are at school all week)."""
    sa, sc, cal = model.schools, model.loaded.scenario, model.calendar
    assert cal is not None
    if model.families is not None:
        crosses = model.families.travel.crosses & ~model.families.travel.boarding
    else:
        village = model.residents.village[sa.resident]
        crosses = cal.crossing[np.where(sa.school < 0, 0, sa.school), village] & (sa.school >= 0)
    return pupil_school_days(
        cal,
        days=model.day,
        start_weekday=model.start_weekday,
        school_days=sc.schools.days,
        holidays=sc.schools.holidays,
        crosses=crosses,
    )


def calendar_day_columns(cal: RunCalendar, days: np.ndarray) -> dict[str, Any]:
    """Columns the daily table gains with a calendar: date, no ferry, public holiday."""
    day = [int(d) for d in days]
    return {
        "date": pd.to_datetime([cal.date(d) for d in day]),
        "ferry_suspended": np.array([cal.is_suspended(d) for d in day], dtype=bool),
        "public_holiday": np.array([cal.is_holiday(d) for d in day], dtype=bool),
    }


def _school_escort(model: AccessModel, days: np.ndarray) -> np.ndarray:
    fam = model.families
    assert fam is not None
    sa = model.schools
    return school_escort_min(
        escort=fam.travel.escort,
        caregiver=fam.caregiver_of(sa.resident),
        school=np.where(sa.school < 0, 0, sa.school),
        one_way_min=np.nan_to_num(sa.time_min),
        days=days,
        legs=fam.spec.school_escort_legs,
    )


def school_columns(model: AccessModel, days: np.ndarray) -> dict[str, Any]:
    """Columns the schools table gains with families: boarding, escort, weekly trips and km,
    boarding cost, the escort minutes over the run (pupil's share of the caregiver's trips) and,
    with school buses, the line each pupil rides (empty: none)."""
    fam = model.families
    assert fam is not None
    travel, sa = fam.travel, model.schools
    return {
        "teaching_point": travel.teaching_point,
        "boarding": travel.boarding,
        "escort": travel.escort,
        "weekly_trips": travel.weekly_trips,
        "weekly_km": travel.weekly_trips * np.nan_to_num(sa.distance_km),
        "boarding_yuan_per_term": travel.boarding_yuan_per_term,
        "escort_min": _school_escort(model, days),
        **(
            {
                "school_bus": pd.Categorical.from_codes(
                    fam.bus_line, categories=pd.Index(list(fam.spec.school_buses))
                )
            }
            if fam.spec.school_buses
            else {}
        ),
    }


def _clinic_escorts(model: AccessModel, trips: dict[str, np.ndarray]) -> np.ndarray:
    """Per trip, the caregiver's minutes with an escorted child at the clinic (measured days)."""
    fam = model.families
    assert fam is not None
    w = model.world
    clinic = w.fac_completes[w.fac_kind == FACILITY_KINDS.index("clinic")].any(axis=0)
    minutes = trips["travel_min"] + trips["wait_min"] + trips["service_min"] + trips["return_min"]
    return clinic_escort_min(
        resident=trips["resident"],
        purpose=trips["service"].astype(np.int64),
        minutes=minutes,
        age=fam.age,
        below_age=fam.spec.escort_clinic_below_age,
        clinic_services=clinic,
    )


def resident_columns(
    model: AccessModel, trips: dict[str, np.ndarray], school_days: np.ndarray
) -> dict[str, np.ndarray]:
    """Columns the residents table gains with families: age, household, caregiver, and the
    caregiver's escort minutes (school and clinic) over the measured days."""
    fam = model.families
    assert fam is not None
    n = len(model.residents)
    out: dict[str, np.ndarray] = {"age": fam.age}
    hh = fam.households
    if hh is None:
        return out
    rows = np.arange(n)
    carer = fam.caregiver_of(rows)
    school = _school_escort(model, school_days)
    sa = model.schools
    by_school = np.bincount(np.maximum(carer[sa.resident], 0), weights=school, minlength=n)
    clinic = _clinic_escorts(model, trips)
    trip_carer = carer[trips["resident"]]
    by_clinic = np.bincount(
        np.maximum(trip_carer, 0), weights=np.where(trip_carer >= 0, clinic, 0.0), minlength=n
    )
    out.update(
        household=hh.household,
        caregiver=carer,
        escort_school_min=by_school,
        escort_clinic_min=by_clinic,
        escort_min=by_school + by_clinic,
    )
    return out


def households_frame(model: AccessModel) -> pd.DataFrame | None:
    """One row per household: village, type, members, children, caregiver (None without households)."""
    fam = model.families
    if fam is None or fam.households is None:
        return None
    hh, w = fam.households, model.world
    is_child = fam.age < 15
    children = np.bincount(hh.household[is_child], minlength=len(hh.kind))
    return pd.DataFrame(
        {
            "household": np.arange(len(hh.kind), dtype=np.int64),
            "village": pd.Categorical.from_codes(hh.village, categories=pd.Index(w.village_ids)),
            "type": pd.Categorical.from_codes(hh.kind, categories=pd.Index(list(TYPES))),
            "members": hh.size.astype(np.int16),
            "children": children.astype(np.int16),
            "caregiver": hh.caregiver,
            "left_behind": (hh.kind == TYPES.index("skipped")) & (children > 0),
        }
    )
