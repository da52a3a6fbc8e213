"""Scenario models of the calendar: dates, ferry suspensions, public holidays, Spring Festival returns."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from sim.scenario.fields import Strict

__all__ = ["PINGTAN_WIND_DAYS", "Calendar", "FerryDraw", "FerrySuspension", "SpringFestival", "Typhoons"]

#: Expected ferry-suspension (force-8 wind) days per calendar month at the exposed east coast of
#: Pingtan. Nov-Feb: midpoint of the recorded 15.9-19.2 days a month; Jul-Aug: midpoint of
#: 4.4-4.8; the six other months share the rest of 东澳's 140.2 days a year evenly (assumed split).
PINGTAN_WIND_DAYS: dict[int, float] = {
    1: 17.55,
    2: 17.55,
    3: 10.13,
    4: 10.13,
    5: 10.13,
    6: 10.13,
    7: 4.6,
    8: 4.6,
    9: 10.13,
    10: 10.13,
    11: 17.55,
    12: 17.55,
}
_WIND_SOURCE = (
    "Source: Pingtan county land records (平潭县土地志): force-8 winds on 140.2 days a year at 东澳, "
    "15.9-19.2 days a month November-February, 4.4-4.8 in July-August; the split of the other months "
    "and reading a force-8 day as a day without ferries are assumed"
)


_MONTH_DAYS = {m: 28 if m == 2 else 30 if m in (4, 6, 9, 11) else 31 for m in range(1, 13)}


def _months(value: dict[int, float]) -> dict[int, float]:
    for month, days in value.items():
        if not 1 <= month <= 12:
            raise ValueError(f"expected months 1..12, got {month}")
        most = _MONTH_DAYS[month]
        if not 0 <= days <= most:
            raise ValueError(f"days of month {month} must be within 0..{most}, got {days}")
    return value


class Typhoons(Strict):
    """Typhoon closures: episodes of several days without ferries, on top of the windy days."""

    per_year: float = Field(
        default=5.8,
        ge=0,
        le=50,
        description="typhoons affecting the county per year. Source: Pingtan county land records "
        "(平潭县土地志), 5.8 typhoons a year 1956-87",
    )
    closure_days: int = Field(
        default=3,
        ge=1,
        le=30,
        description="days ferries stay in port per typhoon (warning, passage, swell). Source: assumed",
    )
    month_share: dict[int, float] = Field(
        default_factory=lambda: {6: 0.1, 7: 0.3, 8: 0.3, 9: 0.25, 10: 0.05},
        description="share of typhoons starting in each month (sums to 1). Source: assumed "
        "(western Pacific typhoon season, peak July-September)",
    )

    @field_validator("month_share")
    @classmethod
    def _share(cls, value: dict[int, float]) -> dict[int, float]:
        for month, share in value.items():
            if not 1 <= month <= 12 or not 0 <= share <= 1:
                raise ValueError(f"expected month 1..12 with a share in [0, 1], got {month}: {share}")
        if value and abs(sum(value.values()) - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1, got {sum(value.values()):.6f}")
        return value


class FerryDraw(Strict):
    """Suspension days drawn day by day from monthly expected counts, plus typhoon episodes."""

    monthly_days: dict[int, float] = Field(
        default_factory=lambda: dict(PINGTAN_WIND_DAYS),
        description="expected days without ferries per calendar month (1..12; months left out: 0), "
        f"days. {_WIND_SOURCE}",
    )
    typhoons: Typhoons | None = Field(
        default_factory=Typhoons,
        description="typhoon closures on top of the windy days (null: none). Source: see Typhoons",
    )

    @field_validator("monthly_days")
    @classmethod
    def _monthly(cls, value: dict[int, float]) -> dict[int, float]:
        return _months(value)


class FerrySuspension(Strict):
    """Days on which no ferry sails: listed, drawn, or both."""

    dates: tuple[dt.date, ...] = Field(
        default=(),
        description="dates without ferries (YYYY-MM-DD), e.g. from a maritime notice. Source: user",
    )
    draw: FerryDraw | None = Field(
        default=None,
        description="draw further days from monthly probabilities (null: listed dates only). "
        "Source: see its fields",
    )


class SpringFestival(Strict):
    """Registered residents who work away most of the year and come home for the Spring Festival.

    A resident is registered-but-absent when a uniform keyed by their identity is below the share
    of their village. Absent residents raise no errands except in the window around the festival.
    """

    absent_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of each village's population (read as the registered population) away "
        "outside the festival. Source: assumed (2020 census: 376 million in the floating population)",
    )
    by_village: dict[str, float] = Field(
        default_factory=dict,
        description="absent share of named villages (overrides absent_share). Source: user",
    )
    days_before: int = Field(
        default=10,
        ge=0,
        le=60,
        description="days before the first day of the Spring Festival holiday that migrants are home. "
        "Source: assumed (the Spring Festival travel season starts about 15 days before)",
    )
    days_after: int = Field(
        default=15,
        ge=0,
        le=60,
        description="days from the first day of the holiday that migrants stay. Source: assumed "
        "(the travel season ends about 25 days after)",
    )

    @field_validator("by_village")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        for village, share in value.items():
            if not 0 <= share <= 1:
                raise ValueError(f"share of village '{village}' must be within [0, 1], got {share}")
        return value


class Calendar(Strict):
    """Dates of the simulated days: ferry suspensions, public holidays, Spring Festival returns.

    Day 0 is ``start_date``; warm-up day -k is k days before it.
    """

    start_date: dt.date = Field(
        description="date of day 0 (its weekday must be simulation.start_weekday). Source: user"
    )
    ferry: FerrySuspension | None = Field(
        default=None, description="days without ferries (null: none). Source: see its fields"
    )
    public_holidays: bool = Field(
        default=False,
        description="close facilities of holiday_closes and schools on China's statutory public holidays "
        "(chinese-calendar package, State Council holiday notices). Source: State Council notices",
    )
    holiday_closes: tuple[Literal["clinic", "hall", "service_point"], ...] = Field(
        default=("hall", "service_point"),
        description="facility kinds closed on public holidays. Source: assumed (government service halls "
        "close on statutory holidays; health centres keep emergency and outpatient service)",
    )
    spring_festival: SpringFestival | None = Field(
        default=None,
        description="Spring Festival return of registered-but-absent residents (null: none). "
        "Source: see its fields",
    )
