"""The run summary as a typed contract: :class:`RunSummary`, serialised as ``summary.json``.

Every reader of a run (the command line, compare, merger-effect, replications, figures, the
report, the planner's page, GIS layers, sweeps) reads the summary through these models'
attributes; the metrics (:mod:`sim.metrics.summary`, :mod:`sim.metrics.levers`,
:mod:`sim.metrics.access`) produce its blocks and :func:`sim.runner.run_loaded` assembles them.

Units are in the field names and descriptions: ``_min`` minutes, ``_km`` kilometres, ``_yuan``
yuan, ``share`` a fraction in [0, 1]. ``None`` (JSON ``null``) is a value that does not exist
for the run, e.g. the mean burden of a group with no completed errand.

Validation is strict: a number must be a JSON number (an integer where counts are meant), NaN
and infinities are refused, and a block may hold only the fields declared here (the top level
also keeps blocks it does not know, written by a newer or a feature branch of townsim, as
they are).

How the JSON is produced (byte-identical to the untyped summary it replaced)::

    json.dumps(summary.to_json_dict(), ensure_ascii=False, indent=2)

:meth:`Block.to_json_dict` is ``model_dump(mode="python")`` plus two rules applied by every
block's serializer: (1) an *optional* field (declared with ``= None``) that is None is left
out, while a field declared without a default is always written (``null`` when None); (2) a
field listed in the block's ``_FLAT`` is spread into its parent as keys (``access_clinic``,
``gini_access_clinic`` ...), in declaration order. Key order is declaration order, floats are
written by ``json.dumps`` (Python's shortest repr), so a run's ``summary.json`` does not change
when read and written again.

How to add a block (e.g. a feature that is off by default):

1. Declare a model for it here, subclassing :class:`Block`, with one ``Field(description=...)``
   per key giving the meaning and unit.
2. Add it to :class:`RunSummary` as ``name: NewBlock | None = Field(default=None, ...)``
   where it should appear in the JSON (fields are written in declaration order).
3. Produce it in the metrics and pass it to ``RunSummary.model_validate`` only when the feature
   is on: with the feature off the field stays None, is omitted, and ``summary.json`` is
   byte-identical to before.
4. Read it as ``summary.new_block`` (check for None) everywhere; no ``.get(...)`` chains.

:data:`SCHEMA_VERSION` goes up by one when a field changes meaning or a required field is
added or removed (an optional block does not need a new version). Summaries without a version
(written before the contract existed) are read when they validate, refused otherwise
(:func:`sim.results.io.read_summary`).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

__all__ = [
    "SCHEMA_VERSION",
    "AccessParameters",
    "AccessShares",
    "AccessSummary",
    "Block",
    "BurdenStats",
    "CalendarSummary",
    "EffectCell",
    "EquitySummary",
    "ErrandCounts",
    "EscortBand",
    "EscortSummary",
    "ExpectedWait",
    "FamiliesSummary",
    "GroupMetrics",
    "HouseholdStats",
    "IndexStats",
    "LeverSummary",
    "MeanByUnit",
    "MergerEffectCells",
    "ProxyWorkload",
    "QueueStats",
    "RunSummary",
    "SchoolBusStats",
    "SchoolLevelFamilies",
    "SchoolStats",
    "ServiceAccess",
    "TheilProfile",
    "TransitSummary",
    "VillageIndices",
    "load_summary",
    "summary_json",
]

#: Version of the summary.json layout written by this townsim (``schema_version``).
SCHEMA_VERSION = 1

#: A finite number or None (validation refuses NaN and infinities everywhere).
Num = float | None


class Block(BaseModel):
    """Base of every summary block: strict, finite numbers, no undeclared keys.

    ``_FLAT`` maps a ``dict`` field to ``(pattern, template)``: keys of the block's JSON that
    match the regular expression ``pattern`` (and are not declared fields) are gathered into
    that field under its one group's text, and written back as ``template.format(inner)`` at
    the field's place. Patterns are tried in ``_FLAT`` order; ``"(.+)"`` takes every remaining key.
    """

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)

    _FLAT: ClassVar[dict[str, tuple[str, str]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _gather_flat(cls, data: Any) -> Any:
        if not cls._FLAT or not isinstance(data, dict):
            return data
        out = dict(data)
        for name, (pattern, _) in cls._FLAT.items():
            if name in data:
                continue  # given as the field itself (e.g. a model built in Python)
            taken: dict[str, Any] = {}
            for key in list(out):
                match = re.fullmatch(pattern, key) if key not in cls.model_fields else None
                if match is not None:
                    taken[match.group(1)] = out.pop(key)
            out[name] = taken
        return out

    @model_serializer(mode="wrap")
    def _write(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        fields = type(self).model_fields
        out: dict[str, Any] = {}
        for key, value in data.items():
            info = fields.get(key)
            if info is not None and value is None and not info.is_required() and info.default is None:
                continue  # an optional block that is absent
            flat = self._FLAT.get(key)
            if flat is None:
                out[key] = value
                continue
            template = flat[1]
            for inner, v in value.items():
                out[template.format(inner)] = v
        return out

    def to_json_dict(self) -> dict[str, Any]:
        """The block as the plain dict written to JSON (optional None fields left out, flat keys spread)."""
        data: dict[str, Any] = self.model_dump(mode="python")
        return data


class BurdenStats(Block):
    """Burden per completed errand of a group: travel, waits and money as minutes."""

    n: int = Field(description="completed errands counted (agents, unweighted)")
    mean: Num = Field(description="mean burden per completed errand (min); None if n = 0")
    median: Num = Field(description="median burden (min); None if n = 0")
    p90: Num = Field(description="90th percentile of the burden (min); None if n = 0")


class AccessShares(Block):
    """Residents' access time to their nearest facility of one service (fastest own mode)."""

    mean_min: Num = Field(description="population-weighted mean one-way minutes (reachable residents)")
    share_over_15: Num = Field(description="share of residents over 15 min one way (fraction)")
    share_over_30: Num = Field(description="share of residents over 30 min one way (fraction)")
    share_over_60: Num = Field(description="share of residents over 60 min one way (fraction)")


class GroupMetrics(Block):
    """Burden and access of one group of residents (a former township, an age band, an island group)."""

    _FLAT: ClassVar[dict[str, tuple[str, str]]] = {"access": ("access_(.+)", "access_{}")}

    population: Num = Field(description="residents represented (sum of weights, persons)")
    errands_completed: int = Field(description="completed errands counted (agents, unweighted)")
    burden_min: BurdenStats = Field(description="burden per completed errand (min)")
    trips_per_completed_errand: Num = Field(description="trips per completed errand; None if none completed")
    distance_km_per_errand: Num = Field(description="round-trip km per completed errand")
    money_yuan_per_errand: Num = Field(description="fares and fuel per completed errand (yuan)")
    burden_share_over_min: dict[str, Num] = Field(
        description="per threshold in minutes ('15', '30', '60'): share of completed errands above it"
    )
    access: dict[str, AccessShares] = Field(
        default_factory=dict, description="per service: access time; written as keys access_<service>"
    )


class ErrandCounts(Block):
    """Errands and trips of the measured period (errands arisen from day 0 on)."""

    arisen: int = Field(description="errands that arose")
    completed: int = Field(description="errands completed")
    pending_at_end: int = Field(description="errands neither completed nor dropped when the run ended")
    trips: int = Field(description="trips made for them")
    trips_completed: int = Field(description="trips that completed their errand")
    trips_referred: int = Field(description="trips referred on to another facility")
    trips_turned_away: int = Field(description="trips turned away at a full facility")


class QueueStats(Block):
    """Queues of one facility kind over its open facility-days."""

    facility_days: int = Field(description="open facility-days")
    mean_utilisation: Num = Field(description="mean share of server time busy (fraction)")
    mean_wait_min: Num = Field(description="arrival-weighted mean wait (min); None without arrivals")
    p95_wait_min_mean: Num = Field(description="mean over facility-days of the 95th percentile wait (min)")
    turned_away: int = Field(description="visitors turned away")
    max_longest_queue: int = Field(description="longest queue seen on any day (persons)")


class SchoolStats(Block):
    """Pupils' school places and their one-way journeys."""

    pupils: int = Field(description="pupils (agents)")
    unplaced: int = Field(description="pupils with no school place")
    mean_one_way_min: Num = Field(description="mean one-way journey of placed pupils (min)")
    share_over_40_min: Num = Field(description="share of placed pupils over 40 min one way (fraction)")
    mean_distance_km: Num = Field(description="mean one-way distance of placed pupils (km)")


class EquitySummary(Block):
    """Inequality of burden and access between residents (Gini, Theil, Palma, decompositions)."""

    _FLAT: ClassVar[dict[str, tuple[str, str]]] = {
        "access": ("((?:gini|theil)_access_.+)", "{}"),
        "profiles": ("(.+)", "{}"),
    }

    gini_burden_per_resident: Num = Field(description="Gini of residents' mean burden per errand")
    theil_burden_per_resident: Num = Field(description="Theil T of residents' mean burden per errand")
    access: dict[str, Num] = Field(
        default_factory=dict,
        description="'gini_access_<service>' and 'theil_access_<service>' of residents' access minutes",
    )
    profiles: dict[str, dict[str, Num]] = Field(
        default_factory=dict,
        description="per quantity (burden_min_per_errand, access_<service>_min): gini, palma, theil and "
        "its between/within decomposition by group, concentration index by age",
    )

    def gini_access(self, service: str) -> float | None:
        """Gini of residents' access minutes to ``service`` (None if not measured)."""
        return self.access.get(f"gini_access_{service}")

    def theil_access(self, service: str) -> float | None:
        """Theil T of residents' access minutes to ``service`` (None if not measured)."""
        return self.access.get(f"theil_access_{service}")


class ProxyWorkload(Block):
    """The proxy agents' workload (only when proxy agents ran)."""

    agent_trips: int = Field(description="agent trips from day 0 on")
    errands_carried: int = Field(description="errands carried by agents")
    agent_hours: float = Field(description="agent travel time (h)")
    agent_km: float = Field(description="agent travel distance (km)")
    errands_per_agent_trip: float = Field(description="errands carried per agent trip")


class LeverSummary(Block):
    """Completed errands by channel (trip, online, proxy, mobile service)."""

    completed_by_channel: dict[str, int] = Field(description="completed errands per channel")
    channel_share: dict[str, Num] = Field(description="share of completed errands per channel (fraction)")
    proxy: ProxyWorkload | None = Field(default=None, description="proxy agents' workload, if any ran")


class TransitSummary(Block):
    """Bus and ferry trips (only when the scenario has a bus mode)."""

    bus_trips: int = Field(description="trips made by bus")
    bus_share: Num = Field(description="share of all trips made by bus (fraction)")
    no_way_home: int = Field(description="trips with no bus home that day")
    no_way_home_share_of_bus_trips: Num = Field(description="share of bus trips with no way home")
    mean_stop_wait_min: Num = Field(description="mean wait at the first stop (min)")
    mean_transfer_wait_min: Num = Field(description="mean wait at changes (min)")
    mean_travel_there_min: Num = Field(description="mean journey there (min)")
    mean_travel_home_min: Num = Field(description="mean journey home (min)")
    boardings_by_line: dict[str, int] = Field(description="boardings per line id")


class AccessParameters(Block):
    """Parameters of the access indices (E2SFCA, gravity) of the ``access`` block."""

    catchment_min: float = Field(description="2SFCA catchment (min one way)")
    gaussian_sigma_min: float = Field(description="E2SFCA Gaussian decay width (min)")
    gravity_beta: float = Field(description="gravity model distance-decay exponent")
    gravity_min_cost_min: float = Field(description="gravity model floor on travel cost (min)")
    index_unit: str = Field(description="unit of the indices")
    travel: str = Field(description="travel cost the indices use")
    wait_source: str = Field(description="where the facility waits came from (simulated or expected)")


class TheilProfile(Block):
    """Theil T of one index across residents and its decompositions."""

    total: Num = Field(description="Theil T over all residents")
    between_former_unit: Num = Field(description="between former townships")
    within_former_unit: Num = Field(description="within former townships")
    between_island: Num = Field(description="between island groups")
    within_island: Num = Field(description="within island groups")
    concentration_index_age: Num = Field(description="concentration index by age band")


class IndexStats(Block):
    """One accessibility index of one service (servers per 1,000 users)."""

    mean: Num = Field(description="users' weighted mean")
    by_former_unit: dict[str, Num] = Field(description="weighted mean per former township")
    theil: TheilProfile = Field(description="inequality of the index")


class MeanByUnit(Block):
    """A weighted mean overall and per former township."""

    mean: Num = Field(description="users' weighted mean (min)")
    by_former_unit: dict[str, Num] = Field(description="per former township (min)")


class ServiceAccess(Block):
    """Accessibility of one service: indices, queue-aware nearest times, life circles."""

    users: Num = Field(description="residents in age bands with a visit rate (persons)")
    index_per_1000: dict[str, IndexStats] = Field(
        description="per method (2sfca, e2sfca, gravity, e2sfca_queue)"
    )
    unreachable_share: Num = Field(description="share of users with no facility reachable")
    queue_aware_nearest_min: MeanByUnit = Field(description="nearest facility's travel plus mean wait (min)")
    life_circle_share: dict[str, dict[str, Num | dict[str, Num]]] = Field(
        description="per travel ('walk', 'own_mode'): share of users within 5/15/30 min, and "
        "'<t>_by_former_unit' per former township"
    )


class VillageIndices(Block):
    """Per village (parallel lists): population and every index ``<service>.<method>``."""

    _FLAT: ClassVar[dict[str, tuple[str, str]]] = {"indices": ("(.+)", "{}")}

    village: list[str] = Field(description="village ids")
    population: list[Num] = Field(description="residents represented per village")
    indices: dict[str, list[Num]] = Field(
        default_factory=dict, description="'<service>.<method>' per village"
    )


class EffectCell(Block):
    """One former township x age band cell of the merger-effect table."""

    _FLAT: ClassVar[dict[str, tuple[str, str]]] = {"measures": ("(.+)", "{}")}

    former_unit: str = Field(description="former township id")
    age_band: str = Field(description="age band label")
    population: Num = Field(description="residents represented")
    measures: dict[str, Num] = Field(
        default_factory=dict,
        description="nearest_min_<s>, queue_aware_nearest_min_<s>, nearest_km_<s>, e2sfca_<s>, realised km",
    )


class MergerEffectCells(Block):
    """The cells ``townsim merger-effect`` differences between runs."""

    merger_status: dict[str, str] = Field(description="per former township: new_seat, absorbed or unmerged")
    rows: list[EffectCell] = Field(description="one row per former township and age band")


class ExpectedWait(Block):
    """Expected queue of one facility of a plan not yet simulated."""

    visits_per_open_day: Num = Field(description="expected visits per open day")
    wait_min: Num = Field(description="expected mean wait (min)")
    erlang_c_day_mean_min: Num = Field(description="Erlang C day-mean wait (min)")
    utilisation: Num = Field(description="expected utilisation (fraction)")


class AccessSummary(Block):
    """The ``access`` block: accessibility indices, life circles, merger-effect cells."""

    parameters: AccessParameters = Field(description="parameters of the indices")
    services: dict[str, ServiceAccess] = Field(description="per service")
    facility_mean_wait_min: dict[str, Num] = Field(description="per facility with arrivals: mean wait (min)")
    by_village: VillageIndices = Field(description="indices per village")
    merger_effect_cells: MergerEffectCells = Field(description="cells for merger-effect")
    facility_expected_wait: dict[str, ExpectedWait] | None = Field(
        default=None, description="per facility: expected queue (plans not simulated only)"
    )


class BypassBand(Block):
    """First trips for the lowest kind of care and the share that bypassed the village clinic."""

    first_trips: int = Field(description="first trips for the lowest kind of care (agents)")
    bypass_share: Num = Field(description="share of them to a higher tier (fraction)")


class BypassBin(BypassBand):
    """:class:`BypassBand` of one relative-travel-time bin, all ages and people 60+."""

    first_trips_60_plus: int = Field(description="first trips of people 60+ in the bin (agents)")
    bypass_share_60_plus: Num = Field(description="share of them to a higher tier (fraction)")


class HealthBypass(Block):
    """Bypassing of the village clinic (first trips for the lowest kind of care)."""

    care: str = Field(description="the lowest kind of care (health.levels[0])")
    first_trips: int = Field(description="first trips for it on measured days (agents)")
    share: Num = Field(description="share to a higher tier than the village clinic (fraction)")
    by_age_band: dict[str, BypassBand] = Field(description="per age band")
    by_relative_time_min: dict[str, BypassBin] = Field(
        description="per bin of one-way minutes to the nearest village clinic minus to the nearest "
        "higher tier"
    )


class HealthSummary(Block):
    """Health tiers (runs with a ``health`` block): visits by tier, bypassing, referral, km per errand."""

    visits_per_person_year: dict[str, Num] = Field(
        description="visits (trips reaching the facility) per person-year at village clinics, health centres "
        "and hospitals"
    )
    village_clinic_to_health_centre_visits: Num = Field(description="ratio of the two visit rates")
    bypass: HealthBypass = Field(description="bypassing of the village clinic")
    referred_trips_by_kind: dict[str, int] = Field(description="trips ending referred, per tier (agents)")
    health_errands_completed: int = Field(description="health errands completed on measured days (agents)")
    round_trip_km_per_health_errand_by_age_band: dict[str, Num] = Field(
        description="round-trip km per completed health errand, all its trips, per age band"
    )


class ElderlySummary(Block):
    """The frail elderly (runs with an ``elderly`` block): impairment, companions, fare concessions.

    Minutes are sums over the simulated residents' trips on measured days; ``*_per_year`` figures
    stand for the whole population.
    """

    impaired_share_by_age_band: dict[str, Num] = Field(description="share impaired per age band (fraction)")
    companion_band: str = Field(description="age band the companions' minutes count in")
    companion_trips: int = Field(description="trips with a companion (agents)")
    companion_min: Num = Field(description="companions' minutes: there + wait + home of those trips")
    companion_person_hours_per_year: Num = Field(description="the same for the whole population, h/year")
    burden_min_by_age_band: dict[str, Num] = Field(description="residents' own trip minutes per age band")
    burden_min_by_age_band_with_companions: dict[str, Num] = Field(
        description="the same with the companions' minutes in the companion band"
    )
    burden_min_with_companions: Num = Field(description="all residents' and companions' minutes")
    fare_subsidy_yuan: Num = Field(description="fares waived by concessions (simulated riders), yuan")
    fare_subsidy_yuan_per_year: Num = Field(
        description="the fare subsidy's cost for the population, yuan/year"
    )
    bus_share_by_age_band: dict[str, Num] = Field(description="share of trips by bus per age band (fraction)")
    bus_money_yuan_by_age_band: dict[str, Num] = Field(description="money of bus trips per age band, yuan")


class QueueKindStats(Block):
    """Trips to one kind of facility and the shares that balked, left or were turned away."""

    trips: int = Field(description="trips to facilities of this kind (agents, measured days)")
    balked_share: Num = Field(description="share of those trips that balked (fraction)")
    left_share: Num = Field(description="share that left the queue unserved (fraction)")
    turned_away_share: Num = Field(description="share turned away at closing time (fraction)")


class QueueBehaviourSummary(Block):
    """Balking, reneging and day choice (runs with any of them on), over the measured days."""

    balking: bool = Field(description="behaviour.balking is on")
    reneging: bool = Field(description="behaviour.reneging is on")
    day_choice: bool = Field(description="behaviour.day_choice is on")
    trips: int = Field(description="trips (agents)")
    balked_trips: int = Field(description="trips whose visitor did not join the queue")
    left_trips: int = Field(description="trips whose visitor left the queue unserved")
    mean_wait_min_of_those_who_left: Num = Field(description="mean wait before leaving, min")
    put_off_trips: int = Field(description="trips day choice put off to a later day")
    by_kind: dict[str, QueueKindStats] = Field(description="per facility kind")


class CalendarSummary(Block):
    """The calendar of a run (runs with a ``calendar`` block), over the measured days."""

    start_date: str = Field(description="date of day 0 (ISO 8601)")
    ferry_suspended_days: int = Field(description="days without ferries")
    ferry_suspended_days_by_month: dict[str, int] = Field(description="days without ferries per 'YYYY-MM'")
    first_suspended_day: int | None = Field(description="first measured day without ferries (null: none)")
    public_holidays: int = Field(description="statutory public holidays closing facilities")
    errands_held_by_ferry: int = Field(
        description="errand-days held for want of a ferry (an errand held three days counts three; agents)"
    )
    registered_absent: int = Field(
        description="registered residents away but at the Spring Festival (agents)"
    )


class SchoolLevelFamilies(Block):
    """How the pupils of one school level travel (runs with a ``families`` block)."""

    pupils: int = Field(description="pupils of the level (agents)")
    service_radius_km: Num = Field(description="mean km from placed pupils to their school (NAO radius)")
    boarders: int = Field(description="pupils boarding (agents)")
    boarding_share: Num = Field(description="share of placed pupils boarding")
    escorted: int = Field(description="day pupils escorted by their caregiver (agents)")
    bus_riders: int = Field(description="pupils riding a school bus (agents)")
    teaching_point: int = Field(description="pupils at a village teaching point (agents)")
    weekly_pupil_km: Num = Field(description="one-way journeys a school week x km, residents represented")
    boarding_yuan_per_term: Num = Field(description="boarding paid per term, yuan, residents represented")


class HouseholdStats(Block):
    """Households as built (runs with ``families.households``)."""

    households: int = Field(description="households (agents)")
    mean_size: Num = Field(description="members per household")
    left_behind_share_of_children: Num = Field(description="share of children in skipped-generation homes")
    children_without_caregiver: int = Field(description="children whose household has no caregiver")
    max_fit_error: Num = Field(description="largest relative gap between fitted and target margins (IPF)")


class EscortBand(Block):
    """Escort time of caregivers of one age band."""

    caregivers_escorting: int = Field(description="caregivers with escort time (agents)")
    escort_min: Num = Field(description="escort minutes, residents represented")
    escort_min_per_caregiver: Num = Field(description="escort minutes per escorting caregiver")


class EscortSummary(Block):
    """Caregivers' escort time over the measured days (runs with escorts)."""

    escort_min: Num = Field(description="all escort minutes, residents represented")
    school_escort_min: Num = Field(description="escort minutes to and from school")
    clinic_escort_min: Num = Field(description="escort minutes with children at the clinic (whole trips)")
    by_caregiver_age_band: dict[str, EscortBand] = Field(description="per caregiver's age band")


class SchoolBusStats(Block):
    """Riders of one school bus line."""

    riders: int = Field(description="pupils riding (agents)")
    capacity: int = Field(description="seats")
    load_factor: Num = Field(description="riders / seats")
    mean_one_way_min: Num = Field(description="riders' mean one-way minutes")


class FamiliesSummary(Block):
    """School travel and families (runs with a ``families`` block)."""

    school_levels: dict[str, SchoolLevelFamilies] = Field(description="per school level")
    households: HouseholdStats | None = Field(default=None, description="households, if built")
    escort: EscortSummary | None = Field(default=None, description="escort time, if households are built")
    school_buses: dict[str, SchoolBusStats] | None = Field(default=None, description="per school bus line")


class RunSummary(Block):
    """Headline results of one run: the contents of ``summary.json``.

    Overall metrics sit at the top level (the same as a :class:`GroupMetrics` entry, see
    :meth:`overall`); ``by_former_unit``, ``by_age_band`` and ``by_island`` repeat them per
    group. Errands that arose in the warm-up are left out.
    """

    model_config = ConfigDict(extra="allow")
    _FLAT: ClassVar[dict[str, tuple[str, str]]] = {"access_by_service": ("access_(.+)", "access_{}")}

    schema_version: int = Field(default=SCHEMA_VERSION, description="layout version of summary.json")
    scenario: str = Field(description="run name (scenario name plus overlays)")
    seed: int = Field(description="base seed of the run")
    days: int = Field(description="simulated days (after the warm-up)")
    transit: TransitSummary | None = Field(default=None, description="bus trips, if a bus mode exists")
    population: Num = Field(description="residents represented (persons)")
    residents_simulated: int = Field(description="resident agents simulated")
    errands: ErrandCounts = Field(description="errand and trip counts")
    errands_completed: int = Field(description="completed errands (agents, unweighted)")
    burden_min: BurdenStats = Field(description="burden per completed errand (min)")
    trips_per_completed_errand: Num = Field(description="trips per completed errand")
    distance_km_per_errand: Num = Field(description="round-trip km per completed errand")
    money_yuan_per_errand: Num = Field(description="fares and fuel per completed errand (yuan)")
    burden_share_over_min: dict[str, Num] = Field(
        description="per threshold in minutes ('15', '30', '60'): share of completed errands above it"
    )
    access_by_service: dict[str, AccessShares] = Field(
        default_factory=dict, description="per service: access time; written as keys access_<service>"
    )
    burden_min_by_service: dict[str, BurdenStats] = Field(
        description="burden per completed errand per service"
    )
    mode_share: dict[str, Num] = Field(description="share of trips per travel mode (fraction)")
    queues_by_kind: dict[str, QueueStats] = Field(description="queues per facility kind")
    school: SchoolStats = Field(description="school places and journeys")
    equity: EquitySummary = Field(description="inequality of burden and access")
    by_former_unit: dict[str, GroupMetrics] = Field(description="per former township")
    by_age_band: dict[str, GroupMetrics] = Field(description="per age band")
    by_island: dict[str, GroupMetrics] = Field(description="'islands' and 'main_island'")
    levers: LeverSummary = Field(description="completed errands by channel")
    access: AccessSummary = Field(description="accessibility indices, life circles, merger-effect cells")
    health: HealthSummary | None = Field(default=None, description="health tiers, if the scenario has them")
    calendar: CalendarSummary | None = Field(default=None, description="the calendar, if the scenario has it")
    families: FamiliesSummary | None = Field(
        default=None, description="school travel, households and escorts, if the scenario has families"
    )
    elderly: ElderlySummary | None = Field(
        default=None, description="impairment, companions and fares, if the scenario has them"
    )
    queue_behaviour: QueueBehaviourSummary | None = Field(
        default=None, description="balked, left and put-off trips, if balking, reneging or day choice is on"
    )

    def overall(self) -> GroupMetrics:
        """The overall metrics as one group entry (as in ``by_former_unit``)."""
        return GroupMetrics(
            population=self.population,
            errands_completed=self.errands_completed,
            burden_min=self.burden_min,
            trips_per_completed_errand=self.trips_per_completed_errand,
            distance_km_per_errand=self.distance_km_per_errand,
            money_yuan_per_errand=self.money_yuan_per_errand,
            burden_share_over_min=self.burden_share_over_min,
            access=self.access_by_service,
        )

    def groups(self, kind: str) -> dict[str, GroupMetrics]:
        """Groups of one kind: ``former_unit``, ``age_band`` or ``island``.

        Raises:
            KeyError: another kind.
        """
        return {
            "former_unit": self.by_former_unit,
            "age_band": self.by_age_band,
            "island": self.by_island,
        }[kind]

    def extra_block(self, name: str) -> Any:
        """A top-level block this version does not declare (kept as read), or None."""
        return (self.model_extra or {}).get(name)


def summary_json(summary: RunSummary) -> str:
    """The text of ``summary.json`` (UTF-8, two-space indent, keys in declaration order)."""
    return json.dumps(summary.to_json_dict(), ensure_ascii=False, indent=2)


def _where(error: Any) -> str:
    return ".".join(str(p) for p in error["loc"]) or "(top level)"


def load_summary(data: object, source: str) -> RunSummary:
    """Validate a parsed ``summary.json`` (``source`` names the file in messages).

    A summary without ``schema_version`` (written before the contract) is read when it
    validates; one from a newer layout is refused.

    Raises:
        SimError: not a run summary this townsim can read (message names ``source`` and the field).
    """
    from sim.errors import SimError

    if not isinstance(data, dict):
        raise SimError(f"{source}: expected a JSON object (a townsim run summary)")
    version = data.get("schema_version")
    if version is not None and (type(version) is not int or not 1 <= version <= SCHEMA_VERSION):
        raise SimError(
            f"{source}: field 'schema_version': expected 1 to {SCHEMA_VERSION} (this townsim's layout), "
            f"got {version!r}; a newer townsim wrote it"
        )
    try:
        return RunSummary.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        missing = [_where(e) for e in errors if e["type"] == "missing"]
        what = (
            f"missing field{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}"
            if missing
            else f"field '{_where(errors[0])}': {errors[0]['msg']}"
        )
        if version is None:
            raise SimError(
                f"{source}: written by an older townsim (no schema_version) in a layout this one cannot "
                f"read: {what}; re-run the scenario"
            ) from None
        raise SimError(f"{source}: {what}") from None
