"""Typed, frozen description of a scenario (pydantic models, unknown fields refused)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.argtypes import MAX_DAYS, MAX_SEED
from sim.scenario.calendar import Calendar
from sim.scenario.families import Families
from sim.scenario.fields import WEEKDAYS, ServiceTime, Strict, Weekday, clock_to_min
from sim.scenario.elderly import Elderly
from sim.scenario.health import HealthTiers
from sim.scenario.queue_behaviour import Balking, DayChoice, Reneging
from sim.scenario.transit import Transit

__all__ = [
    "WEEKDAYS",
    "Appointments",
    "Behaviour",
    "DayHours",
    "Facility",
    "FacilityChange",
    "FacilityDefaults",
    "Ferry",
    "Hours",
    "Levers",
    "Merger",
    "Mobile",
    "MobileStop",
    "Mode",
    "NewUnit",
    "OnlineService",
    "Proxy",
    "RoadGenerate",
    "Roads",
    "Scenario",
    "SchoolLevel",
    "Schools",
    "Service",
    "ServiceTime",
    "Simulation",
    "Strict",
    "Unit",
    "Village",
    "clock_to_min",
]


# Upper bounds: far above any real county, low enough that memory is not exhausted first.
#: Residents of one age band in one village.
MAX_BAND_POPULATION = 10_000_000
#: Windows or doctors of one facility.
MAX_SERVERS = 10_000
#: Places of one school.
MAX_SEATS = 1_000_000
#: Visits per person-year of one service (one a day).
MAX_RATE = 365.0
#: Logit scale, 1/min.
MAX_LOGIT_SCALE = 10.0
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class Unit(Strict):
    """An administrative unit (township) as it exists before any merger."""

    zh: str
    en: str
    seat: tuple[float, float] = Field(description="seat location, km (x east, y north)")
    island: str = Field(description="landmass the unit lies on")
    area_km2: float | None = Field(default=None, gt=0)
    source: str = "assumed"


class Village(Strict):
    """A population point: a village (or urban neighbourhood) with residents by age band."""

    id: str
    unit: str
    x_km: float
    y_km: float
    population: dict[str, int] = Field(description="residents by age band")
    source: str = "assumed"
    name: str | None = Field(default=None, description="Village name as given (text). Source: assumed")
    zh: str | None = Field(default=None, description="Chinese name (text). Source: assumed")
    en: str | None = Field(default=None, description="English name (text). Source: assumed")

    @field_validator("population")
    @classmethod
    def _non_negative(cls, value: dict[str, int]) -> dict[str, int]:
        for band, count in value.items():
            if not 0 <= count <= MAX_BAND_POPULATION:
                raise ValueError(
                    f"population of band '{band}' must be 0..{MAX_BAND_POPULATION:,}, got {count}"
                )
        return value


class RoadGenerate(Strict):
    """Parameters of a synthetic road network (Delaunay triangulation per island)."""

    detour_factor: float = Field(default=1.4, ge=1.0, description="road length / straight line")
    max_rural_edge_km: float = Field(default=8.0, gt=0)
    max_water_km: float = Field(
        default=0.3,
        ge=0,
        description="with an outline: km of sea a straight road may cross (short bridges, causeways); "
        "longer crossings are dropped or follow the land",
    )
    source: str = "assumed"


class Ferry(Strict):
    """A fixed ferry edge between two nodes (village ids or ``seat:<unit>``)."""

    from_node: str
    to_node: str
    crossing_min: float = Field(gt=0)
    wait_min: float = Field(ge=0, description="mean wait at the pier, min")
    fare_yuan: float = Field(default=0.0, ge=0)
    length_km: float | None = Field(default=None, ge=0, description="sailing km (default: straight line)")
    source: str = "assumed"


class Roads(Strict):
    """The road network: generated from parameters or read from a file beside the scenario."""

    generate: RoadGenerate | None = None
    file: str | None = Field(
        default=None, description="GraphML or edge CSV (u,v,length_km,road_class[,oneway,time_min,fare_yuan])"
    )
    nodes: str | None = Field(default=None, description="CSV of road junctions id,x_km,y_km (not villages)")
    ferries: dict[str, Ferry] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> Roads:
        if (self.generate is None) == (self.file is None):
            raise ValueError("give exactly one of 'generate' or 'file'")
        return self


class Mode(Strict):
    """A travel mode (walk, e-bike, car...)."""

    speed_kph: dict[str, float] = Field(description="speed per road class, km/h")
    ownership: dict[str, float] | None = Field(
        default=None, description="share with access by age band; None = everyone"
    )
    cost_yuan_per_km: float = Field(default=0.0, ge=0)
    access_min: float = Field(default=0.0, ge=0, description="time to get the vehicle going, min")
    source: str = "assumed"

    @field_validator("speed_kph")
    @classmethod
    def _positive_speeds(cls, value: dict[str, float]) -> dict[str, float]:
        for road_class, speed in value.items():
            if speed <= 0:
                raise ValueError(f"speed on '{road_class}' must be > 0 km/h, got {speed}")
        return value

    @field_validator("ownership")
    @classmethod
    def _shares(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for band, share in (value or {}).items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"ownership of band '{band}' must be in [0, 1], got {share}")
        return value


class DayHours(Strict):
    """Opening hours of one weekday that differ from the usual ones."""

    open: str
    close: str

    @field_validator("open", "close")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"expected a time 'HH:MM', got '{value}'")
        return value

    @model_validator(mode="after")
    def _order(self) -> DayHours:
        if clock_to_min(self.close) <= clock_to_min(self.open):
            raise ValueError(f"closing time {self.close} must be after opening time {self.open}")
        return self


class Hours(DayHours):
    """Opening hours and days; ``by_day`` sets other hours on given weekdays (and opens them).

    Staggered (错时), extended (延时) and weekend (周末) opening are hours per facility or kind,
    e.g. ``{open: "08:30", close: "19:00", by_day: {sat: {open: "09:00", close: "12:00"}}}``.
    The clock and order checks are DayHours'.
    """

    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    by_day: dict[Weekday, DayHours] = Field(default_factory=dict)
    source: str = "assumed"


FacilityKind = Literal["school", "clinic", "hall", "service_point", "village_clinic", "hospital"]


class Facility(Strict):
    """A school, clinic/health centre, service hall or service point."""

    kind: FacilityKind
    unit: str = Field(description="former township the facility lies in")
    at: str | tuple[float, float] = Field(description="village id, 'seat:<unit>' or [x_km, y_km]")
    zh: str | None = None
    en: str | None = None
    level: str | None = Field(default=None, description="school level")
    seats: int | None = Field(default=None, ge=0, le=MAX_SEATS, description="school places")
    servers: int = Field(default=0, ge=0, le=MAX_SERVERS, description="windows or doctors")
    services: tuple[str, ...] = ()
    service_time: ServiceTime | None = None
    hours: Hours | None = None
    central: bool = Field(
        default=False,
        description=(
            "a health centre (kind clinic) that is central in a county medical consortium (医共体): "
            "the referral target of its unit and its own tier constant (health.tier_constant_min."
            "central_clinic). Source: Pingtan Times 2020 (one central health centre per township)"
        ),
    )
    source: str = "assumed"

    @model_validator(mode="after")
    def _school_fields(self) -> Facility:
        if self.kind == "school" and (self.level is None or self.seats is None):
            raise ValueError("a school needs 'level' and 'seats'")
        return self


class FacilityDefaults(Strict):
    """Defaults applied to facilities of one kind that leave a field out."""

    services: tuple[str, ...] = ()
    service_time: ServiceTime | None = None
    hours: Hours | None = None


class Service(Strict):
    """An errand type residents need done at a facility."""

    group: str = Field(description="facilities of this group receive the errand (e.g. health, admin)")
    jurisdiction: bool = Field(description="must be done in the resident's own (current) unit")
    rate_per_person_year: dict[str, float] = Field(description="visits per person-year by age band")
    source: str = "assumed"

    @field_validator("rate_per_person_year")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        for band, rate in value.items():
            if not 0 <= rate <= MAX_RATE:
                raise ValueError(
                    f"rate of band '{band}' must be 0..{MAX_RATE} visits per person-year, got {rate}"
                )
        return value


class SchoolLevel(Strict):
    """Who attends a school level: attendance share by age band."""

    attendance: dict[str, float]
    source: str = "assumed"


class Schools(Strict):
    """School attendance and calendar."""

    levels: dict[str, SchoolLevel] = Field(default_factory=dict)
    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    holidays: tuple[tuple[int, int], ...] = Field(
        default=(), description="closed day ranges [first, last], 0-based simulation days"
    )
    arrive_by: str = "08:00"
    source: str = "assumed"


class Behaviour(Strict):
    """Choice rules and their parameters."""

    choice: Literal["nearest", "logit"] = "logit"
    logit_scale_per_min: float = Field(
        default=0.15, gt=0, le=MAX_LOGIT_SCALE, description="logit scale, 1/min (above 10: choice is nearest)"
    )
    value_of_time_yuan_per_h: float = Field(default=20.0, gt=0)
    prior_wait_min: float = Field(default=10.0, ge=0)
    wait_memory: float = Field(default=0.3, ge=0, le=1, description="weight of the newest wait")
    knows_service_scope: float = Field(
        default=0.6, ge=0, le=1, description="share who know which errands a service point completes"
    )
    retry_after_days: int = Field(default=1, ge=1)
    referral_min: float = Field(
        default=3.0, ge=0, description="window time to be told an errand must go to the new seat, min"
    )
    arrival_after_open_min: float = Field(default=150.0, ge=0, description="mean, min")
    arrival_sd_min: float = Field(default=120.0, ge=0)
    latest_arrival_before_close_min: float = Field(default=30.0, ge=0)
    balking: Balking | None = Field(
        default=None,
        description="Visitors who see a long queue do not join it (off when absent). Source: assumed",
    )
    reneging: Reneging | None = Field(
        default=None,
        description="Visitors waiting past their patience leave unserved (off when absent). Source: assumed",
    )
    day_choice: DayChoice | None = Field(
        default=None,
        description=(
            "Errands that can wait go on the weekday with the shortest remembered wait (off when absent). "
            "Source: assumed"
        ),
    )
    source: str = "assumed"


class NewUnit(Strict):
    """A unit formed by a merger."""

    zh: str
    en: str
    members: tuple[str, ...]
    seat: str = Field(description="member unit whose seat becomes the new seat")
    source: str = "assumed"

    @model_validator(mode="after")
    def _seat_member(self) -> NewUnit:
        if self.seat not in self.members:
            raise ValueError(f"seat '{self.seat}' must be one of the members {list(self.members)}")
        return self


class FacilityChange(Strict):
    """What a merger plan does to one facility."""

    action: Literal["keep", "close", "downgrade", "restaff", "central"]
    servers: int | None = Field(default=None, ge=0, le=MAX_SERVERS)
    services: tuple[str, ...] | None = None
    seats: int | None = Field(default=None, ge=0, le=MAX_SEATS)


class Merger(Strict):
    """A merger plan: new units and per-facility actions."""

    units: dict[str, NewUnit] = Field(default_factory=dict)
    facilities: dict[str, FacilityChange] = Field(default_factory=dict)
    source: str = "assumed"


class Simulation(Strict):
    """Run settings."""

    days: int = Field(default=28, ge=1, le=MAX_DAYS)
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="0..2**32-1 (numpy's seed range)")
    sample_fraction: float = Field(default=1.0, gt=0, le=1)
    warmup_days: int = Field(
        default=42,
        ge=0,
        description=(
            "days simulated before day 0 from empty queues and memories; their errands are not measured"
        ),
    )
    start_weekday: Weekday = "mon"


# -- levers: the reform's mitigations (online, proxy, mobile service, appointments) --------
def _shares(value: dict[str, float]) -> dict[str, float]:
    for band, share in value.items():
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share of band '{band}' must be within [0, 1], got {share}")
    return value


class OnlineService(Strict):
    """A share of one errand type done online, without a trip.

    ``share`` is by age band (bands left out: 0). An attempt fails with probability
    ``failure`` and the resident then travels as usual.
    """

    share: dict[str, float]
    failure: float = Field(
        default=0.0, ge=0, le=1, description="share of online attempts that fall back to a trip"
    )
    source: str = "assumed"

    @field_validator("share")
    @classmethod
    def _share(cls, value: dict[str, float]) -> dict[str, float]:
        return _shares(value)


class Proxy(Strict):
    """Village agents (代办员) who collect errands and take them to the office on set days.

    A resident with an errand of one of ``services`` hands it to the agent with probability
    ``uptake`` (by age band). On each of ``days`` every agent carries at most
    ``capacity_per_day`` errands (oldest first) to the facility that completes them in the
    resident's unit; the errand is completed ``delay_days`` later. The agent's trips are
    recorded; the resident makes none.
    """

    services: tuple[str, ...] = Field(min_length=1)
    uptake: dict[str, float]
    days: tuple[Weekday, ...] = Field(min_length=1)
    villages: tuple[str, ...] | None = Field(
        default=None, description="villages with an agent (default: all)"
    )
    agents_per_village: int = Field(default=1, ge=1, le=1000)
    capacity_per_day: int = Field(ge=1, le=100_000, description="errands one agent carries per trip day")
    delay_days: int = Field(default=0, ge=0, le=365, description="days from the agent's trip to completion")
    mode: str = Field(default="car", description="mode of the agent's trip")
    source: str = "assumed"

    @field_validator("uptake")
    @classmethod
    def _uptake(cls, value: dict[str, float]) -> dict[str, float]:
        return _shares(value)


class MobileStop(Strict):
    """One village a mobile service visits, and on which weekdays."""

    village: str
    days: tuple[Weekday, ...]


class Mobile(Strict):
    """A cadre or van serving villages on a timetable (流动服务).

    On a visit day, residents of the village with an errand of one of ``services`` due that
    day queue at the van (FIFO, ``windows`` servers, ``hours``); a resident whose errand arises
    at most ``wait_days`` before a visit holds it for the visit. Those not served by closing
    travel as usual on a later day.
    """

    services: tuple[str, ...]
    stops: tuple[MobileStop, ...] = Field(min_length=1)
    hours: Hours
    windows: int = Field(default=1, ge=1, le=1000)
    service_time: ServiceTime
    wait_days: int = Field(default=0, ge=0, le=30)
    walk_min: float = Field(default=5.0, ge=0, le=600, description="one-way walk to the van's stop, min")
    source: str = "assumed"


class Appointments(Strict):
    """A share of visitors book a slot; booked visitors are served at reserved windows.

    At facilities of ``kinds``, ``windows`` of the servers are reserved for appointments. A
    visitor books with probability ``share``; booked visitors get slots ``slot_min`` apart per
    reserved window in order of their desired arrival and come at their slot; once the day's
    slots are taken, the rest walk in. Walk-ins queue at the other windows.
    """

    kinds: tuple[Literal["clinic", "hall", "service_point"], ...] = ("hall",)
    share: float = Field(ge=0, le=1)
    windows: int = Field(default=1, ge=1, le=1000)
    slot_min: float = Field(gt=0, le=600)
    source: str = "assumed"


class Levers(Strict):
    """The mitigations a plan applies (all optional)."""

    online: dict[str, OnlineService] = Field(default_factory=dict, description="errand type -> online share")
    proxy: Proxy | None = None
    mobile: dict[str, Mobile] = Field(default_factory=dict)
    appointments: Appointments | None = None


class Title(Strict):
    """Display names of a scenario or overlay in Chinese and English."""

    zh: str = Field(min_length=1, description="Chinese display name. Source: given by the scenario (no default)")
    en: str = Field(min_length=1, description="English display name. Source: given by the scenario (no default)")


class Scenario(Strict):
    """A whole, resolved scenario (``extends:`` already applied)."""

    name: str
    title: Title | None = Field(
        default=None,
        description=(
            "Display names {zh, en} that figures, reports, compare, explain and the planner's page show "
            "instead of the name; a run with overlays shows the scenario's title, then ' + ' and each "
            "overlay's own title (or file stem); none: the name. Source: given by the scenario (no default)"
        ),
    )
    description: str = ""
    main_island: str = "main"
    age_bands: tuple[str, ...]
    units: dict[str, Unit]
    villages: tuple[Village, ...]
    roads: Roads
    modes: dict[str, Mode]
    services: dict[str, Service]
    facility_defaults: dict[FacilityKind, FacilityDefaults] = Field(default_factory=dict)
    facilities: dict[str, Facility]
    schools: Schools = Schools()
    behaviour: Behaviour = Behaviour()
    merger: Merger = Merger()
    simulation: Simulation = Simulation()
    transit: Transit | None = Field(default=None, description="timetabled bus and ferry lines (sim.transit)")
    crs: str | None = Field(
        default=None,
        description="coordinate reference system of x_km, y_km (km of its metres), e.g. EPSG:32635",
    )
    outline: str | None = Field(
        default=None,
        description="GeoJSON of the land (WGS 84 polygons) drawn under maps; relative to the file naming it",
    )
    levers: Levers = Levers()
    health: HealthTiers | None = Field(
        default=None,
        description="tiers of health care, referral and bypassing (sim.model.health); None: one tier",
    )
    elderly: Elderly | None = Field(
        default=None,
        description="impairment, companions and fare concessions by age (sim.model.frailty); None: none",
    )
    calendar: Calendar | None = Field(
        default=None,
        description="dates of the simulated days: ferry suspensions, public holidays, Spring Festival "
        "returns (sim.model.calendar; null: every day alike). Source: see its fields",
    )
    families: Families | None = Field(
        default=None,
        description="households, caregivers' escorts, boarding and teaching points (sim.model.families; "
        "null: independent residents, every pupil a day pupil). Source: see its fields",
    )
