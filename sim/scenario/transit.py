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

    first: str = Field(
        description=(
            "First departure from the first stop, 'HH:MM'. Source: given by the scenario (no default)"
        )
    )
    last: str = Field(
        description=(
            "Last departure from the first stop, 'HH:MM'. Source: given by the scenario (no default)"
        )
    )
    every_min: float = Field(
        gt=0, description="Minutes between departures, min. Source: given by the scenario (no default)"
    )

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

    kind: Literal["bus", "ferry"] = Field(default="bus", description="bus or ferry. Source: assumed")
    zh: str | None = Field(default=None, description="Chinese name; none: the id. Source: assumed")
    en: str | None = Field(default=None, description="English name; none: the id. Source: assumed")
    stops: tuple[str | tuple[float, float], ...] = Field(
        min_length=2,
        description=(
            "Ordered stops: village ids, 'seat:<unit>', facility ids or [x_km, y_km] (snapped to "
            "the nearest node). Source: given by the scenario (no default)"
        ),
    )
    along_road: bool = Field(
        default=False,
        description=(
            "Follow village (non-trunk) roads between listed stops, calling at every node on the "
            "way. Source: assumed"
        ),
    )
    departures: tuple[str, ...] | None = Field(
        default=None,
        description="Departure times 'HH:MM' from the first stop; give this or headway. Source: assumed",
    )
    headway: Headway | None = Field(
        default=None,
        description=("Regular departures (first, last, every_min); give this or departures. Source: assumed"),
    )
    travel_min: tuple[float, ...] | None = Field(
        default=None,
        description=(
            "Stop-to-stop running times, min; none: from speed_kph and the road distance. Source: assumed"
        ),
    )
    speed_kph: float | None = Field(
        default=None,
        gt=0,
        description=(
            "In-vehicle speed over the road (ferries: straight line) distance, km/h. Source: assumed"
        ),
    )
    dwell_min: float = Field(
        default=0.5, ge=0, description="Stop time at each intermediate stop, min. Source: assumed"
    )
    fare_yuan: float = Field(default=0.0, ge=0, description="Flat fare per boarding, yuan. Source: assumed")
    capacity: int = Field(default=40, ge=1, description="Passengers per vehicle. Source: assumed")
    both_directions: bool = Field(
        default=True, description="Mirror runs leave the last stop at the same times. Source: assumed"
    )
    days: tuple[Weekday, ...] = Field(default=WEEKDAYS, description="Weekdays the line runs. Source: assumed")
    source: str = Field(
        default="assumed",
        description=(
            "For this line, where this entry's values come from: a publication (author, title, "
            "year) or 'assumed'. Source: assumed"
        ),
    )

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

    path: str = Field(
        description=(
            "Feed zip or folder, relative to the scenario file. Source: given by the scenario (no default)"
        )
    )
    date: str = Field(
        description=(
            "Service date YYYYMMDD; its timetable stands for every simulated day. Source: given "
            "by the scenario (no default)"
        )
    )
    capacity: int = Field(
        default=40, ge=1, description="Vehicle capacity, passengers (GTFS has none). Source: assumed"
    )
    fare_yuan: float = Field(
        default=0.0, ge=0, description="Fare of routes without fare_rules, yuan. Source: assumed"
    )
    source: str = Field(
        default="assumed",
        description=(
            "For the feed, where this entry's values come from: a publication (author, title, "
            "year) or 'assumed'. Source: assumed"
        ),
    )

    @field_validator("date")
    @classmethod
    def _date(cls, value: str) -> str:
        if not re.fullmatch(r"\d{8}", value):
            raise ValueError(f"expected a date YYYYMMDD, got '{value}'")
        return value


class NoWayHome(Strict):
    """What a resident pays who finds no bus or ferry home and has no other way (taxi, boat, a night away)."""

    extra_min: float = Field(
        default=90.0,
        ge=0,
        description=(
            "Minutes the way home takes when no bus, ferry or walk gets there (hired car or boat,"
            " or a night away), min. Source: assumed"
        ),
    )
    cost_yuan: float = Field(default=150.0, ge=0, description="Money it costs, yuan. Source: assumed")
    source: str = Field(
        default="assumed",
        description=(
            "For these figures, where this entry's values come from: a publication (author, "
            "title, year) or 'assumed'. Source: assumed"
        ),
    )


class CapacityRule(Strict):
    """Vehicle capacity enforced: riders who do not fit wait for the next run (sim.transit.capacity)."""

    max_wait_min: float = Field(
        default=30.0,
        gt=0,
        le=1440,
        description=(
            "Longest extra wait at the first stop after being left behind; a rider whose next run "
            "would leave later takes their fastest own road mode instead, min. Source: assumed"
        ),
    )
    source: str = Field(
        default="assumed",
        description="Where these values come from: a publication (author, title, year) or 'assumed'. "
        "Source: assumed",
    )


class Transit(Strict):
    """Timetabled lines and how residents reach them on foot."""

    @property
    def runs(self) -> bool:
        """Whether any vehicle can run: lines given or a GTFS feed (without either, the block has no
        effect and the model runs as without ``transit:``)."""
        return bool(self.lines) or self.gtfs is not None

    lines: dict[str, Line] = Field(
        default_factory=dict,
        description=(
            "Bus and ferry lines by id (with no lines and no gtfs feed nothing runs: the transit block "
            "has no effect and validate warns). Source: assumed"
        ),
    )
    gtfs: GtfsSource | None = Field(
        default=None,
        description="A GTFS feed whose trips on one date become lines; none: no feed. Source: assumed",
    )
    walk_max_km: float = Field(
        default=2.0, gt=0, description="Longest walk to, from or between stops, km. Source: assumed"
    )
    transfer_min: float = Field(
        default=3.0, ge=0, description="Slack needed to change vehicles, min. Source: assumed"
    )
    slot_min: float = Field(
        default=5.0, gt=0, description="Time step of the model's timetable tables, min. Source: assumed"
    )
    origin_latlon: tuple[float, float] = Field(
        default=(25.5, 119.75),
        description=(
            "Latitude and longitude of x = y = 0 km (GTFS and GIS coordinates of a scenario "
            "without crs), degrees. Source: Pingtan County seat area, 25°29'55\"N 119°47'25\"E "
            "(Wikipedia, 'Pingtan County'), rounded"
        ),
    )
    no_way_home: NoWayHome = Field(
        default=NoWayHome(), description="What a trip home costs when no journey gets there. Source: assumed"
    )
    capacity: CapacityRule | None = Field(
        default=None,
        description=(
            "Enforce each line's capacity: riders who do not fit wait for the next run of any line "
            "serving their leg (none: everyone boards the run planned and overflow is only counted). "
            "Source: assumed"
        ),
    )
    source: str = Field(
        default="assumed",
        description=(
            "For the transit block, where this entry's values come from: a publication (author, "
            "title, year) or 'assumed'. Source: assumed"
        ),
    )
