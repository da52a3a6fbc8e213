"""Typed, frozen description of a scenario (pydantic models, unknown fields refused)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.argtypes import MAX_DAYS, MAX_SEED
from sim.scenario.calendar import Calendar
from sim.scenario.elderly import Elderly
from sim.scenario.families import Families
from sim.scenario.fields import WEEKDAYS, ServiceTime, Strict, Weekday, clock_to_min
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

    zh: str = Field(description="Chinese name. Source: given by the scenario (no default)")
    en: str = Field(description="English name. Source: given by the scenario (no default)")
    seat: tuple[float, float] = Field(
        description=(
            "Location of the unit's seat (government), km (x east, y north). Source: given by the"
            " scenario (no default)"
        )
    )
    island: str = Field(
        description="Id of the landmass the unit lies on. Source: given by the scenario (no default)"
    )
    area_km2: float | None = Field(
        default=None, gt=0, description="Land area (used only in reports); none: unknown. Source: assumed"
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this unit, where this entry's values come from: a publication (author, title, "
            "year) or 'assumed'. Source: assumed"
        ),
    )


class Village(Strict):
    """A population point: a village (or urban neighbourhood) with residents by age band."""

    id: str = Field(description="Village id (unique). Source: given by the scenario (no default)")
    unit: str = Field(
        description=(
            "Id of the unit (township) the village belongs to before the merger. Source: given by"
            " the scenario (no default)"
        )
    )
    x_km: float = Field(description="Easting of the village, km. Source: given by the scenario (no default)")
    y_km: float = Field(description="Northing of the village, km. Source: given by the scenario (no default)")
    population: dict[str, int] = Field(
        description="Residents by age band, persons. Source: given by the scenario (no default)"
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this village, where this entry's values come from: a publication (author, title,"
            " year) or 'assumed'. Source: assumed"
        ),
    )
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

    detour_factor: float = Field(
        default=1.4,
        ge=1.0,
        description="Road length over straight-line length of a generated edge (≥ 1). Source: assumed",
    )
    max_rural_edge_km: float = Field(
        default=8.0,
        gt=0,
        description=(
            "Longest rural road a generated network keeps between two villages, km. Source: assumed"
        ),
    )
    max_water_km: float = Field(
        default=0.3,
        ge=0,
        description=(
            "With an outline: km of sea a straight road may cross (short bridges, causeways); "
            "longer crossings are dropped or follow the land. Source: assumed"
        ),
    )
    source: str = Field(
        default="assumed",
        description=(
            "For the generated roads, where this entry's values come from: a publication (author,"
            " title, year) or 'assumed'. Source: assumed"
        ),
    )


class Ferry(Strict):
    """A fixed ferry edge between two nodes (village ids or ``seat:<unit>``)."""

    from_node: str = Field(
        description=(
            "Pier at one end: a village id or 'seat:<unit>'. Source: given by the scenario (no default)"
        )
    )
    to_node: str = Field(
        description=(
            "Pier at the other end: a village id or 'seat:<unit>'. Source: given by the scenario (no default)"
        )
    )
    crossing_min: float = Field(
        gt=0, description="Sailing time of one crossing, min. Source: given by the scenario (no default)"
    )
    wait_min: float = Field(
        ge=0, description="Mean wait at the pier, min. Source: given by the scenario (no default)"
    )
    fare_yuan: float = Field(default=0.0, ge=0, description="Fare of one crossing, yuan. Source: assumed")
    length_km: float | None = Field(
        default=None,
        ge=0,
        description="Sailing distance, km; none: the straight line between the piers. Source: assumed",
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this ferry, where this entry's values come from: a publication (author, title, "
            "year) or 'assumed'. Source: assumed"
        ),
    )


class Roads(Strict):
    """The road network: generated from parameters or read from a file beside the scenario."""

    generate: RoadGenerate | None = Field(
        default=None,
        description=(
            "Parameters of a generated network (Delaunay triangulation per island); give this or "
            "'file'. Source: assumed"
        ),
    )
    file: str | None = Field(
        default=None,
        description=(
            "GraphML or edge CSV (u,v,length_km,road_class[,oneway,time_min,fare_yuan]) beside "
            "the scenario; give this or 'generate'. Source: assumed"
        ),
    )
    nodes: str | None = Field(
        default=None,
        description="CSV of road junctions id,x_km,y_km (not villages) for a road file. Source: assumed",
    )
    ferries: dict[str, Ferry] = Field(
        default_factory=dict,
        description=(
            "Fixed ferry crossings by id (timetabled ferries are transit lines instead). Source: assumed"
        ),
    )

    @model_validator(mode="after")
    def _one_source(self) -> Roads:
        if (self.generate is None) == (self.file is None):
            raise ValueError("give exactly one of 'generate' or 'file'")
        return self


class Mode(Strict):
    """A travel mode (walk, e-bike, car...)."""

    speed_kph: dict[str, float] = Field(
        description="Speed per road class, km/h. Source: given by the scenario (no default)"
    )
    ownership: dict[str, float] | None = Field(
        default=None,
        description=(
            "Share of residents who have the mode, by age band (0..1); none: everyone. Source: assumed"
        ),
    )
    cost_yuan_per_km: float = Field(
        default=0.0, ge=0, description="Money cost per km travelled, yuan/km. Source: assumed"
    )
    access_min: float = Field(
        default=0.0,
        ge=0,
        description="Time to get the vehicle going at each end of a trip, min. Source: assumed",
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this mode, where this entry's values come from: a publication (author, title, "
            "year) or 'assumed'. Source: assumed"
        ),
    )

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

    open: str = Field(description="Opening time 'HH:MM'. Source: given by the scenario (no default)")
    close: str = Field(
        description="Closing time 'HH:MM' (after opening). Source: given by the scenario (no default)"
    )

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

    days: tuple[Weekday, ...] = Field(
        default=("mon", "tue", "wed", "thu", "fri"),
        description="Weekdays open with these hours. Source: assumed",
    )
    by_day: dict[Weekday, DayHours] = Field(
        default_factory=dict,
        description=(
            "Other hours on given weekdays (opening those days too), e.g. {sat: {open: '09:00', "
            "close: '12:00'}}. Source: assumed"
        ),
    )
    source: str = Field(
        default="assumed",
        description=(
            "For these hours, where this entry's values come from: a publication (author, title, "
            "year) or 'assumed'. Source: assumed"
        ),
    )


FacilityKind = Literal["school", "clinic", "hall", "service_point", "village_clinic", "hospital"]


class Facility(Strict):
    """A school, clinic/health centre, service hall or service point."""

    kind: FacilityKind = Field(
        description=(
            "school, clinic (health centre), hall (service hall) or service_point. Source: given "
            "by the scenario (no default)"
        )
    )
    unit: str = Field(
        description=(
            "Id of the former township the facility lies in. Source: given by the scenario (no default)"
        )
    )
    at: str | tuple[float, float] = Field(
        description=(
            "Location: a village id, 'seat:<unit>' or [x_km, y_km]. Source: given by the scenario"
            " (no default)"
        )
    )
    zh: str | None = Field(default=None, description="Chinese name; none: the id. Source: assumed")
    en: str | None = Field(default=None, description="English name; none: the id. Source: assumed")
    level: str | None = Field(
        default=None, description="School level (a key of schools.levels); schools only. Source: assumed"
    )
    seats: int | None = Field(
        default=None, ge=0, le=MAX_SEATS, description="School places, pupils; schools only. Source: assumed"
    )
    servers: int = Field(
        default=0,
        ge=0,
        le=MAX_SERVERS,
        description=("Windows (halls, service points) or doctors (clinics) serving at once. Source: assumed"),
    )
    services: tuple[str, ...] = Field(
        default=(),
        description="Errand types the facility completes; empty: its kind's default. Source: assumed",
    )
    service_time: ServiceTime | None = Field(
        default=None, description="Service-time distribution; none: its kind's default. Source: assumed"
    )
    hours: Hours | None = Field(
        default=None, description="Opening hours; none: its kind's default. Source: assumed"
    )
    central: bool = Field(
        default=False,
        description=(
            "a health centre (kind clinic) that is central in a county medical consortium (医共体): "
            "the referral target of its unit and its own tier constant (health.tier_constant_min."
            "central_clinic). Source: Pingtan Times 2020 (one central health centre per township)"
        ),
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this facility, where this entry's values come from: a publication (author, "
            "title, year) or 'assumed'. Source: assumed"
        ),
    )

    @model_validator(mode="after")
    def _school_fields(self) -> Facility:
        if self.kind == "school" and (self.level is None or self.seats is None):
            raise ValueError("a school needs 'level' and 'seats'")
        return self


class FacilityDefaults(Strict):
    """Defaults applied to facilities of one kind that leave a field out."""

    services: tuple[str, ...] = Field(
        default=(), description="Errand types facilities of this kind complete. Source: assumed"
    )
    service_time: ServiceTime | None = Field(
        default=None, description="Service-time distribution of this kind. Source: assumed"
    )
    hours: Hours | None = Field(default=None, description="Opening hours of this kind. Source: assumed")


class Service(Strict):
    """An errand type residents need done at a facility."""

    group: str = Field(
        description=(
            "Facility group that receives the errand (e.g. health, admin). Source: given by the "
            "scenario (no default)"
        )
    )
    jurisdiction: bool = Field(
        description=(
            "True: must be done in the resident's own (current) unit; false: free choice. Source:"
            " given by the scenario (no default)"
        )
    )
    rate_per_person_year: dict[str, float] = Field(
        description="Visits per person-year by age band. Source: given by the scenario (no default)"
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this errand type, where this entry's values come from: a publication (author, "
            "title, year) or 'assumed'. Source: assumed"
        ),
    )

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

    attendance: dict[str, float] = Field(
        description=(
            "Share of each age band attending this level (0..1). Source: given by the scenario (no default)"
        )
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this level, where this entry's values come from: a publication (author, title, "
            "year) or 'assumed'. Source: assumed"
        ),
    )


class Schools(Strict):
    """School attendance and calendar."""

    levels: dict[str, SchoolLevel] = Field(
        default_factory=dict,
        description=(
            "School levels by id (e.g. primary, middle) with attendance by age band. Source: assumed"
        ),
    )
    days: tuple[Weekday, ...] = Field(
        default=("mon", "tue", "wed", "thu", "fri"), description="School days of the week. Source: assumed"
    )
    holidays: tuple[tuple[int, int], ...] = Field(
        default=(), description="Closed day ranges [first, last], 0-based simulation days. Source: assumed"
    )
    arrive_by: str = Field(default="08:00", description="Time pupils must arrive, 'HH:MM'. Source: assumed")
    source: str = Field(
        default="assumed",
        description=(
            "For the school calendar and attendance, where this entry's values come from: a "
            "publication (author, title, year) or 'assumed'. Source: assumed"
        ),
    )


class Behaviour(Strict):
    """Choice rules and their parameters."""

    choice: Literal["nearest", "logit"] = Field(
        default="logit",
        description=(
            "Choice rule: nearest (least generalised cost) or logit (multinomial logit on it). "
            "Source: assumed"
        ),
    )
    logit_scale_per_min: float = Field(
        default=0.15,
        gt=0,
        le=MAX_LOGIT_SCALE,
        description=("Logit scale on generalised cost, 1/min (above 10: choice is nearest). Source: assumed"),
    )
    value_of_time_yuan_per_h: float = Field(
        default=20.0,
        gt=0,
        description=(
            "Value of time that turns money into minutes of generalised cost, yuan/h. Source: assumed"
        ),
    )
    prior_wait_min: float = Field(
        default=10.0,
        ge=0,
        description="Wait a resident expects at a facility not yet visited, min. Source: assumed",
    )
    wait_memory: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description=(
            "Weight of the newest wait in the remembered wait (exponential smoothing, 0..1). Source: assumed"
        ),
    )
    knows_service_scope: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description=(
            "Share of residents who know which errands a service point completes (0..1). Source: assumed"
        ),
    )
    retry_after_days: int = Field(
        default=1,
        ge=1,
        description="Days before a turned-away or referred resident tries again. Source: assumed",
    )
    referral_min: float = Field(
        default=3.0,
        ge=0,
        description="Window time to be told an errand must go to the unit's hall, min. Source: assumed",
    )
    arrival_after_open_min: float = Field(
        default=150.0,
        ge=0,
        description="Mean arrival time after opening (normal, folded at 0), min. Source: assumed",
    )
    arrival_sd_min: float = Field(
        default=120.0,
        ge=0,
        description="Standard deviation of the arrival time after opening, min. Source: assumed",
    )
    latest_arrival_before_close_min: float = Field(
        default=30.0,
        ge=0,
        description="Latest arrival before closing (later draws are moved to it), min. Source: assumed",
    )
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
    source: str = Field(
        default="assumed",
        description=(
            "For the behaviour parameters, where this entry's values come from: a publication "
            "(author, title, year) or 'assumed'. Source: assumed"
        ),
    )


class NewUnit(Strict):
    """A unit formed by a merger."""

    zh: str = Field(description="Chinese name of the new unit. Source: given by the scenario (no default)")
    en: str = Field(description="English name of the new unit. Source: given by the scenario (no default)")
    members: tuple[str, ...] = Field(
        description="Ids of the former units merged into it. Source: given by the scenario (no default)"
    )
    seat: str = Field(
        description=(
            "Member unit whose seat becomes the new seat. Source: given by the scenario (no default)"
        )
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this new unit, where this entry's values come from: a publication (author, "
            "title, year) or 'assumed'. Source: assumed"
        ),
    )

    @model_validator(mode="after")
    def _seat_member(self) -> NewUnit:
        if self.seat not in self.members:
            raise ValueError(f"seat '{self.seat}' must be one of the members {list(self.members)}")
        return self


class FacilityChange(Strict):
    """What a merger plan does to one facility."""

    action: Literal["keep", "close", "downgrade", "restaff", "central"] = Field(
        description=(
            "keep, close, downgrade (to a service point) or restaff. Source: given by the "
            "scenario (no default)"
        )
    )
    servers: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SERVERS,
        description="New number of windows or doctors; none: unchanged. Source: assumed",
    )
    services: tuple[str, ...] | None = Field(
        default=None,
        description=(
            "Errand types completed after the change; none: unchanged (downgrade: the service "
            "points' default). Source: assumed"
        ),
    )
    seats: int | None = Field(
        default=None, ge=0, le=MAX_SEATS, description="New school places; none: unchanged. Source: assumed"
    )


class Merger(Strict):
    """A merger plan: new units and per-facility actions."""

    units: dict[str, NewUnit] = Field(
        default_factory=dict, description="New units formed by the merger, by id. Source: assumed"
    )
    facilities: dict[str, FacilityChange] = Field(
        default_factory=dict,
        description=(
            "What the plan does to each facility, by facility id (facilities left out are kept). "
            "Source: assumed"
        ),
    )
    source: str = Field(
        default="assumed",
        description=(
            "For the merger plan, where this entry's values come from: a publication (author, "
            "title, year) or 'assumed'. Source: assumed"
        ),
    )


class Simulation(Strict):
    """Run settings."""

    days: int = Field(
        default=28,
        ge=1,
        le=MAX_DAYS,
        description="Measured days simulated (after the warm-up), days. Source: assumed",
    )
    seed: int = Field(
        default=0,
        ge=0,
        le=MAX_SEED,
        description=(
            "Random seed, 0..2**32-1 (numpy's seed range); replications use seed, seed+1, .... "
            "Source: assumed"
        ),
    )
    sample_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description=(
            "Share of residents simulated (0..1]; each stands for 1/f, ghost arrivals carry the "
            "rest of the load. Source: assumed"
        ),
    )
    warmup_days: int = Field(
        default=42,
        ge=0,
        le=MAX_DAYS,
        description=(
            "Days simulated before day 0 from empty queues and memories; their errands are not "
            "measured, days. Source: MSER truncation (White, 'An effective truncation heuristic "
            "for bias reduction in simulation output', Simulation, 1997) on Pingtan runs"
        ),
    )
    start_weekday: Weekday = Field(default="mon", description="Weekday of simulation day 0. Source: assumed")


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

    share: dict[str, float] = Field(
        description=(
            "Share of errands of this type tried online, by age band (0..1; bands left out: 0). "
            "Source: given by the scenario (no default)"
        )
    )
    failure: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of online attempts that fail and fall back to a trip (0..1). Source: assumed",
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this online service, where this entry's values come from: a publication (author,"
            " title, year) or 'assumed'. Source: assumed"
        ),
    )

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

    services: tuple[str, ...] = Field(
        min_length=1,
        description="Errand types village agents carry. Source: given by the scenario (no default)",
    )
    uptake: dict[str, float] = Field(
        description=(
            "Share of residents with such an errand who hand it to the agent, by age band (0..1)."
            " Source: given by the scenario (no default)"
        )
    )
    days: tuple[Weekday, ...] = Field(
        min_length=1,
        description=(
            "Weekdays the agents take errands to the office. Source: given by the scenario (no default)"
        ),
    )
    villages: tuple[str, ...] | None = Field(
        default=None, description="Villages with an agent; none: all. Source: assumed"
    )
    agents_per_village: int = Field(
        default=1, ge=1, le=1000, description="Agents per village. Source: assumed"
    )
    capacity_per_day: int = Field(
        ge=1,
        le=100_000,
        description=(
            "Errands one agent carries per trip day (of the whole population). Source: given by "
            "the scenario (no default)"
        ),
    )
    delay_days: int = Field(
        default=0, ge=0, le=365, description="Days from the agent's trip to completion, days. Source: assumed"
    )
    mode: str = Field(default="car", description="Mode of the agent's trip (a key of modes). Source: assumed")
    source: str = Field(
        default="assumed",
        description=(
            "For the proxy service, where this entry's values come from: a publication (author, "
            "title, year) or 'assumed'. Source: assumed"
        ),
    )

    @field_validator("uptake")
    @classmethod
    def _uptake(cls, value: dict[str, float]) -> dict[str, float]:
        return _shares(value)


class MobileStop(Strict):
    """One village a mobile service visits, and on which weekdays."""

    village: str = Field(
        description="Village the mobile service visits. Source: given by the scenario (no default)"
    )
    days: tuple[Weekday, ...] = Field(
        description="Weekdays of the visits. Source: given by the scenario (no default)"
    )


class Mobile(Strict):
    """A cadre or van serving villages on a timetable (流动服务).

    On a visit day, residents of the village with an errand of one of ``services`` due that
    day queue at the van (FIFO, ``windows`` servers, ``hours``); a resident whose errand arises
    at most ``wait_days`` before a visit holds it for the visit. Those not served by closing
    travel as usual on a later day.
    """

    services: tuple[str, ...] = Field(
        description=("Errand types the mobile service completes. Source: given by the scenario (no default)")
    )
    stops: tuple[MobileStop, ...] = Field(
        min_length=1,
        description="Villages visited and on which weekdays. Source: given by the scenario (no default)",
    )
    hours: Hours = Field(description="Hours of a visit. Source: given by the scenario (no default)")
    windows: int = Field(default=1, ge=1, le=1000, description="Windows at the van. Source: assumed")
    service_time: ServiceTime = Field(
        description="Service-time distribution at the van. Source: given by the scenario (no default)"
    )
    wait_days: int = Field(
        default=0,
        ge=0,
        le=30,
        description="Days a resident holds a fresh errand for the next visit, days. Source: assumed",
    )
    walk_min: float = Field(
        default=5.0, ge=0, le=600, description="One-way walk to the van's stop, min. Source: assumed"
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this mobile service, where this entry's values come from: a publication (author,"
            " title, year) or 'assumed'. Source: assumed"
        ),
    )


class Appointments(Strict):
    """A share of visitors book a slot; booked visitors are served at reserved windows.

    At facilities of ``kinds``, ``windows`` of the servers are reserved for appointments. A
    visitor books with probability ``share``; booked visitors get slots ``slot_min`` apart per
    reserved window in order of their desired arrival and come at their slot; once the day's
    slots are taken, the rest walk in. Walk-ins queue at the other windows.
    """

    kinds: tuple[Literal["clinic", "hall", "service_point"], ...] = Field(
        default=("hall",), description="Kinds of facility that take appointments. Source: assumed"
    )
    share: float = Field(
        ge=0,
        le=1,
        description="Share of visitors who book a slot (0..1). Source: given by the scenario (no default)",
    )
    windows: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="Windows per facility reserved for booked visitors. Source: assumed",
    )
    slot_min: float = Field(
        gt=0,
        le=600,
        description=(
            "Time between slots at one reserved window, min. Source: given by the scenario (no default)"
        ),
    )
    source: str = Field(
        default="assumed",
        description=(
            "For the appointments, where this entry's values come from: a publication (author, "
            "title, year) or 'assumed'. Source: assumed"
        ),
    )


class Levers(Strict):
    """The mitigations a plan applies (all optional)."""

    online: dict[str, OnlineService] = Field(
        default_factory=dict, description="Online service by errand type (一网通办). Source: assumed"
    )
    proxy: Proxy | None = Field(
        default=None, description="Village proxy agents (代办); none: no agents. Source: assumed"
    )
    mobile: dict[str, Mobile] = Field(
        default_factory=dict, description="Mobile services by id (流动服务). Source: assumed"
    )
    appointments: Appointments | None = Field(
        default=None,
        description="Appointments at reserved windows (预约); none: walk-in only. Source: assumed",
    )


class Title(Strict):
    """Display names of a scenario or overlay in Chinese and English."""

    zh: str = Field(
        min_length=1, description="Chinese display name. Source: given by the scenario (no default)"
    )
    en: str = Field(
        min_length=1, description="English display name. Source: given by the scenario (no default)"
    )


class Scenario(Strict):
    """A whole, resolved scenario (``extends:`` already applied)."""

    name: str = Field(
        description=(
            "Scenario name; runs are named after it (plus '+<overlay>' per overlay). Source: "
            "given by the scenario (no default)"
        )
    )
    title: Title | None = Field(
        default=None,
        description=(
            "Display names {zh, en} that figures, reports, compare, explain and the planner's page show "
            "instead of the name; a run with overlays shows the scenario's title, then ' + ' and each "
            "overlay's own title (or file stem); none: the name. Source: given by the scenario (no default)"
        ),
    )
    description: str = Field(default="", description="One line saying what the scenario is. Source: assumed")
    main_island: str = Field(
        default="main",
        description="Landmass id of the main island (the others are reached by ferry). Source: assumed",
    )
    age_bands: tuple[str, ...] = Field(
        description=(
            "Age-band labels used by villages, rates, ownership and shares, e.g. ['0-14', "
            "'15-59', '60+']. Source: given by the scenario (no default)"
        )
    )
    units: dict[str, Unit] = Field(
        description=(
            "Administrative units (townships) before any merger, by id. Source: given by the "
            "scenario (no default)"
        )
    )
    villages: tuple[Village, ...] = Field(
        description=(
            "Population points with residents by age band (a list, or {file: villages.csv}). "
            "Source: given by the scenario (no default)"
        )
    )
    roads: Roads = Field(
        description=(
            "The road network: generated from parameters or read from a file, plus fixed ferries."
            " Source: given by the scenario (no default)"
        )
    )
    modes: dict[str, Mode] = Field(
        description="Travel modes by id (walk is required). Source: given by the scenario (no default)"
    )
    services: dict[str, Service] = Field(
        description=(
            "Errand types by id: who needs them how often and where they are done. Source: given "
            "by the scenario (no default)"
        )
    )
    facility_defaults: dict[FacilityKind, FacilityDefaults] = Field(
        default_factory=dict,
        description="Defaults for facilities of one kind that leave a field out. Source: assumed",
    )
    facilities: dict[str, Facility] = Field(
        description=(
            "Schools, health centres, halls and service points by id. Source: given by the "
            "scenario (no default)"
        )
    )
    schools: Schools = Field(default=Schools(), description="School attendance and calendar. Source: assumed")
    behaviour: Behaviour = Field(
        default=Behaviour(), description="Choice rules and their parameters. Source: assumed"
    )
    merger: Merger = Field(
        default=Merger(),
        description=(
            "The merger plan: new units and what happens to each facility (empty: no merger). Source: assumed"
        ),
    )
    simulation: Simulation = Field(
        default=Simulation(), description="Run settings: days, seed, warm-up, sample. Source: assumed"
    )
    transit: Transit | None = Field(
        default=None,
        description=(
            "Timetabled bus and ferry lines, or a GTFS feed (sim.transit); none: no public "
            "transport. Source: assumed"
        ),
    )
    crs: str | None = Field(
        default=None,
        description=(
            "Coordinate reference system of x_km, y_km (km of its metres), e.g. EPSG:32650; none:"
            " a local km plane. Source: assumed"
        ),
    )
    outline: str | None = Field(
        default=None,
        description=(
            "GeoJSON of the land (WGS 84 polygons) drawn under maps, on which generated roads "
            "stay; relative to the file naming it. Source: assumed"
        ),
    )
    levers: Levers = Field(
        default=Levers(),
        description=(
            "The reform's mitigations the plan applies: online, proxy, mobile service, "
            "appointments (empty: none). Source: assumed"
        ),
    )
    health: HealthTiers | None = Field(
        default=None,
        description="tiers of health care, referral and bypassing (sim.model.health); None: one tier. "
        "Source: assumed",
    )
    elderly: Elderly | None = Field(
        default=None,
        description="impairment, companions and fare concessions by age (sim.model.frailty); None: none. "
        "Source: assumed",
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
