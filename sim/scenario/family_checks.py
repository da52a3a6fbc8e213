"""Reference checks of a scenario's calendar and family blocks (dates agree, names resolve)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.errors import ScenarioError
from sim.scenario.fields import WEEKDAYS

if TYPE_CHECKING:
    from sim.scenario.load import LoadedScenario

__all__ = ["check_calendar"]


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
    villages = {v.id for v in sc.villages}
    if cal.spring_festival is not None:
        for name in cal.spring_festival.by_village:
            if name not in villages:
                fail(f"calendar.spring_festival.by_village.{name}", f"expected a village id, got '{name}'")
