"""Scenario models of timetabled transit: bus and ferry lines, a GTFS source, routing options."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.fields import WEEKDAYS, Strict, Weekday, clock_to_min

__all__ = ["LINE_KINDS", "GtfsSource", "Headway", "Line", "NoWayHome", "Transit"]

LINE_KINDS = ("bus", "ferry")
_CLOCK = re.compile(r"^([0-2]\d):([0-5]\d)$")


def _check_clock(value: str) -> str:
    if not _CLOCK.match(value) or clock_to_min(value) > 27 * 60:
        raise ValueError(f"expected a time 'HH:MM' (up to 27:00 for runs after midnight), got '{value}'")
    return value


class Headway(Strict):
    """Departures every ``every_min`` minutes from ``first`` up to and including ``last``."""

    first: str
    last: str
    every_min: float = Field(gt=0)

    @field_validator("first", "last")
    @classmethod
    def _clock(cls, value: str) -> str:
        return _check_clock(value)

    @model_validator(mode="after")
    def _order(self) -> Headway:
        if clock_to_min(self.last) < clock_to_min(self.first):
            raise ValueError(f"last departure {self.last} must not be before the first {self.first}")
        return self


class Line(Strict):
    """A bus or ferry line: ordered stops, departures, running times, fare and capacity.

    A stop is a village id, ``seat:<unit>``, a facility id, or ``[x_km, y_km]`` (snapped to the
    nearest network node). Departures are from the first stop, as a list or as a headway. Running
    times are given stop to stop (``travel_min``) or derived from ``speed_kph`` over the road
    distance (straight line where no road joins the stops, as for a ferry crossing).
    """

    kind: Literal["bus", "ferry"] = "bus"
    zh: str | None = None
    en: str | None = None
    stops: tuple[str | tuple[float, float], ...] = Field(min_length=2)
    along_road: bool = Field(
        default=False,
        description="follow village (non-trunk) roads between listed stops, calling at every node on the way",
    )
    departures: tuple[str, ...] | None = None
    headway: Headway | None = None
    travel_min: tuple[float, ...] | None = Field(default=None, description="stop-to-stop running minutes")
    speed_kph: float | None = Field(default=None, gt=0, description="in-vehicle speed")
    dwell_min: float = Field(default=0.5, ge=0, description="stop time at each intermediate stop")
    fare_yuan: float = Field(default=0.0, ge=0, description="flat fare per boarding")
    capacity: int = Field(default=40, ge=1, description="passengers per vehicle")
    both_directions: bool = Field(
        default=True, description="mirror runs leave the last stop at the same times"
    )
    days: tuple[Weekday, ...] = WEEKDAYS
    source: str = "assumed"

    @field_validator("departures")
    @classmethod
    def _clocks(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for item in value or ():
            _check_clock(item)
        return value

    @field_validator("travel_min")
    @classmethod
    def _positive(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        for item in value or ():
            if item <= 0:
                raise ValueError(f"running times must be > 0 min, got {item}")
        return value

    @model_validator(mode="after")
    def _sources(self) -> Line:
        if (self.departures is None) == (self.headway is None):
            raise ValueError("give exactly one of 'departures' or 'headway'")
        if (self.travel_min is None) == (self.speed_kph is None):
            raise ValueError("give exactly one of 'travel_min' or 'speed_kph'")
        if self.travel_min is not None:
            if self.along_road:
                raise ValueError("'travel_min' needs the stops listed one by one (along_road: false)")
            if len(self.travel_min) != len(self.stops) - 1:
                raise ValueError(f"expected {len(self.stops) - 1} running times (one per pair of stops)")
        return self

    def departure_min(self) -> list[float]:
        """Departure minutes from the first stop (headway lines expanded)."""
        if self.departures is not None:
            return sorted(float(clock_to_min(d)) for d in self.departures)
        assert self.headway is not None
        first, last = clock_to_min(self.headway.first), clock_to_min(self.headway.last)
        out: list[float] = []
        t = float(first)
        while t <= last + 1e-9:
            out.append(round(t, 4))
            t += self.headway.every_min
        return out


class GtfsSource(Strict):
    """Take lines from a GTFS feed (zip or folder) as run on one service date."""

    path: str = Field(description="feed zip or folder, relative to the scenario file")
    date: str = Field(description="service date YYYYMMDD; its timetable stands for every simulated day")
    capacity: int = Field(default=40, ge=1, description="vehicle capacity (GTFS has none)")
    fare_yuan: float = Field(default=0.0, ge=0, description="fare of routes without fare_rules")
    source: str = "assumed"

    @field_validator("date")
    @classmethod
    def _date(cls, value: str) -> str:
        if not re.fullmatch(r"\d{8}", value):
            raise ValueError(f"expected a date YYYYMMDD, got '{value}'")
        return value


class NoWayHome(Strict):
    """What a resident pays who finds no bus or ferry home and has no other way (taxi, boat, a night away)."""

    extra_min: float = Field(default=90.0, ge=0, description="minutes the way home takes instead")
    cost_yuan: float = Field(default=150.0, ge=0)
    source: str = "assumed"


class Transit(Strict):
    """Timetabled lines and how residents reach them on foot."""

    lines: dict[str, Line] = Field(default_factory=dict)
    gtfs: GtfsSource | None = None
    walk_max_km: float = Field(default=2.0, gt=0, description="longest walk to, from or between stops")
    transfer_min: float = Field(default=3.0, ge=0, description="slack needed to change vehicles")
    slot_min: float = Field(default=5.0, gt=0, description="time step of the model's timetable tables")
    origin_latlon: tuple[float, float] = Field(
        default=(25.5, 119.75), description="lat, lon of x=y=0 km (GTFS coordinates)"
    )
    no_way_home: NoWayHome = NoWayHome()
    source: str = "assumed"
