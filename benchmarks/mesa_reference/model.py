"""A plain-Mesa reference of townsim's errand model: one ``mesa.Agent`` per resident, plain Python.

Written the way a careful Mesa user would write the same semantics without numpy vectorisation,
to check townsim's numbers against an independent implementation and to measure its speed-up:

- one :class:`ResidentAgent` per resident, activated each day by ``model.agents_by_type[...]
  .shuffle_do("step")``; a :class:`FacilityAgent` per facility holds the day's arrivals in a
  ``heapq`` and serves them first come, first served at ``servers`` windows (a ``heapq`` of the
  times windows fall free) until closing time;
- the same cached travel tables as townsim (``sim.routing.build_travel_tables``) and the same
  world (``sim.world.build_world``): one-way minutes, km and yuan per mode, village and facility;
- the same rules: needs arise as a Poisson process per resident, service and age band (rate per
  person-year / 365 per day); a resident acts on each pending errand on its day, choosing a
  facility and mode by multinomial logit (or nearest) on generalised cost = round-trip minutes +
  round-trip money / value of time + expected wait (the last wait met there, blended with weight
  ``wait_memory``, else ``prior_wait_min``); eligible facilities are open that day, staffed, in
  the errand's group, complete the errand if the resident knows their scope
  (``knows_service_scope``), in the resident's own post-merger unit for jurisdiction errands, or
  the one a referral named; arrival |N(arrival_after_open, sd)| after opening, at the latest
  ``latest_arrival_before_close`` before closing; service times exponential / lognormal / fixed;
  a service point that cannot complete an errand refers it (``referral_min`` at the window) to
  the unit's completing facility with most servers, visited from the next day; the turned away
  retry after ``retry_after_days``; burden = travel both ways + waits over all trips.

Simplifications (documented differences from townsim):

- no schools, no timetabled buses or ferries (scenarios with ``transit`` are refused), no
  per-trip tables: it reports headline numbers (:class:`Headline`) only;
- randomness comes from Python's ``random.Random(seed)``: the same distributions as townsim but
  not the same draws, so results agree within stochastic error, not exactly;
- the time to a resident's next need is drawn from the exponential distribution (a Poisson
  process, the same daily counts in distribution as townsim's per-band Poisson counts spread
  uniformly over the band), so a resident with nothing to do costs one comparison per day;
- with ``simulation.sample_fraction`` < 1 residents are sampled per village and band (binomial)
  and service times are scaled by 1 / fraction, as townsim does.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import mesa
import numpy as np

from sim.routing import build_travel_tables
from sim.scenario.load import LoadedScenario
from sim.scenario.schema import WEEKDAYS, Scenario
from sim.world.world import World, build_world

__all__ = ["FacilityAgent", "Headline", "MesaReferenceModel", "ResidentAgent"]


class Errand:
    """One need of one resident (plain Python object, mutable)."""

    __slots__ = ("burden", "forced", "informed", "next_day", "service", "trips")

    def __init__(self, service: int, day: int, informed: bool) -> None:
        self.service = service
        self.next_day = day
        self.informed = informed
        self.forced = -1
        self.trips = 0
        self.burden = 0.0


class ResidentAgent(mesa.Agent):
    """A resident: village, band, unit, modes, pending errands and remembered waits."""

    model: MesaReferenceModel

    def __init__(self, model: MesaReferenceModel, village: int, band: int, modes: list[int]) -> None:
        super().__init__(model)
        self.village = village
        self.band = band
        self.new_unit = int(model.village_new_unit[village])
        self.modes = modes
        self.errands: list[Errand] = []
        self.mem_fac = [-1] * model.n_groups
        self.mem_wait = [0.0] * model.n_groups
        self.next_need = self._gap()

    def _gap(self) -> float:
        rate = self.model.band_rate[self.band]
        return self.model.random.expovariate(rate) if rate > 0 else math.inf

    def step(self) -> None:
        """New needs of today, then a trip for each errand due today."""
        m = self.model
        day = m.day
        while self.next_need < day + 1:
            service = m.random.choices(m.service_ids, m.service_weights[self.band])[0]
            self.errands.append(Errand(service, day, m.random.random() < m.knows_scope))
            m.arisen += 1
            self.next_need += self._gap()
        for errand in self.errands:
            if errand.next_day <= day:
                self.travel(errand)

    def travel(self, errand: Errand) -> None:
        """Choose facility and mode, set off; the facility queues the visit."""
        m = self.model
        pick = m.choose(self, errand)
        if pick is None:
            errand.next_day = m.day + 1
            return
        fac, mode = pick
        travel = m.time_min[mode][self.village][fac]
        offset = abs(m.random.gauss(m.arrival_mean, m.arrival_sd))
        arrival = min(m.fac_open[fac] + offset, m.fac_latest[fac])
        m.facilities[fac].arrive(arrival, self, errand, travel)


class FacilityAgent(mesa.Agent):
    """A clinic, hall or service point: today's arrivals in a heap, served FIFO at c windows."""

    model: MesaReferenceModel

    def __init__(self, model: MesaReferenceModel, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.arrivals: list[tuple[float, int, ResidentAgent, Errand, float]] = []

    def arrive(self, arrival: float, who: ResidentAgent, errand: Errand, travel: float) -> None:
        heapq.heappush(self.arrivals, (arrival, self.model.next_seq(), who, errand, travel))

    def serve(self) -> None:
        """Serve today's arrivals first come, first served until closing time."""
        m = self.model
        f = self.index
        close = m.fac_close[f]
        free = [m.fac_open[f]] * m.fac_servers[f]
        while self.arrivals:
            arrival, _, who, errand, travel = heapq.heappop(self.arrivals)
            start = max(arrival, free[0])
            completes = m.fac_completes[f][errand.service]
            if start < close:
                duration = m.service_min(f) if completes else m.referral_min
                heapq.heapreplace(free, start + duration * m.sample_weight)
                m.record(who, errand, f, start - arrival, travel, "completed" if completes else "referred")
            else:
                m.record(who, errand, f, close - arrival if close > arrival else 0.0, travel, "turned_away")


@dataclass
class Headline:
    """Headline numbers of a run (burden in door-to-door minutes per completed errand)."""

    errands_arisen: int
    errands_completed: int
    trips: int
    burden_mean_min: float
    burden_share_over_30_min: float
    trips_per_completed_errand: float  # all trips (also of errands still pending) / completed, as townsim
    mean_wait_min: float  # per trip
    turned_away_share: float  # of trips
    referred_share: float  # of trips


class MesaReferenceModel(mesa.Model):
    """The errand model in plain Mesa (see the module docstring for semantics and simplifications)."""

    def __init__(self, loaded: LoadedScenario, *, seed: int | None = None) -> None:
        sc = loaded.scenario
        if sc.transit is not None:
            raise ValueError("the Mesa reference has no timetabled transit; use a road-only scenario")
        seed = sc.simulation.seed if seed is None else seed
        super().__init__(rng=seed)  # seeds self.random (stdlib) and self.rng (numpy) from the seed
        w = build_world(loaded)
        tab = build_travel_tables(w, sc.modes)
        b = sc.behaviour
        self.day = 0
        self.start_weekday = WEEKDAYS.index(sc.simulation.start_weekday)
        self.n_groups = len(w.groups)
        self.knows_scope = b.knows_service_scope
        self.arrival_mean, self.arrival_sd = b.arrival_after_open_min, b.arrival_sd_min
        self.referral_min = b.referral_min
        self.prior_wait = b.prior_wait_min
        self.memory = b.wait_memory
        self.retry_days = b.retry_after_days
        self.nearest = b.choice == "nearest"
        self.scale = b.logit_scale_per_min
        self.sample_weight = 1.0 / sc.simulation.sample_fraction
        # plain Python copies of the static tables
        vot = 60.0 / b.value_of_time_yuan_per_h
        self.time_min = tab.time_min.tolist()
        self.static_cost = (2 * tab.time_min + 2 * tab.money_yuan * vot).tolist()  # [mode][village][fac]
        self.n_modes = len(tab.modes)
        self.village_new_unit = w.unit_new[w.village_unit].tolist()
        self.fac_new_unit = w.fac_new_unit.tolist()
        self.fac_open = w.fac_open_min.astype(float).tolist()
        self.fac_close = w.fac_close_min.astype(float).tolist()
        self.fac_latest = np.maximum(
            w.fac_close_min - b.latest_arrival_before_close_min, w.fac_open_min
        ).tolist()
        self.fac_servers = w.fac_servers.astype(int).tolist()
        self.fac_completes = w.fac_completes.tolist()
        self.fac_days = w.fac_days.tolist()
        self.fac_spec = w.fac_service_time
        self.service_group = w.service_group.tolist()
        self.jurisdiction = [svc.jurisdiction for svc in sc.services.values()]
        self.referral = w.referral_target().tolist()
        self.group_facs = [
            np.flatnonzero(w.fac_in_group[:, g] & (w.fac_servers > 0)).tolist() for g in range(self.n_groups)
        ]
        rates = (
            np.array(
                [
                    [svc.rate_per_person_year.get(band, 0.0) for band in w.age_bands]
                    for svc in sc.services.values()
                ]
            )
            / 365.0
        )
        self.service_ids = list(range(len(w.services)))
        self.band_rate = rates.sum(axis=0).tolist()
        self.service_weights = rates.T.tolist()
        self.facilities = [FacilityAgent(self, f) for f in range(len(w.fac_ids))]
        self._seq = 0
        self.arisen = 0
        self._completed_burden: list[float] = []
        self._trips = 0
        self._wait_sum = 0.0
        self._turned_away = 0
        self._referred = 0
        self._populate(w, sc)

    def _populate(self, w: World, sc: Scenario) -> None:
        """One ResidentAgent per (sampled) resident, with modes drawn by the ownership shares."""
        ownership = [
            [1.0 if mode.ownership is None else mode.ownership.get(band, 0.0) for band in w.age_bands]
            for mode in sc.modes.values()
        ]
        fraction = sc.simulation.sample_fraction
        for v, counts in enumerate(w.village_pop.tolist()):
            for band, count in enumerate(counts):
                n = count if fraction >= 1 else int(self.rng.binomial(count, fraction))
                for _ in range(n):
                    modes = [m for m in range(self.n_modes) if self.random.random() < ownership[m][band]]
                    ResidentAgent(self, v, band, modes)

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def service_min(self, fac: int) -> float:
        spec = self.fac_spec[fac]
        if spec.dist == "fixed":
            return spec.mean_min
        if spec.dist == "exponential":
            return self.random.expovariate(1.0 / spec.mean_min)
        sigma2 = math.log1p(spec.cv**2)
        return self.random.lognormvariate(math.log(spec.mean_min) - sigma2 / 2, math.sqrt(sigma2))

    def choose(self, who: ResidentAgent, errand: Errand) -> tuple[int, int] | None:
        """(facility, mode) by logit (or nearest) over eligible alternatives; None if none is open."""
        s = errand.service
        g = self.service_group[s]
        weekday = (self.start_weekday + self.day) % 7
        alternatives: list[tuple[int, int]] = []
        costs: list[float] = []
        for f in self.group_facs[g]:
            if not self.fac_days[f][weekday]:
                continue
            if errand.forced >= 0:
                if f != errand.forced:
                    continue
            else:
                if errand.informed and not self.fac_completes[f][s]:
                    continue
                if self.jurisdiction[s] and self.fac_new_unit[f] != who.new_unit:
                    continue
            expect = who.mem_wait[g] if who.mem_fac[g] == f else self.prior_wait
            for m in who.modes:
                cost = self.static_cost[m][who.village][f]
                if cost < math.inf:
                    alternatives.append((f, m))
                    costs.append(cost + expect)
        if not alternatives:
            return None
        if self.nearest:
            return alternatives[costs.index(min(costs))]
        best = min(costs)
        weights = [math.exp(-self.scale * (c - best)) for c in costs]
        return self.random.choices(alternatives, weights)[0]

    def record(
        self, who: ResidentAgent, errand: Errand, fac: int, wait: float, travel: float, outcome: str
    ) -> None:
        """Book one trip's outcome on the errand and the resident's memory."""
        errand.trips += 1
        errand.burden += 2 * travel + wait
        self._trips += 1
        self._wait_sum += wait
        g = self.service_group[errand.service]
        base = who.mem_wait[g] if who.mem_fac[g] == fac else self.prior_wait
        who.mem_wait[g] = (1 - self.memory) * base + self.memory * wait
        who.mem_fac[g] = fac
        if outcome == "completed":
            who.errands.remove(errand)
            self._completed_burden.append(errand.burden)
        elif outcome == "referred":
            self._referred += 1
            errand.informed = True
            errand.forced = self.referral[who.new_unit][errand.service]
            errand.next_day = self.day + 1
        else:
            self._turned_away += 1
            errand.next_day = self.day + self.retry_days

    def step(self) -> None:
        """One day: residents in random order, then every facility serves its queue."""
        self.agents_by_type[ResidentAgent].shuffle_do("step")
        for facility in self.facilities:
            facility.serve()
        self.day += 1

    def headline(self) -> Headline:
        burden = self._completed_burden
        n = len(burden)
        return Headline(
            errands_arisen=self.arisen,
            errands_completed=n,
            trips=self._trips,
            burden_mean_min=sum(burden) / n if n else math.nan,
            burden_share_over_30_min=sum(b > 30 for b in burden) / n if n else math.nan,
            trips_per_completed_errand=self._trips / n if n else math.nan,
            mean_wait_min=self._wait_sum / self._trips if self._trips else math.nan,
            turned_away_share=self._turned_away / self._trips if self._trips else math.nan,
            referred_share=self._referred / self._trips if self._trips else math.nan,
        )
