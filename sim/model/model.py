"""AccessModel: the Mesa model of residents' service trips, one step per day."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import replace

import mesa
import numpy as np

from sim.model.agents import FacilityAgent, Resident
from sim.model.background import Background
from sim.model.calendar import RunCalendar
from sim.model.choice import Choosers, make_choice_rule
from sim.model.choice_setup import prepare_choice_costs
from sim.model.families import build_families
from sim.model.frailty import ChoiceCosts, Frailty
from sim.model.ghosts import GhostPlan, GhostRates
from sim.model.health import HealthSystem
from sim.model.levers import AppointmentDesk, LeverEngine
from sim.model.logs import ColumnLog, ErrandLog, group_quantile
from sim.model.needs import Needs, draw_new_needs, need_cells
from sim.model.population import synthesise_residents
from sim.model.queue import (
    QueueDay,
    ServiceTimes,
    ghost_counts,
    longest_queues,
    queue_order,
    serve_fifo_days,
    serve_impatient_days,
    serve_with_ghosts,
)
from sim.model.queue_behaviour import LEFT_OUTCOMES, QueueBehaviour, left_outcome
from sim.model.schools import assign_schools
from sim.model.streams import Streams
from sim.routing.tables import TravelTables, build_travel_tables
from sim.scenario.load import LoadedScenario
from sim.scenario.schema import WEEKDAYS
from sim.transit.capacity import CapacityDay, fastest_road_mode, take_leg
from sim.transit.plan import BusLeg, plan_home, plan_out
from sim.transit.setup import setup_transit
from sim.transit.tables import BusTables
from sim.world.world import FACILITY_KINDS, World, build_world

__all__ = ["ERRAND_COLUMNS", "FACILITY_DAY_COLUMNS", "OUTCOMES", "TRIP_COLUMNS", "AccessModel"]

OUTCOMES = ("completed", "referred", "turned_away")
_NO_TRANSIT = {  # zeros are not written: a run without transit leaves these columns' pages untouched
    "lines_out": 0,
    "lines_home": 0,
    "stop_wait_min": 0.0,
    "transfer_wait_min": 0.0,
    "no_way_home": False,
}  # transit columns of road trips
RESIDENT_AGENTS_AUTO_LIMIT = 20_000


#: Columns of the trips log (one row per trip on a measured day) and their dtypes.
TRIP_COLUMNS: dict[str, type] = {
    "errand": np.int64,
    "resident": np.int64,
    "service": np.int16,
    "day": np.int32,
    "facility": np.int32,
    "mode": np.int8,
    "departure_min": np.float64,
    "arrival_min": np.float64,
    "wait_min": np.float64,
    "service_min": np.float64,
    "outcome": np.int8,
    "travel_min": np.float64,
    "distance_km": np.float64,
    "money_yuan": np.float64,
    "return_min": np.float64,  # travel home (= travel_min for road modes; not stored without transit)
    "lines_out": np.int32,  # journey label code into model.bus.labels plus one, 0 = none
    "lines_home": np.int32,
    "stop_wait_min": np.float64,  # waits at the first stop, there and back
    "transfer_wait_min": np.float64,  # waits at changes, there and back
    "no_way_home": np.bool_,  # no bus/ferry home that day and no other way: assumed cost recorded
}
#: Columns of the errands log (one row per errand id, written when it ends or at tabulation).
ERRAND_COLUMNS: dict[str, type] = {
    "resident": np.int64,
    "service": np.int16,
    "arise_day": np.int32,
    "last_day": np.int32,
    "trips": np.int16,
    "burden_min": np.float64,
    "distance_km": np.float64,
    "money_yuan": np.float64,
    "channel": np.int8,
    "status": np.int8,  # 0 completed, 1 pending
}
#: Columns of the facility-day log (one row per facility visited on a measured day).
FACILITY_DAY_COLUMNS: dict[str, type] = {
    "day": np.int32,
    "facility": np.int32,
    "arrivals": np.int64,
    "served": np.int64,
    "busy_min": np.float64,  # service minutes, sampled visitors weighted by 1/f
    "wait_sum_min": np.float64,
    "p95_wait_min": np.float64,
}


class AccessModel(mesa.Model):
    """Residents travelling to clinics and service halls; schools by catchment.

    Each step is one day: needs arise (Poisson by age band and service), residents with a
    need choose facility and mode (nearest or logit on generalised cost: round-trip time +
    expected wait + money / value of time), arrive, queue FIFO at c servers within opening
    hours, and end completed, referred (a service point that cannot complete the errand sends
    them to the new seat) or turned away at closing (they retry on a later day). Waits met
    update what residents expect next time.

    A run starts from empty queues and memories with ``simulation.warmup_days`` W days numbered
    -W..-1; measured days are 0, 1, ... Errands arising in the warm-up (``arise_day < 0``) and
    their trips are left out of the metrics, though their trips after day 0 still queue.

    Args:
        loaded: a validated scenario.
        seed: overrides ``simulation.seed``.
        population_scale: scales populations, seats and servers (benchmarks).
        resident_agents: "all" registers every resident as a Mesa agent, "lazy" only those
            asked for via :meth:`resident`; default "all" up to 20,000 residents.
    """

    def __init__(
        self,
        loaded: LoadedScenario,
        *,
        seed: int | None = None,
        population_scale: float = 1.0,
        resident_agents: str | None = None,
        world: World | None = None,
        tables: TravelTables | None = None,
        bus: BusTables | None = None,
    ) -> None:
        sc = loaded.scenario
        self.seed_value = sc.simulation.seed if seed is None else seed
        super().__init__(rng=self.seed_value)
        self.streams = Streams(self.seed_value)  # every draw of the simulation, keyed by entity
        self.loaded = loaded
        self.world = world or build_world(loaded, population_scale=population_scale)
        self.tables = tables or build_travel_tables(self.world, sc.modes)
        self._setup_transit(bus)
        self.behaviour = sc.behaviour
        self.prior_wait_min = sc.behaviour.prior_wait_min
        self.choice_rule = make_choice_rule(sc.behaviour)
        self.warmup_days = sc.simulation.warmup_days
        self.day = -self.warmup_days  # warm-up days are -W..-1; measured days 0, 1, ...
        self.start_weekday = WEEKDAYS.index(sc.simulation.start_weekday)
        self._setup_population()
        self._setup_schools()
        daily = self._setup_demand()
        self._setup_choice_costs()
        self._setup_service()
        self._setup_logs(daily)
        self._setup_agents(resident_agents)

    # -- setup ---------------------------------------------------------------------------
    def _setup_transit(self, bus: BusTables | None) -> None:
        """Bus tables, the bus mode, bus feasibility per kind of day and vehicle capacity
        (sim/transit/setup.py); without ``transit:`` no bus (mode -1) and no capacity."""
        self.bus: BusTables | None = None
        self._bus_mode = -1
        self.load_log: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []  # day, trip, board, alight
        self.capacity: CapacityDay | None = None  # vehicle capacity enforced (transit.capacity)
        transit = setup_transit(self.loaded, self.world, self.tables, bus)
        if transit is not None:
            self.bus, self.tables, self._bus_mode = transit.bus, transit.tables, transit.bus_mode
            # weekday -> day kind; (day kinds, villages, facilities) feasible
            self._bus_day_kind, self._bus_feasible = transit.day_kind, transit.feasible
            self.capacity = transit.capacity
        self._gave_up_out: tuple[np.ndarray, np.ndarray] | None = None
        self._riders_today = np.zeros(0, np.int64)

    def _setup_population(self) -> None:
        """Residents (with the bus as everyone's mode under transit), their sample weight and the
        run calendar (dated days: ferry suspensions, holidays, Spring Festival returns)."""
        sc = self.loaded.scenario
        self.residents = synthesise_residents(
            self.world, self.streams, modes=sc.modes, sample_fraction=sc.simulation.sample_fraction
        )
        if self.bus is not None:  # everyone may take the bus (walk + bus + walk)
            owns = self.residents.owns
            self.residents.owns = np.vstack([owns, np.ones((1, owns.shape[1]), dtype=bool)])
        self.sample_weight = 1.0 / sc.simulation.sample_fraction
        self.calendar = (
            None
            if sc.calendar is None
            else RunCalendar(
                sc.calendar,
                first_day=-self.warmup_days,
                days=self.warmup_days + sc.simulation.days,
                world=self.world,
                resident_key=self.residents.key,
                resident_village=self.residents.village,
                streams=self.streams,
                file=self.loaded.origin("calendar"),
            )
        )

    def _setup_schools(self) -> None:
        """Pupils' schools by catchment and, with ``families:``, households, escorts, boarding and
        teaching points (sim/model/families.py; the schools then have the teaching points applied)."""
        sc = self.loaded.scenario
        self.schools = assign_schools(
            self.world, sc.schools.levels, self.residents, self.tables, self.streams
        )
        self.families = (
            None
            if sc.families is None
            else build_families(
                sc.families,
                world=self.world,
                residents=self.residents,
                schools=self.schools,
                levels=list(sc.schools.levels),
                modes=list(self.tables.modes),
                road_km=self.tables.distance_km[self.tables.modes.index("walk")],
                school_days_per_week=len(sc.schools.days),
                streams=self.streams,
                file=self.loaded.origin("families"),
            )
        )
        if self.families is not None:
            self.schools = self.families.schools  # teaching points applied

    def _setup_demand(self) -> float:
        """Age-band members, need cells (daily rates), jurisdictions and referral targets (with
        ``health:``, the health system and its referral to the next tier); returns the expected
        new errands a day."""
        sc = self.loaded.scenario
        self._band_members = [
            np.flatnonzero(self.residents.band == b) for b in range(len(self.world.age_bands))
        ]
        rates = np.array(
            [
                [svc.rate_per_person_year.get(b, 0.0) for b in self.world.age_bands]
                for svc in sc.services.values()
            ]
        )
        self._need_cells = need_cells(
            self._band_members, rates / 365.0, self.world.services, self.world.age_bands
        )
        self._jurisdiction = np.array([svc.jurisdiction for svc in sc.services.values()])
        self._referral = self.world.referral_target()
        self.health = HealthSystem(sc.health, self.world, self.streams) if sc.health is not None else None
        if self.health is not None:  # referral to the next tier (sim/model/health.py)
            self._referral = self.health.referral_targets(self.world, self._referral)
        sizes = np.array([len(m) for m in self._band_members])
        return float((rates / 365.0 * sizes[None, :]).sum())

    def _setup_choice_costs(self) -> None:
        """Frailty (impairment, companions, fares; sim/model/frailty.py), the static choice costs and
        ownership patterns (sim/model/choice_setup.py) and the caches of choice tables."""
        sc = self.loaded.scenario
        self._walk_mode = self.tables.modes.index("walk")
        self.frailty: Frailty | None = (
            None
            if sc.elderly is None
            else Frailty(sc.elderly, self.world.age_bands, self.residents, self.streams, self.sample_weight)
        )
        costs = prepare_choice_costs(
            self.tables,
            self.residents.owns,
            value_of_time_yuan_per_h=sc.behaviour.value_of_time_yuan_per_h,
            walk=self._walk_mode,
            bus=self._bus_mode,
            health=self.health,
            frailty=self.frailty,
        )
        self._static_cost = costs.static_cost  # (modes, villages, facilities)
        self._owns_pattern, self._owns_table = costs.owns_pattern, costs.owns_table
        self._choice_costs: ChoiceCosts | None = costs.choice_costs
        self._prepared: dict[int, object] = {}  # choice tables per bus day kind (-1: no transit)
        self._finished = False  # see finish()
        self._eligible_tables: dict[tuple[int, bytes], tuple[np.ndarray, int]] = {}
        self._village = self.residents.village.astype(np.int64)

    def _setup_service(self) -> None:
        """Service times, ghost rates of a sampled run, levers, the appointment desk and how the day's
        queues are served (balking, reneging, day choice)."""
        sc = self.loaded.scenario
        self._service_times = ServiceTimes(self.world.fac_service_time)
        self._receiving = self.world.fac_receives_visitors
        fraction = sc.simulation.sample_fraction
        self._ghost_rates = (
            GhostRates(self.world.fac_kind, len(FACILITY_KINDS), fraction) if fraction < 1 else None
        )
        self.levers = LeverEngine(
            sc.levers,
            self.world,
            self.tables,
            self.streams,
            band=self.residents.band,
            village=self.residents.village,
            new_unit=self.residents.new_unit,
            weight=1.0 / sc.simulation.sample_fraction,
            proxy_origin=self.loaded.origin("levers.proxy.services"),
        )
        self.appointments = AppointmentDesk(  # also queues the proxy agents' batches of the day
            sc.levers.appointments, self.world, self.streams, agents=self.levers.agents_today
        )
        # all of a day's plain FIFO queues in one pass; facility by facility with ghosts, bookings
        # or proxy agents' batches (the desk queues those)
        self.batch_queues = (
            self.sample_weight == 1.0 and self.appointments.spec is None and sc.levers.proxy is None
        )
        self.queue_behaviour = self._queue_behaviour(self.loaded)
        self._left: np.ndarray | None = None  # per visitor of the day's queues: stayed, balked, reneged
        self._remembered: np.ndarray | None = None  # per visitor: the wait remembered (a balker's expected)

    def _setup_logs(self, daily: float) -> None:
        """Pending errands, the trip, errand and facility-day logs (sized for ``daily`` expected new
        errands a day) and the day's counters."""
        days = self.loaded.scenario.simulation.days
        self._next_errand = 0
        self.pending = Needs.empty()
        rows = int(1.5 * daily * (self.warmup_days + days)) + 1024  # virtual until written
        # the logs are written, and the next day's needs drawn, on a background thread (background.py)
        self._background = Background()
        self._ahead: dict[int, Future[tuple[np.ndarray, ...]]] = {}  # day -> its new needs, drawn ahead
        sync = self._background.wait
        self.trip_log = ColumnLog(TRIP_COLUMNS, rows, sync=sync)  # trips of measured days
        self.errand_log = ErrandLog(ERRAND_COLUMNS, rows, sync=sync)  # errands by id, written as they end
        self.facility_day_log = ColumnLog(FACILITY_DAY_COLUMNS, 64 * days, sync=sync)
        self._errands_done = 0
        self.facility_log: list[
            tuple[np.ndarray, np.ndarray, np.ndarray]
        ] = []  # day, facility, longest queue
        self.facility_served_today = np.zeros(len(self.world.fac_ids), dtype=np.int64)
        self.today: dict[str, float] = {}
        self._mean_wait_today = 0.0

    def _setup_agents(self, resident_agents: str | None) -> None:
        """Mesa agents (facilities, then residents: all, or lazily up to the auto limit) and the
        DataCollector of the day's totals."""
        self.facility_agents = [FacilityAgent(self, i) for i in range(len(self.world.fac_ids))]
        self._resident_agents: dict[int, Resident] = {}
        mode = resident_agents or ("all" if len(self.residents) <= RESIDENT_AGENTS_AUTO_LIMIT else "lazy")
        if mode == "all":
            for row in range(len(self.residents)):
                self.resident(row)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                key: (lambda m, k=key: m.today.get(k, 0.0))
                for key in (
                    "day",
                    "new_needs",
                    "trips",
                    "completed",
                    "referred",
                    "turned_away",
                    "postponed",
                    "pending",
                    "mean_wait_min",
                    "by_lever",
                )
            }
        )

    # -- agents --------------------------------------------------------------------------
    def resident(self, row: int) -> Resident:
        """The Mesa agent of resident ``row`` (created and registered on first use)."""
        agent = self._resident_agents.get(row)
        if agent is None:
            if not 0 <= row < len(self.residents):
                raise IndexError(f"resident row {row} out of range 0..{len(self.residents) - 1}")
            agent = Resident(self, row)
            self._resident_agents[row] = agent
        return agent

    def _queue_behaviour(self, loaded: LoadedScenario) -> QueueBehaviour | None:
        """Balking, reneging and day choice (None when all are off: queues as without them).
        Their references are checked with the scenario (sim/scenario/queue_checks.py)."""
        b = loaded.scenario.behaviour
        if b.balking is None and b.reneging is None and b.day_choice is None:
            return None
        return QueueBehaviour(b, self.world, self.streams, list(self.world.services))

    def outcome_labels(self) -> list[str]:
        """Labels of the trip outcome codes: completed, referred, turned_away, and with balking or
        reneging on, balked and left (reneged)."""
        impatient = self.queue_behaviour is not None and self.queue_behaviour.impatient
        return [*OUTCOMES, *(LEFT_OUTCOMES if impatient else ())]

    # -- one day -------------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one day."""
        if self._finished:
            raise RuntimeError("AccessModel.step: the run was finished (finish() dropped its daily tables)")
        day = self.day
        weekday = (self.start_weekday + day) % 7
        ahead = self._ahead.pop(day, None)  # drawn on the background thread while the day before ran
        who, service, key, u_informed = ahead.result() if ahead is not None else self._new_needs(day)
        self._ahead[day + 1] = self._background.submit(self._new_needs, day + 1)
        if self.calendar is not None:  # registered residents away from home raise no errands
            home = self.calendar.present(day, who)
            who, service, key, u_informed = who[home], service[home], key[home], u_informed[home]
        errand = np.arange(self._next_errand, self._next_errand + len(who))
        self._next_errand += len(who)
        informed = u_informed < self.behaviour.knows_service_scope
        fresh = Needs.new(errand, key, who, service, day, day, informed)  # all due today (next_day = day)
        due = self.pending.next_day <= day
        acting = Needs.gather([(self.pending, np.flatnonzero(due)), (fresh, None)])
        waiting = self.pending.take(~due)
        n_by_lever = 0
        if self.levers.active:  # online, proxy and mobile service take what they cover
            lever_day = self.levers.apply(acting, day, weekday)
            by_lever, acting = lever_day.done, lever_day.rest
            waiting = Needs.concat([waiting, lever_day.held])
            self._record_errands(by_lever, np.arange(len(by_lever)))
            n_by_lever = len(by_lever)
        outcome, postponed = self._travel(acting, day, weekday)
        finished = outcome == 0
        self._record_errands(acting, np.flatnonzero(finished))
        self.pending = Needs.gather([(waiting, None), (acting, np.flatnonzero(~finished))])
        self.today = {
            "day": day,
            "new_needs": len(fresh),
            "trips": int(np.sum(outcome >= 0)),
            "completed": int(np.sum(outcome == 0)),
            "referred": int(np.sum(outcome == 1)),
            "turned_away": int(np.sum(outcome == 2)),
            "postponed": int(postponed),
            "pending": len(self.pending),
            "mean_wait_min": self._mean_wait_today,
            "by_lever": n_by_lever,
        }
        self.datacollector.collect(self)
        self.day += 1

    def _new_needs(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """New needs of ``day`` (resident rows, services, errand keys) and the uniform of each errand
        that decides whether its resident knows which facilities complete it."""
        who, service, key = draw_new_needs(self.streams, self._need_cells, day)
        return who, service, key, self.streams.uniform("errand.informed", key)

    def _record_errands(self, needs: Needs, rows: np.ndarray, status: int = 0) -> None:
        """Write errands ``needs[rows]`` (row indices) to the errands log (status 0 completed, 1 pending)."""
        ids = needs.errand.take(rows)
        fields = {k: getattr(needs, k).take(rows) for k in ERRAND_COLUMNS if k != "status"}
        self._background.submit(self.errand_log.put, ids, status=status, **fields)
        if status == 0:
            self._errands_done += len(ids)

    def errand_columns(self) -> dict[str, np.ndarray]:
        """The errands log with today's pending errands written as pending: one row per errand id."""
        self._record_errands(self.pending, np.arange(len(self.pending)), status=1)
        cols = self.errand_log.columns()
        n = self._next_errand
        if self._errands_done + len(self.pending) != n or len(cols["resident"]) != n:
            raise ValueError(
                f"errands log: {self._errands_done} completed + {len(self.pending)} pending, "
                f"expected {n} errands (ids 0..n-1, each once)"
            )
        return cols

    def finish(self) -> None:
        """Drop what only the daily steps use, the choice rule's tables and the bus journeys (a
        finished run's tables and summary read the logs, the timetable and the line labels); the
        model takes no further step."""
        self._prepared = {}
        self._finished = True
        self._ahead = {}
        self._background.close()  # the logs complete; later writes go in line
        if self.bus is not None:
            self.bus = self.bus.without_journeys()
            if self.capacity is not None:
                self.capacity.bus = self.bus

    def trip_columns(self) -> dict[str, np.ndarray]:
        """The trips log of the measured days, one array per column (see :meth:`trip_rows`)."""
        return self.trip_rows(0, len(self.trip_log))

    def trip_rows(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Rows ``start`` to ``stop - 1`` of the trips log (logged already: see ``ColumnLog.rows``), one
        array per column; without transit ``return_min`` is ``travel_min`` (road trips come home the
        same way; the log does not store it twice)."""
        cols = self.trip_log.rows(start, stop)
        if self.bus is None:
            cols["return_min"] = cols["travel_min"]
        return cols

    def run(self, days: int | None = None, *, progress: Iterable[int] | None = None) -> None:
        """Run the warm-up if not yet run, then ``days`` steps (default: ``simulation.days``)."""
        n = self.loaded.scenario.simulation.days if days is None else days
        while self.day < 0:
            self.step()
        for _ in progress if progress is not None else range(n):
            self.step()

    def _choice_tables(self, weekday: int) -> object:
        """The choice rule's tables for today's bus pattern and hours (built on first use, then cached)."""
        kind = -1 if self.bus is None else int(self._bus_day_kind[weekday])
        prepared = self._prepared.get(kind)
        if prepared is None:
            static, owns, bus_rows = self._static_cost, self._owns_table, [self._bus_mode]
            if self._choice_costs is not None:  # cost groups of the frail elderly and fare discounts
                cc = self._choice_costs
                static, owns, bus_rows = cc.static_min, cc.owns, cc.bus_rows.tolist()
            if self.bus is not None:  # the bus is no alternative where no journey arrives in time
                static = static.copy()
                for m in bus_rows:
                    static[m] = np.where(self._bus_feasible[kind], static[m], np.inf)
            prepared = self.choice_rule.prepare(static, owns, self.prior_wait_min)
            self._prepared[kind] = prepared
        return prepared

    def _eligibility(self, s: int, cand: np.ndarray) -> tuple[np.ndarray, int]:
        """Which candidates a chooser for service ``s`` may pick, by (informed, new unit): a (C,
        2 x units) bool table, column ``informed * units + unit``, and units (1 without jurisdiction).

        An informed resident picks only facilities that complete the errand; jurisdiction errands
        stay in the resident's own (new) unit. Cached per service and candidate set.
        """
        key = (s, cand.tobytes())
        hit = self._eligible_tables.get(key)
        if hit is None:
            w = self.world
            units = int(w.unit_new.max()) + 1 if self._jurisdiction[s] and len(w.unit_new) else 1
            in_unit = (
                w.fac_new_unit[cand][:, None] == np.arange(units)[None, :]
                if units > 1
                else np.ones((len(cand), 1), dtype=bool)
            )
            completes = w.fac_completes[cand, s][:, None]
            hit = (np.hstack([in_unit, in_unit & completes]), units)
            self._eligible_tables[key] = hit
        return hit

    def _choose(self, needs: Needs, weekday: int) -> tuple[np.ndarray, np.ndarray]:
        """Facility and mode per need (-1 where no eligible facility is open today).

        Eligible: open today, has servers, completes the errand (or, for residents who do not
        know a service point's scope, belongs to the errand's group), in the resident's own
        unit for jurisdiction errands, or the facility a referral named. The choice uniform is
        keyed by (errand, trip number).
        """
        w, res = self.world, self.residents
        fac_out = np.full(len(needs), -1, dtype=np.int64)
        mode_out = np.full(len(needs), -1, dtype=np.int64)
        open_today = w.fac_days[:, weekday] & (w.fac_servers > 0)
        closed = None if self.calendar is None else self.calendar.closed_today(self.day, w.fac_kind)
        if closed is not None:  # public holiday
            open_today &= ~closed
        prepared = self._choice_tables(weekday)
        u = self.streams.uniform("trip.choice", needs.key, needs.trips)
        for s in np.unique(needs.service):
            rows = np.flatnonzero(needs.service == s)
            g = w.service_group[s]
            cand = np.flatnonzero(w.fac_in_group[:, g] & open_today)
            if len(cand) == 0:
                continue
            r = needs.resident[rows]
            table, units = self._eligibility(int(s), cand)
            column = needs.informed[rows] * units + (res.new_unit[r] if units > 1 else 0)
            who = Choosers(  # eligibility: the table's column, or the facility a referral names
                village=self._village[r],
                pattern=(self._owns_pattern if self._choice_costs is None else self._choice_costs.pattern)[r],
                cand=cand,
                eligible=None,
                mem_fac=res.mem_fac[g][r],
                mem_wait=res.mem_wait[g][r],
                u=u[rows],
                table=table,
                column=column,
                forced=needs.forced_fac[rows],
            )
            if self.calendar is not None and self.calendar.is_suspended(self.day):  # nothing across water
                eligible = who.eligible_of()
                self.calendar.hold_crossings(self.day, eligible, cand, self._village[r])
                who = replace(who, eligible=eligible)
            fac_out[rows], mode_out[rows] = self.choice_rule.choose(prepared, who)
        if self._choice_costs is not None:  # a cost group's copy of a mode is that mode
            mode_out = np.where(mode_out >= 0, self._choice_costs.real_mode[np.maximum(mode_out, 0)], -1)
        return fac_out, mode_out

    def _travel(self, needs: Needs, day: int, weekday: int) -> tuple[np.ndarray, int]:
        """Choose, travel, queue. Updates ``needs`` in place.

        Returns:
            outcome per need (0 completed, 1 referred, 2 turned away, -1 no trip today) and the
            number of needs postponed because no eligible facility was open.
        """
        w, res, tab = self.world, self.residents, self.tables
        n = len(needs)
        outcome = np.full(n, -1, dtype=np.int8)
        self.facility_served_today[:] = 0
        self._mean_wait_today = 0.0
        if n == 0:
            return outcome, 0
        r = needs.resident
        s = needs.service.astype(np.int64)
        g = w.service_group[s]
        fac_all, mode_all = self._choose(needs, weekday)
        qb = self.queue_behaviour
        if qb is not None and qb.day_choice is not None:  # errands that can wait go another day
            later = qb.defer(needs.errand, needs.key, s, needs.trips, fac_all, weekday, measured=day >= 0)
            needs.next_day[later > 0] = day + later[later > 0]
            fac_all = np.where(later > 0, -2, fac_all)  # -2: deferred, not postponed
        go = np.flatnonzero(fac_all >= 0)
        stay = np.flatnonzero(fac_all == -1)
        needs.next_day[stay] = day + 1
        if len(go) == 0:
            return outcome, len(stay)
        fac = fac_all[go]
        mode = mode_all[go]
        vg = res.village[r[go]]
        _, n_villages, n_fac = tab.time_min.shape
        cell = (mode * n_villages + vg) * n_fac + fac  # flat (mode, village, facility) index
        travel, dist, money = (np.take(t, cell) for t in (tab.time_min, tab.distance_km, tab.money_yuan))
        if self.frailty is not None:  # the impaired walk slower
            travel = self.frailty.walk_min(travel, mode, r[go], self._walk_mode)
        key, trip_no = needs.key[go], needs.trips[go]
        arrival = self._arrival_min(fac, weekday, self.streams.normal("trip.arrival", key, trip_no))
        departure = arrival - travel
        is_bus = mode == self._bus_mode
        bus_out: BusLeg | None = None
        if self.bus is not None and is_bus.any():
            pattern = int(self.bus.weekday_pattern[weekday])
            bus_out = plan_out(self.bus, pattern, fac[is_bus], vg[is_bus], arrival[is_bus])
            travel, dist, money = travel.copy(), dist.copy(), money.copy()
            if self.capacity is not None:  # vehicles fill up: wait for the next run or go another way
                trip = (travel, dist, money, arrival, departure)
                bus_out = self._capacity_out(day, pattern, bus_out, is_bus, mode, r[go], vg, fac, trip)
            arrival[is_bus] = bus_out.arr_min
            departure[is_bus] = bus_out.dep_min
            travel[is_bus] = bus_out.travel_min
            dist[is_bus] = bus_out.km
            money[is_bus] = bus_out.fare_yuan

        completes = w.fac_completes[fac, s[go]]
        wait, served, service_min, came = self._queue(
            day, weekday, fac, arrival, completes, key, trip_no, ~is_bus, care=s[go]
        )
        departure += came - arrival  # a booked visitor leaves home for the slot
        arrival = came
        self._mean_wait_today = float(wait.mean())
        out = np.where(served, np.where(completes, 0, 1), 2).astype(np.int8)
        remembered = wait
        if qb is not None:  # balked or left the queue: recorded as such; a balker remembers the wait seen
            out = left_outcome(out, self._left)
            remembered = wait if self._remembered is None else self._remembered
            qb.remember_day(fac, remembered, weekday)
        next_service = s[go]  # the errand's service from tomorrow (an upward referral raises it)
        if self.health is not None:
            out, next_service = self.health.refer(out, fac, next_service, key, trip_no)
            needs.service[go] = next_service
        outcome[go] = out
        needs.trips[go] += 1
        needs.last_day[go] = day
        ret = travel
        trip_money = 2 * money
        extra = self._bus_day(
            day,
            weekday,
            is_bus,
            bus_out,
            fac,
            vg,
            arrival + wait + service_min,
            travel=travel,
            dist=dist,
            money=money,
        )
        if self._gave_up_out is not None:  # home by the road mode taken instead of the bus
            assert extra is not None
            extra["return_min"][self._gave_up_out[0]] = self._gave_up_out[1]
            self._gave_up_out = None
        if self.frailty is not None and extra is not None:  # fare concessions by age band
            extra["money_yuan"] = self.frailty.pay(day, extra["money_yuan"], extra["fare_yuan"], r[go])
        if extra is None:
            needs.burden_min[go] += 2 * travel + wait
            needs.distance_km[go] += 2 * dist
            needs.money_yuan[go] += trip_money
        else:
            ret, trip_money, trip_km = extra["return_min"], extra["money_yuan"], extra["distance_km"]
            needs.burden_min[go] += travel + wait + ret
            needs.distance_km[go] += trip_km
            needs.money_yuan[go] += trip_money
        if self.frailty is not None:  # companions' time: there, the wait and home
            self.frailty.accompany(day, r[go], travel + wait + ret)
        referred = go[out == 1]
        needs.forced_fac[referred] = self._referral[res.new_unit[r[referred]], next_service[out == 1]]
        needs.informed[referred] = True
        needs.next_day[go] = np.where(out == 1, day + 1, day + self.behaviour.retry_after_days)
        lost = referred[needs.forced_fac[referred] < 0]
        needs.forced_fac[lost] = -1  # no facility in the unit completes it: free choice again

        slot = g[go] * len(res) + r[go]  # flat (service group, resident) index into the memories
        base = np.where(np.take(res.mem_fac, slot) == fac, np.take(res.mem_wait, slot), self.prior_wait_min)
        memory = self.behaviour.wait_memory
        np.put(res.mem_wait, slot, (1 - memory) * base + memory * remembered)
        np.put(res.mem_fac, slot, fac)

        if day >= 0:  # warm-up days keep queues and memories going but are not recorded
            self._background.submit(self._log_facility_day, day, fac, wait, served, service_min)
            self._background.submit(
                self.trip_log.append,
                errand=needs.errand[go],
                resident=r[go],
                service=s[go],
                day=day,
                facility=fac,
                mode=mode,
                departure_min=departure,
                arrival_min=arrival,
                wait_min=wait,
                service_min=service_min,
                outcome=out,
                travel_min=travel,
                distance_km=dist,
                money_yuan=trip_money,
                return_min=0.0 if extra is None else ret,  # see trip_columns()
                **(_NO_TRANSIT if extra is None else {k: extra[k] for k in _NO_TRANSIT}),
            )
        return outcome, len(stay)

    def _arrival_min(self, fac: np.ndarray, weekday: int, z: np.ndarray) -> np.ndarray:
        """Desired arrival (min after midnight): |N(mean, sd)| after opening from normal scores ``z``,
        no later than the last arrival time."""
        w, b = self.world, self.behaviour
        open_m = w.fac_open_wd[fac, weekday]
        latest = np.maximum(w.fac_close_wd[fac, weekday] - b.latest_arrival_before_close_min, open_m)
        return np.minimum(open_m + np.abs(b.arrival_after_open_min + b.arrival_sd_min * z), latest)

    def _service_min(
        self, f: int, u: np.ndarray, completes: np.ndarray, care: np.ndarray | None = None
    ) -> np.ndarray:
        """Service minutes at facility ``f`` from uniforms; a short referral where it cannot complete.
        ``care``: the visitors' services, for the health tiers' care-specific times (None: ghosts)."""
        return self._service_min_at(np.full(len(u), f), u, completes, care)

    def _service_min_at(
        self, fac: np.ndarray, u: np.ndarray, completes: np.ndarray, care: np.ndarray | None = None
    ) -> np.ndarray:
        """:meth:`_service_min` of visitors at several facilities ``fac``."""
        minutes = self._service_times.draw(fac, u)
        if self.health is not None and care is not None:
            minutes = self.health.service_min(care, u, minutes)
        return np.where(completes, minutes, self.behaviour.referral_min)

    def _queue(
        self,
        day: int,
        weekday: int,
        fac: np.ndarray,
        arrival: np.ndarray,
        completes: np.ndarray,
        key: np.ndarray,
        trip_no: np.ndarray,
        can_book: np.ndarray,
        care: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The day's queues at every facility visited (FIFO, or booked slots with the appointments
        lever); logs the longest queue per facility.

        With a sample fraction f < 1, ghost arrivals stand for the unsampled residents (see
        :meth:`_ghosts`, :meth:`_ghost_copies`); only sampled visitors are returned.

        Returns:
            per visitor: wait (min), served (bool), service minutes (0 if not served) and the
            time they came (a booked slot, else the desired arrival).
        """
        w = self.world
        n = len(fac)
        u_service = self.streams.uniform("trip.service", key, trip_no)
        if self.batch_queues:
            service = self._service_min_at(fac, u_service, completes, care)
            return self._queue_fifo(day, weekday, fac, arrival, service, key, trip_no)
        impatient = self.queue_behaviour is not None and self.queue_behaviour.impatient
        self._left = np.zeros(n, dtype=np.int8) if impatient else None
        self._remembered = np.empty(n) if impatient else None
        wait = np.empty(n)
        served = np.empty(n, dtype=bool)
        service_min = np.zeros(n)
        came = arrival.copy()
        order = queue_order(fac, arrival)
        starts = np.flatnonzero(np.r_[True, np.diff(fac[order]) != 0])
        visited = fac[order[starts]]
        bounds = np.r_[starts, n]
        facilities = visited
        rates = self._ghost_rates
        if rates is not None:  # ghosts also come where no sampled resident went today
            receiving = self._receiving & w.fac_days[:, weekday]
            closed = None if self.calendar is None else self.calendar.closed_today(day, w.fac_kind)
            if closed is not None:  # no ghosts at facilities closed for a public holiday
                receiving &= ~closed
            facilities = np.union1d(visited, np.flatnonzero(receiving))
            first = trip_no == 0
            plan = rates.plan(weekday, receiving, fac[first], completes[first])
        position = np.searchsorted(visited, facilities)
        longest = np.zeros(len(facilities), dtype=np.int32)
        no_ghosts = (np.zeros(0), np.zeros(0))
        for k, f in enumerate(facilities.tolist()):
            p = position[k]
            idx = order[bounds[p] : bounds[p + 1]] if p < len(visited) and visited[p] == f else order[:0]
            svc = self._service_min(f, u_service[idx], completes[idx], None if care is None else care[idx])
            if rates is not None:
                fresh = self._ghosts(day, weekday, f, plan)
                again = self._ghost_copies(f, weekday, idx[trip_no[idx] > 0], key, trip_no, completes)
                g_arrival, g_service, g_key = (
                    np.concatenate(pair) for pair in zip(fresh, again, strict=True)
                )
                all_key = np.concatenate([key[idx], g_key])
                all_trip = np.concatenate([trip_no[idx], np.zeros(len(g_key), trip_no.dtype)])
                all_book = np.concatenate([can_book[idx], np.ones(len(g_key), bool)])
            else:
                g_arrival, g_service = no_ghosts
                all_key, all_trip, all_book = key[idx], trip_no[idx], can_book[idx]

            def serve(
                pos: np.ndarray,
                a: np.ndarray,
                sv: np.ndarray,
                f: int = f,
                key_: np.ndarray = all_key,
                trip_: np.ndarray = all_trip,
                book_: np.ndarray = all_book,
            ) -> tuple[QueueDay, np.ndarray]:
                if impatient:  # no bookings or agents' batches here (refused with balking, reneging)
                    return self._serve_impatient(f, weekday, a, sv, key_[pos], trip_[pos]), a
                return self.appointments.serve(
                    f,
                    a,
                    sv,
                    key_[pos],
                    trip_[pos],
                    book_[pos],
                    servers=int(w.fac_servers[f]),
                    open_min=w.fac_open_wd[f, weekday],
                    close_min=w.fac_close_wd[f, weekday],
                )

            q, came[idx], longest[k] = serve_with_ghosts(arrival[idx], svc, g_arrival, g_service, serve)
            if self._left is not None and self._remembered is not None and q.left is not None:
                self._left[idx] = q.left
                self._remembered[idx] = QueueBehaviour.remembered_wait(q)
            wait[idx] = q.wait_min
            served[idx] = q.served
            service_min[idx] = np.where(q.served, svc, 0.0)
            self.facility_served_today[f] = int(q.served.sum())
        self.facility_log.append(
            (np.full(len(facilities), day, dtype=np.int32), facilities.astype(np.int32), longest)
        )
        return wait, served, service_min, came

    def _serve_impatient(
        self,
        f: int,
        weekday: int,
        arrival: np.ndarray,
        service: np.ndarray,
        key: np.ndarray,
        trip_no: np.ndarray,
    ) -> QueueDay:
        """One facility-day's FIFO queue with balking and reneging (visitors sorted by arrival)."""
        w, qb = self.world, self.queue_behaviour
        assert qb is not None
        fac = np.full(len(arrival), f)
        return serve_impatient_days(
            arrival,
            service,
            np.array([0, len(arrival)]),
            qb.impatience(fac, key, trip_no, fac[:1] if len(fac) else np.array([f])),
            servers=w.fac_servers[[f]],
            open_min=w.fac_open_wd[[f], weekday],
            close_min=w.fac_close_wd[[f], weekday],
        )

    def _queue_fifo(
        self,
        day: int,
        weekday: int,
        fac: np.ndarray,
        arrival: np.ndarray,
        service: np.ndarray,
        key: np.ndarray,
        trip_no: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_queue` of a full population without appointments: every facility-day's FIFO
        queue in one pass (:func:`serve_fifo_days`, or :func:`serve_impatient_days` with balking
        or reneging). Same outcome as queue by queue."""
        w, qb = self.world, self.queue_behaviour
        order = queue_order(fac, arrival)
        fac_sorted = fac[order]
        first = np.flatnonzero(np.r_[True, fac_sorted[1:] != fac_sorted[:-1]]) if len(fac) else fac[:0]
        visited = fac_sorted[first]
        bounds = np.r_[first, len(fac)]
        a, svc = arrival[order], service[order]
        hours = {
            "servers": w.fac_servers[visited],
            "open_min": w.fac_open_wd[visited, weekday],
            "close_min": w.fac_close_wd[visited, weekday],
        }
        if qb is not None and qb.impatient:
            imp = qb.impatience(fac_sorted, key[order], trip_no[order], visited)
            q = serve_impatient_days(a, svc, bounds, imp, **hours)
        else:
            q = serve_fifo_days(a, svc, bounds, **hours)
        wait, served, service_min = np.empty(len(fac)), np.empty(len(fac), dtype=bool), np.empty(len(fac))
        wait[order], served[order] = q.wait_min, q.served
        if q.left is not None:
            self._left, self._remembered = np.empty(len(fac), dtype=np.int8), np.empty(len(fac))
            self._left[order], self._remembered[order] = q.left, QueueBehaviour.remembered_wait(q)
        service_min[order] = np.where(q.served, svc, 0.0)
        self.facility_served_today[visited] = np.add.reduceat(q.served, first) if len(first) else 0
        longest = longest_queues(a, q.start_min, bounds).astype(np.int32)
        day_col = np.full(len(visited), day, dtype=np.int32)
        self.facility_log.append((day_col, visited.astype(np.int32), longest))
        return wait, served, service_min, arrival.copy()

    def _ghosts(
        self, day: int, weekday: int, f: int, plan: GhostPlan
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrival and service minutes of ghost first trips standing for the unsampled residents.

        Their number follows the day's plan (see :mod:`sim.model.ghosts`: the full population's
        mean and variance of arrivals, estimated from the sampled arrivals of past days).
        Replicating today's sampled visitors instead would multiply the day-to-day variance of
        the load by 1/f and, queues being convex, bias waits upward. Ghosts draw arrival time,
        service time and whether the facility completes their errand (its share among sampled
        first trips) afresh, keyed by (day, facility, ghost number). Returns arrival and service
        minutes and ghost keys.
        """
        u = self.streams.uniform("ghost.count", day, f, np.arange(2))
        n = plan.count(f, float(u[1]), float(u[0]))
        j = np.arange(n)
        arrival = self._arrival_min(np.full(n, f), weekday, self.streams.normal("ghost.arrival", day, f, j))
        complete = self.streams.uniform("ghost.completes", day, f, j) < plan.complete[f]
        service = self._service_min(f, self.streams.uniform("ghost.service", day, f, j), complete)
        return arrival, service, self.streams.key("ghost", day, f, j)

    def _ghost_copies(
        self,
        f: int,
        weekday: int,
        idx: np.ndarray,
        key: np.ndarray,
        trip_no: np.ndarray,
        completes: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ghosts of repeat trips (after being turned away or referred): each sampled repeat visitor
        brings 1/f - 1 on average (see :func:`ghost_counts`), so the return of yesterday's crowd,
        which depends on the queue's state, reaches the queue the same day as in a full run.
        Arrival and service times are drawn afresh, keyed by (errand, trip, ghost number).
        """
        count = ghost_counts(self.sample_weight, self.streams.uniform("ghost.count", key[idx], trip_no[idx]))
        owner = np.repeat(idx, count)
        j = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
        z = self.streams.normal("ghost.arrival", key[owner], trip_no[owner], j)
        arrival = self._arrival_min(np.full(len(owner), f), weekday, z)
        u = self.streams.uniform("ghost.service", key[owner], trip_no[owner], j)
        ghost_key = self.streams.key("ghost.copy", key[owner], trip_no[owner], j)
        return arrival, self._service_min(f, u, completes[owner]), ghost_key

    def _log_facility_day(
        self, day: int, fac: np.ndarray, wait: np.ndarray, served: np.ndarray, service_min: np.ndarray
    ) -> None:
        """Per facility visited today: arrivals, served, busy minutes, summed and 95th-percentile wait."""
        n_fac = len(self.world.fac_ids)
        arrivals = np.bincount(fac, minlength=n_fac)
        seen = np.flatnonzero(arrivals)
        self.facility_day_log.append(
            day=day,
            facility=seen,
            arrivals=arrivals[seen],
            served=np.bincount(fac, weights=served, minlength=n_fac)[seen],
            busy_min=np.bincount(fac, weights=service_min * self.sample_weight, minlength=n_fac)[seen],
            wait_sum_min=np.bincount(fac, weights=wait, minlength=n_fac)[seen],
            p95_wait_min=group_quantile(wait, fac, n_fac, 0.95)[seen],
        )

    def _bus_day(
        self,
        day: int,
        weekday: int,
        is_bus: np.ndarray,
        bus_out: BusLeg | None,
        fac: np.ndarray,
        vg: np.ndarray,
        leave: np.ndarray,
        *,
        travel: np.ndarray,
        dist: np.ndarray,
        money: np.ndarray,
    ) -> dict[str, np.ndarray] | None:
        """Trip home of bus riders (first bus, walking, or no way home) and line-load records.

        Returns per-trip return minutes, round-trip money and km and the transit columns, or None
        in scenarios without transit (road trips: home the same way, same time).
        """
        if self.bus is None:
            return None
        tab = self.tables
        n = len(fac)
        out: dict[str, np.ndarray] = {
            "lines_out": np.zeros(n, dtype=np.int32),
            "lines_home": np.zeros(n, dtype=np.int32),
            "stop_wait_min": np.zeros(n),
            "transfer_wait_min": np.zeros(n),
            "no_way_home": np.zeros(n, dtype=bool),
        }
        out["return_min"] = travel.copy()
        out["money_yuan"] = 2 * money
        out["distance_km"] = 2 * dist
        out["fare_yuan"] = np.zeros(n)  # bus and ferry fares in money_yuan (for fare concessions)
        if bus_out is None:
            return out
        pattern = int(self.bus.weekday_pattern[weekday])
        transit = self.loaded.scenario.transit
        assert transit is not None
        walk = tab.modes.index("walk")
        rows = np.flatnonzero(is_bus)  # (indices: faster than the mask, the same rows in order)
        fac_bus, vg_bus = fac[rows], vg[rows]
        home = plan_home(
            self.bus,
            pattern,
            fac_bus,
            vg_bus,
            leave[rows],
            walk_home_min=tab.time_min[walk, vg_bus, fac_bus],
            no_way_home_min=transit.no_way_home.extra_min,
            no_way_home_yuan=transit.no_way_home.cost_yuan,
        )
        if self.capacity is not None:  # vehicles fill up on the way home too
            home = self._capacity_home(day, pattern, home, rows, vg, fac, leave)
        out["return_min"][rows] = home.travel_min
        out["money_yuan"][rows] = bus_out.fare_yuan + home.fare_yuan
        out["fare_yuan"][rows] = bus_out.fare_yuan + np.where(home.label >= 0, home.fare_yuan, 0.0)
        out["distance_km"][rows] = bus_out.km + home.km
        out["lines_out"][rows] = bus_out.label + 1
        out["lines_home"][rows] = home.label + 1
        out["stop_wait_min"][rows] = bus_out.stop_wait_min + home.stop_wait_min
        out["transfer_wait_min"][rows] = bus_out.transfer_wait_min + home.transfer_wait_min
        out["no_way_home"][rows] = home.no_way
        trip = np.concatenate([bus_out.legs_trip.ravel(), home.legs_trip.ravel()])
        board = np.concatenate([bus_out.legs_board.ravel(), home.legs_board.ravel()])
        alight = np.concatenate([bus_out.legs_alight.ravel(), home.legs_alight.ravel()])
        used = trip >= 0
        if day >= 0:  # line loads cover the measured days
            self.load_log.append((day, trip[used], board[used], alight[used]))
        return out

    def _capacity_out(
        self,
        day: int,
        pattern: int,
        bus_out: BusLeg,
        is_bus: np.ndarray,
        mode: np.ndarray,
        r: np.ndarray,
        vg: np.ndarray,
        fac: np.ndarray,
        trip: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ) -> BusLeg:
        """Journeys there placed in the vehicles (``transit.capacity``, sim/transit/capacity.py).

        Delayed riders arrive later. A rider who gives up at the first stop (or is stranded at a
        change) goes by their fastest own road mode instead (where none gets there, as on an island
        without a road link, ``transit.no_way_home``'s minutes and money each way): its trip there
        counts the walk to the stop and back and the wait before giving up; ``is_bus``, ``mode`` and
        ``trip`` (travel, km, money, arrival, departure) are updated in place for them. Returns the
        journeys of those still on the bus.
        """
        assert self.capacity is not None
        travel, dist, money, arrival, departure = trip
        self._gave_up_out = None
        self._riders_today = r
        tt = self.capacity.tt
        first_dep = tt.st_dep[np.maximum(bus_out.legs_board[:, 0], 0)]
        bus_out, got = self.capacity.board(day, pattern, bus_out, first_dep)
        gone = got.gave_up | got.stranded
        if not gone.any():
            return bus_out
        who = np.flatnonzero(is_bus)[gone]
        owns = self.residents.owns[:, r[who]]
        alt = fastest_road_mode(self.tables.time_min, owns, vg[who], fac[who], self._bus_mode)
        _, n_v, n_f = self.tables.time_min.shape
        cell = (alt * n_v + vg[who]) * n_f + fac[who]
        road = np.take(self.tables.time_min, cell)
        # no own road mode gets there (an island without a road link): the no-way fallback both ways
        nwh = self.loaded.scenario.transit.no_way_home  # type: ignore[union-attr]
        no_road = ~np.isfinite(road)
        road = np.where(no_road, nwh.extra_min, road)
        lost = 2 * np.maximum(first_dep[gone] - bus_out.dep_min[gone], 0.0) + got.first_wait_min[gone]
        is_bus[who] = False
        mode[who] = alt
        travel[who] = lost + road
        dist[who] = np.where(no_road, 0.0, np.take(self.tables.distance_km, cell))
        money[who] = np.where(no_road, nwh.cost_yuan, np.take(self.tables.money_yuan, cell))
        departure[who] = bus_out.dep_min[gone]
        arrival[who] = departure[who] + travel[who]
        self._gave_up_out = (who, road)
        return take_leg(bus_out, ~gone)

    def _capacity_home(
        self,
        day: int,
        pattern: int,
        home: BusLeg,
        rows: np.ndarray,
        vg: np.ndarray,
        fac: np.ndarray,
        leave: np.ndarray,
    ) -> BusLeg:
        """Journeys home placed in the vehicles after the journeys there (``transit.capacity``).

        A rider who gives up at the first stop goes home by their fastest own road mode (after the
        wait); one stranded at a change, or with no own road mode home, pays ``transit.no_way_home``.
        """
        assert self.capacity is not None and self.loaded.scenario.transit is not None
        tt = self.capacity.tt
        first_dep = tt.st_dep[np.maximum(home.legs_board[:, 0], 0)]
        home, got = self.capacity.board(day, pattern, home, first_dep - home.stop_wait_min)
        gone = got.gave_up | got.stranded
        if not gone.any():
            return home
        who = rows[gone]
        owns = self.residents.owns[:, self._riders_today[who]]
        alt = fastest_road_mode(self.tables.time_min, owns, vg[who], fac[who], self._bus_mode)
        _, n_v, n_f = self.tables.time_min.shape
        cell = (alt * n_v + vg[who]) * n_f + fac[who]
        waited = home.stop_wait_min[gone] + got.first_wait_min[gone]
        nwh = self.loaded.scenario.transit.no_way_home
        road = np.take(self.tables.time_min, cell)
        stranded = got.stranded[gone] | ~np.isfinite(road)  # or no own road mode gets home
        ride = np.where(stranded, nwh.extra_min, road)
        fields_ = {f: getattr(home, f).copy() for f in BusLeg.__dataclass_fields__}
        fields_["arr_min"][gone] = leave[who] + waited + ride
        fields_["travel_min"][gone] = waited + ride
        fields_["stop_wait_min"][gone] = waited
        fields_["transfer_wait_min"][gone] = 0.0
        fields_["fare_yuan"][gone] = np.where(stranded, nwh.cost_yuan, np.take(self.tables.money_yuan, cell))
        fields_["km"][gone] = np.where(stranded, 0.0, np.take(self.tables.distance_km, cell))
        fields_["no_way"][gone] = stranded
        fields_["label"][gone] = -1  # no vehicle home
        return BusLeg(**fields_)
