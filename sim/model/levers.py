"""The reform's mitigations inside the daily step: online, proxy (代办) and mobile service.

Each lever takes errands that are due today away from the trip a resident would otherwise make
and ends them by another channel, or holds them for a later day. Every draw is keyed by errand
(common random numbers: a lever changes only the errands it touches). Channels of completed
errands: 0 trip, 1 online, 2 proxy, 3 mobile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.errors import ScenarioError
from sim.model.needs import Needs
from sim.model.queue import QueueDay, draw_service_min, serve_fifo
from sim.model.streams import Streams
from sim.routing.tables import TravelTables
from sim.scenario.schema import WEEKDAYS, Appointments, Levers, Mobile, ServiceTime, clock_to_min
from sim.world.world import FACILITY_KINDS, World

__all__ = ["CHANNELS", "AppointmentDesk", "LeverDay", "LeverEngine"]

CHANNELS = ("trip", "online", "proxy", "mobile")
TRIP, ONLINE, PROXY, MOBILE = range(4)


@dataclass
class LeverDay:
    """What the levers did on one day.

    Attributes:
        done: errands ended today by a lever (``channel`` set on each).
        held: errands held for a later day (a proxy day or a mobile visit).
        rest: errands that travel today as usual.
        proxy_trips: one row per village, facility and proxy day: day, village, facility, errands
            carried, agents' round-trip minutes and km (all agents needed for the load).
    """

    done: Needs
    held: Needs
    rest: Needs
    proxy_trips: np.ndarray


@dataclass
class _MobileService:
    """One mobile service compiled to arrays."""

    windows: int
    open_min: float
    close_min: float
    walk_min: float
    wait_days: int
    spec: ServiceTime
    covers: np.ndarray  # (services,) bool
    visits: np.ndarray  # (villages, 7) bool: visited on that weekday
    ahead: np.ndarray  # (villages, 7) days from that weekday to the next visit (1..7; 99 never)

    @classmethod
    def compile(cls, m: Mobile, world: World) -> _MobileService:
        covers = np.isin(world.services, m.services)
        visits = np.zeros((len(world.village_ids), 7), dtype=bool)
        for stop in m.stops:
            visits[world.village_ids.index(stop.village), [WEEKDAYS.index(d) for d in stop.days]] = True
        ahead = np.full(visits.shape, 99, dtype=np.int32)
        for k in range(7, 0, -1):  # nearest visit wins: smaller k written last
            ahead = np.where(np.roll(visits, -k, axis=1), k, ahead)
        return cls(
            windows=m.windows,
            open_min=clock_to_min(m.hours.open),
            close_min=clock_to_min(m.hours.close),
            walk_min=m.walk_min,
            wait_days=m.wait_days,
            spec=m.service_time,
            covers=covers,
            visits=visits,
            ahead=ahead,
        )


@dataclass
class LeverEngine:
    """Applies a scenario's levers to the errands due each day.

    Args:
        levers: the scenario's ``levers`` block.
        band, village, new_unit: per resident (age band, village, current unit).
        weight: residents each simulated resident stands for (1 / sample fraction): an agent's
            capacity counts the errands of the whole population.
        proxy_origin: the file that set ``levers.proxy`` (named in errors).
    """

    levers: Levers
    world: World
    tables: TravelTables
    streams: Streams
    band: np.ndarray
    village: np.ndarray
    new_unit: np.ndarray
    weight: float = 1.0
    proxy_origin: str = "(scenario)"  # file that set levers.proxy (for error messages)
    proxy_log: list[np.ndarray] = field(default_factory=list)
    agents_today: dict[int, np.ndarray] = field(default_factory=dict)  # facility -> batch minutes

    def __post_init__(self) -> None:
        w, lv = self.world, self.levers
        n_s, n_b = len(w.services), len(w.age_bands)
        self._online_share = np.zeros((n_s, n_b))
        self._online_fail = np.zeros(n_s)
        for name, online in lv.online.items():
            s = w.services.index(name)
            self._online_share[s] = [online.share.get(b, 0.0) for b in w.age_bands]
            self._online_fail[s] = online.failure
        self._proxy_service = np.zeros(n_s, dtype=bool)
        self._proxy_uptake = np.zeros(n_b)
        self._proxy_village = np.zeros(len(w.village_ids), dtype=bool)
        self._proxy_days = np.zeros(7, dtype=bool)
        if lv.proxy is not None:
            p = lv.proxy
            self._proxy_service = np.isin(w.services, p.services)
            self._proxy_uptake[:] = [p.uptake.get(b, 0.0) for b in w.age_bands]
            self._proxy_village = (
                np.isin(w.village_ids, p.villages) if p.villages is not None else ~self._proxy_village
            )
            self._proxy_days = np.isin(WEEKDAYS, p.days)
        self._mobile = [_MobileService.compile(m, w) for m in lv.mobile.values()]

    @property
    def active(self) -> bool:
        """Whether any lever that acts in the daily step is set."""
        lv = self.levers
        return bool(lv.online) or lv.proxy is not None or bool(lv.mobile)

    def apply(self, due: Needs, day: int, weekday: int) -> LeverDay:
        """Route today's due errands through online, proxy and mobile service.

        Online is tried once, on the day the errand arises (keyed by errand). An errand handed
        to the proxy agent stays with the agent until carried. Mobile service takes covered
        errands of visited villages. The rest travel.
        """
        done: list[Needs] = []
        held: list[Needs] = []
        fresh = (due.arise_day == day) & (due.trips == 0) & (due.channel == TRIP)
        s, b = due.service.astype(np.int64), self.band[due.resident]
        if self.levers.online:
            tries = fresh & (self.streams.uniform("lever.online", due.key) < self._online_share[s, b])
            ok = tries & (self.streams.uniform("lever.online_fail", due.key) >= self._online_fail[s])
            online = due.take(ok)
            online.channel[:] = ONLINE
            online.last_day[:] = day
            done.append(online)
            due, s, b, fresh = due.take(~ok), s[~ok], b[~ok], fresh[~ok]
        proxy_trips = np.zeros((0, 6))
        if self.levers.proxy is not None:
            hand = fresh & (self.streams.uniform("lever.proxy", due.key) < self._proxy_uptake[b])
            takes = (due.channel == PROXY) | (
                hand & self._proxy_service[s] & self._proxy_village[self.village[due.resident]]
            )
            due.channel[takes] = PROXY
            carried, waiting, proxy_trips = self._proxy_day(due.take(takes), day, weekday)
            done.append(carried)
            held.append(waiting)
            due, fresh = due.take(~takes), fresh[~takes]
        for mobile in self._mobile:
            served, wait_for_van, due = self._mobile_day(mobile, due, day, weekday)
            done.append(served)
            held.append(wait_for_van)
        self.proxy_log.append(proxy_trips)
        return LeverDay(done=Needs.concat(done), held=Needs.concat(held), rest=due, proxy_trips=proxy_trips)

    def _proxy_day(self, handed: Needs, day: int, weekday: int) -> tuple[Needs, Needs, np.ndarray]:
        """On proxy days agents carry up to their capacity per village, oldest errands first."""
        p = self.levers.proxy
        assert p is not None
        self.agents_today.clear()
        if len(handed) == 0 or not self._proxy_days[weekday]:
            handed.next_day[:] = day + 1
            return Needs.empty(), handed, np.zeros((0, 6))
        v = self.village[handed.resident]
        order = np.lexsort((handed.errand, v))
        v_sorted = v[order]
        rank = np.arange(len(order)) - np.searchsorted(v_sorted, v_sorted, side="left")
        # capacity in simulated errands (each stands for ``weight``), rounded up or down at random
        # (keyed by day and village) so that the expected load is the agents' capacity
        room = p.capacity_per_day * p.agents_per_village / self.weight
        limit = np.floor(room + self.streams.uniform("lever.proxy_room", np.full(len(v), day), v))
        carry = np.zeros(len(handed), dtype=bool)
        carry[order[rank < limit[order]]] = True
        carried, waiting = handed.take(carry), handed.take(~carry)
        fac = self._proxy_facility(carried, weekday)
        served = self._agents_queue(carried, fac, weekday)
        carried, fac, waiting = (
            carried.take(served),
            fac[served],
            Needs.concat([waiting, carried.take(~served)]),
        )
        waiting.next_day[:] = day + 1
        carried.last_day[:] = day + p.delay_days
        carried.forced_fac[:] = fac
        mode = self.tables.modes.index(p.mode)
        cv = self.village[carried.resident]
        pairs, count = np.unique(np.stack([cv, fac]), axis=1, return_counts=True)
        agents = np.ceil(np.round(count * self.weight, 9) / p.capacity_per_day)
        trips = np.column_stack(
            [
                np.full(len(count), day),
                pairs[0],
                pairs[1],
                count,
                2 * agents * self.tables.time_min[mode, pairs[0], pairs[1]],
                2 * agents * self.tables.distance_km[mode, pairs[0], pairs[1]],
            ]
        )
        return carried, waiting, trips

    def _agents_queue(self, carried: Needs, fac: np.ndarray, weekday: int) -> np.ndarray:
        """The agents' batches at the windows: which carried errands are handed in today.

        Each village's agent arrives at the facility's opening with the errands it carries there;
        the batch takes the sum of their service times (drawn from the facility's distribution,
        keyed by errand; times ``weight`` for the population represented) on one window, split
        over the agents needed (capacity per agent). Agents arrive before any resident, so FIFO
        serves them first whatever residents do; an agent whose batch cannot start before closing
        takes its errands home (they wait for the next proxy day). Served batches are left in
        ``agents_today`` for the facility's queue (:class:`AppointmentDesk`), where residents
        queue behind them. Returns per carried errand whether it was handed in.
        """
        p = self.levers.proxy
        assert p is not None
        w = self.world
        handed_in = np.ones(len(carried), dtype=bool)
        svc = np.zeros(len(carried))
        u = self.streams.uniform("lever.proxy_service", carried.key)
        for f in np.unique(fac[fac >= 0]):
            rows = fac == f
            spec = w.fac_service_time[f]
            assert spec is not None, "proxy facilities complete errands, so they have a service time"
            svc[rows] = draw_service_min(spec, u[rows]) * self.weight
        handed_in[fac < 0] = False  # no facility completing it is open today
        v = self.village[carried.resident]
        for f in np.unique(fac[fac >= 0]):
            at = np.flatnonzero(fac == f)
            villages, inverse = np.unique(v[at], return_inverse=True)
            minutes = np.bincount(inverse, weights=svc[at])
            count = np.bincount(inverse) * self.weight
            agents = np.ceil(np.round(count, 9) / p.capacity_per_day).astype(np.int64)
            batch = np.repeat(minutes / agents, agents)
            owner = np.repeat(np.arange(len(villages)), agents)
            open_min, close_min = w.fac_open_wd[f, weekday], w.fac_close_wd[f, weekday]
            q = serve_fifo(
                np.full(len(batch), open_min), batch, servers=int(w.fac_servers[f]), open_min=open_min,
                close_min=close_min,
            )  # fmt: skip
            self.agents_today[int(f)] = batch[q.served]
            share = np.bincount(owner, weights=q.served, minlength=len(villages)) / agents
            order = np.lexsort((carried.errand[at], inverse))
            pos = np.empty(len(at), dtype=np.int64)
            pos[order] = np.arange(len(at)) - np.searchsorted(inverse[order], inverse[order])
            handed_in[at] = pos < np.round(share * np.bincount(inverse))[inverse]  # oldest errands first
        return handed_in

    def _proxy_facility(self, needs: Needs, weekday: int) -> np.ndarray:
        """Nearest facility open today (by the agent's mode) that completes the errand, in the
        resident's unit if any; -1 where none is open today."""
        p = self.levers.proxy
        assert p is not None
        w = self.world
        mode = self.tables.modes.index(p.mode)
        out = np.full(len(needs), -1, dtype=np.int64)
        for s in np.unique(needs.service):
            rows = np.flatnonzero(needs.service == s)
            cand = np.flatnonzero(w.fac_completes[:, s] & (w.fac_servers > 0))
            if len(cand) == 0:
                raise ScenarioError(
                    self.proxy_origin,
                    "levers.proxy.services",
                    f"expected errand types some facility completes; none completes '{w.services[s]}'",
                )
            cand = cand[w.fac_days[cand, weekday]]
            if len(cand) == 0:
                continue
            r = needs.resident[rows]
            t = self.tables.time_min[mode][self.village[r]][:, cand]
            other_unit = w.fac_new_unit[cand][None, :] != self.new_unit[r][:, None]
            out[rows] = cand[np.lexsort((t.T, other_unit.T), axis=0)[0]]
        return out

    def _mobile_day(
        self, m: _MobileService, due: Needs, day: int, weekday: int
    ) -> tuple[Needs, Needs, Needs]:
        """Visited villages queue at the van; elsewhere a fresh errand may wait for the next visit.

        Returns (served at the van, held for a visit or missed at the van, travelling today).
        """
        v = self.village[due.resident]
        covered = m.covers[due.service.astype(np.int64)] & (due.channel == TRIP)
        at_van = covered & m.visits[v, weekday]
        ahead = m.ahead[v, weekday]
        hold = covered & ~at_van & (due.arise_day == day) & (due.trips == 0) & (ahead <= m.wait_days)
        due.next_day[hold] = day + ahead[hold]
        served: list[Needs] = []
        missed: list[Needs] = [due.take(hold)]
        for x in np.unique(v[at_van]):
            visit = due.take(at_van & (v == x))
            arrival = m.open_min + (m.close_min - m.open_min) * self.streams.uniform(
                "lever.mobile_arrival", visit.key, visit.trips
            )
            order = np.argsort(arrival, kind="stable")
            visit, arrival = visit.take(order), arrival[order]
            svc = draw_service_min(
                m.spec, self.streams.uniform("lever.mobile_service", visit.key, visit.trips)
            )
            q = serve_fifo(arrival, svc, servers=m.windows, open_min=m.open_min, close_min=m.close_min)
            visit.trips += 1
            visit.last_day[:] = day
            visit.burden_min += 2 * m.walk_min + q.wait_min
            done = visit.take(q.served)
            done.channel[:] = MOBILE
            served.append(done)
            left = visit.take(~q.served)
            left.next_day[:] = day + 1
            missed.append(left)
        return Needs.concat(served), Needs.concat(missed), due.take(~(at_van | hold))


@dataclass
class AppointmentDesk:
    """Serves one facility-day: booked visitors at reserved windows, walk-ins FIFO at the rest.

    Without an ``appointments`` lever (or at facilities of other kinds, or with no window left
    for walk-ins) it is the plain FIFO queue.
    """

    spec: Appointments | None
    world: World
    streams: Streams
    agents: dict[int, np.ndarray] = field(default_factory=dict)  # facility -> proxy batches today

    def __post_init__(self) -> None:
        kinds = self.spec.kinds if self.spec is not None else ()
        ok = np.isin(np.asarray(FACILITY_KINDS)[self.world.fac_kind], kinds)
        self._books = ok & (self.world.fac_servers > (self.spec.windows if self.spec else 0))

    def serve(
        self,
        f: int,
        arrival: np.ndarray,
        svc: np.ndarray,
        key: np.ndarray,
        trip_no: np.ndarray,
        can_book: np.ndarray,
        *,
        servers: int,
        open_min: float,
        close_min: float,
        agents: bool = True,
    ) -> tuple[QueueDay, np.ndarray]:
        """Queue outcome and the arrival time each visitor actually came at (minutes).

        ``arrival`` is the desired arrival, sorted ascending. A booked visitor takes the first
        free slot at or after it (slots ``slot_min`` apart per reserved window) and comes then;
        slots starting at or after closing are not offered (the visitor walks in). Proxy agents'
        batches (``agents``) arrive at opening and are served first, at the walk-in windows.
        """
        batches = self.agents.get(f) if agents else None
        if batches is not None and len(batches):
            n_ag = len(batches)
            q, came = self.serve(
                f,
                np.concatenate([np.full(n_ag, open_min), arrival]),
                np.concatenate([batches, svc]),
                np.concatenate([np.zeros(n_ag, key.dtype), key]),
                np.concatenate([np.zeros(n_ag, trip_no.dtype), trip_no]),
                np.concatenate([np.zeros(n_ag, bool), can_book]),
                servers=servers,
                open_min=open_min,
                close_min=close_min,
                agents=False,
            )
            return QueueDay(
                start_min=q.start_min[n_ag:], wait_min=q.wait_min[n_ag:], served=q.served[n_ag:]
            ), came[n_ag:]
        spec = self.spec
        if spec is None or not self._books[f]:
            return serve_fifo(arrival, svc, servers=servers, open_min=open_min, close_min=close_min), arrival
        book = can_book & (self.streams.uniform("lever.appointment", key, trip_no) < spec.share)
        step = spec.slot_min / spec.windows
        d = np.maximum(arrival[book], open_min)
        k = np.arange(len(d))
        slot = k * step + np.maximum.accumulate(d - k * step) if len(d) else d
        booked = np.flatnonzero(book)[slot < close_min]
        came = arrival.copy()
        came[booked] = slot[slot < close_min]
        walk = np.ones(len(arrival), dtype=bool)
        walk[booked] = False
        start = np.empty(len(arrival))
        wait = np.empty(len(arrival))
        served = np.empty(len(arrival), dtype=bool)
        for rows, c in ((booked, spec.windows), (np.flatnonzero(walk), servers - spec.windows)):
            q = serve_fifo(came[rows], svc[rows], servers=c, open_min=open_min, close_min=close_min)
            start[rows], wait[rows], served[rows] = q.start_min, q.wait_min, q.served
        return QueueDay(start_min=start, wait_min=wait, served=served), came
