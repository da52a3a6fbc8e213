"""Reference checks of a scenario's calendar and family blocks (dates agree, names resolve)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sim.errors import ScenarioError
from sim.scenario.fields import WEEKDAYS

if TYPE_CHECKING:
    from sim.scenario.families import Families
    from sim.scenario.load import LoadedScenario

__all__ = ["check_calendar", "check_families"]


def check_calendar(loaded: LoadedScenario) -> None:
    """Raise ScenarioError when the calendar's start date falls on another weekday than the run's
    first day or names a village the scenario lacks."""
    sc = loaded.scenario
    cal = sc.calendar
    if cal is None:
        return

    def fail(field: str, expected: str) -> None:
        raise ScenarioError(loaded.origin(field), field, expected)

    weekday = WEEKDAYS[cal.start_date.weekday()]
    if weekday != sc.simulation.start_weekday:
        fail(
            "calendar.start_date",
            f"expected a date on simulation.start_weekday ({sc.simulation.start_weekday}), "
            f"{cal.start_date.isoformat()} is a {weekday}",
        )
    if cal.public_holidays or cal.spring_festival is not None:
        import chinese_calendar

        years = sorted({d.year for d in chinese_calendar.constants.holidays})
        first = cal.start_date - dt.timedelta(days=sc.simulation.warmup_days)
        last = cal.start_date + dt.timedelta(days=sc.simulation.days - 1)
        if first.year < years[0] or last.year > years[-1]:
            fail(
                "calendar.start_date",
                f"expected simulated dates within {years[0]}-{years[-1]} (the public holidays the "
                f"chinese-calendar package knows), the run spans {first.isoformat()} to {last.isoformat()}",
            )
    villages = {v.id for v in sc.villages}
    if cal.spring_festival is not None:
        for name in cal.spring_festival.by_village:
            if name not in villages:
                fail(f"calendar.spring_festival.by_village.{name}", f"expected a village id, got '{name}'")


def check_families(loaded: LoadedScenario) -> None:
    """Raise ScenarioError when the families block names a school level, school or village the
    scenario lacks, or asks for escorts without households (escorts need a caregiver)."""
    sc = loaded.scenario
    fam = sc.families
    if fam is None:
        return

    def fail(field: str, expected: str) -> None:
        raise ScenarioError(loaded.origin(field), field, expected)

    levels = list(sc.schools.levels)
    named_levels = [(f"families.levels.{name}", name) for name in fam.levels]
    if fam.teaching_points is not None:
        named_levels.append(("families.teaching_points.level", fam.teaching_points.level))
    for field, name in named_levels:
        if name not in levels:
            fail(field, f"expected one of the school levels {levels}, got '{name}'")
    escorts = fam.escort_clinic_below_age > 0 or any(r.escort_below_age > 0 for r in fam.levels.values())
    if escorts and fam.households is None:
        fail("families.households", "expected a households block: escorts are made by each child's caregiver")
    for field, name in _named_villages(fam):
        if name not in {v.id for v in sc.villages}:
            fail(field, f"expected a village id, got '{name}'")
    for name, bus in fam.school_buses.items():
        facility = sc.facilities.get(bus.school)
        if facility is None or facility.kind != "school":
            fail(
                f"families.school_buses.{name}.school", f"expected a school's facility id, got '{bus.school}'"
            )


def _named_villages(fam: Families) -> list[tuple[str, str]]:
    """(field, village id) of every village the families block names."""
    out = [
        (f"families.households.by_village.{v}", v)
        for v in (fam.households.by_village if fam.households else ())
    ]
    if fam.teaching_points is not None:
        out += [
            (f"families.teaching_points.villages[{i}]", v) for i, v in enumerate(fam.teaching_points.villages)
        ]
    for name, bus in fam.school_buses.items():
        out += [(f"families.school_buses.{name}.stops[{i}]", v) for i, v in enumerate(bus.stops)]
    return out
