"""What visitors do about queues (``behaviour.balking``, ``reneging``, ``day_choice``), for the model.

Each draw comes from its own keyed stream, so switching a behaviour on moves no other draw:
``trip.balk`` (whether a visitor who meets the limit balks) and ``trip.patience`` (patience),
both keyed by (errand, trip number) like every other draw of a trip; ghosts are keyed by their
own keys; ``errand.urgent`` (whether an errand can wait) by the errand.
"""

from __future__ import annotations

import numpy as np

from sim.model.queue import BALKED, NO_BALKING, RENEGED, Impatience, QueueDay, ServiceTimes
from sim.model.streams import Streams
from sim.scenario.fields import ServiceTime
from sim.scenario.schema import Behaviour
from sim.world.world import World

__all__ = ["LEFT_OUTCOMES", "QueueBehaviour", "left_outcome"]

#: Trip outcomes added when balking or reneging is on (after completed, referred, turned_away).
LEFT_OUTCOMES = ("balked", "left")
#: Outcome codes of those who balked and who reneged (left the queue).
OUTCOME_BALKED, OUTCOME_LEFT = 3, 4
#: A queue length nobody reaches: the visitor never balks.
NEVER = np.int64(NO_BALKING)


def left_outcome(out: np.ndarray, q_left: np.ndarray | None) -> np.ndarray:
    """Trip outcomes with visitors who balked or reneged recorded as such (codes 3 and 4)."""
    if q_left is None:
        return out
    return np.select([q_left == BALKED, q_left == RENEGED], [OUTCOME_BALKED, OUTCOME_LEFT], out).astype(
        out.dtype
    )


class QueueBehaviour:
    """Balking and reneging draws per visitor and the day-choice memory and rule.

    Args:
        behaviour: the scenario's behaviour block (at least one of the three switched on).
        world: the built world (servers, service times, opening days).
        streams: the run's keyed streams.
        services: service ids in the model's order (for ``day_choice.urgent_share``).
    """

    def __init__(self, behaviour: Behaviour, world: World, streams: Streams, services: list[str]) -> None:
        self.balking, self.reneging, self.day_choice = (
            behaviour.balking,
            behaviour.reneging,
            behaviour.day_choice,
        )
        self.streams = streams
        self.world = world
        self.mean_service = ServiceTimes(world.fac_service_time).mean  # per facility, min (NaN: none)
        self.impatient = self.balking is not None or self.reneging is not None
        self._patience = (
            None
            if self.reneging is None
            else ServiceTimes(
                [ServiceTime(dist=self.reneging.dist, mean_min=self.reneging.mean_min, cv=self.reneging.cv)]
            )
        )
        self._balk_at = self._balk_limits() if self.balking is not None else None
        dc = self.day_choice
        n_fac = len(world.fac_ids)
        self.day_wait = np.full((n_fac, 7), behaviour.prior_wait_min)  # remembered wait, facility x weekday
        self._urgent = np.array([0.0 if dc is None else dc.urgent_share.get(s, 0.0) for s in services])
        self._deferred_trip = np.zeros(0, dtype=np.int32)  # per errand id: trip number + 1 once deferred
        self.put_off_trips = 0  # trips put off by day choice on measured days
        self._receiving = world.fac_receives_visitors

    # -- balking and reneging --------------------------------------------------------------
    def _balk_limits(self) -> np.ndarray:
        """Per facility, the number waiting at which an arriving visitor balks (all windows busy)."""
        b = self.balking
        assert b is not None
        n_fac = len(self.world.fac_ids)
        limit = np.full(n_fac, NEVER)
        if b.max_waiting is not None:
            limit[:] = b.max_waiting + 1
        if b.max_expected_wait_min is not None:
            # (waiting + 1) x mean / windows > W  <=>  waiting >= floor(W x windows / mean)
            servers = np.maximum(self.world.fac_servers, 1)
            with np.errstate(invalid="ignore"):
                by_wait = np.floor(b.max_expected_wait_min * servers / self.mean_service)
            by_wait = np.where(np.isfinite(by_wait), by_wait, float(NEVER)).astype(np.int64)
            limit = np.minimum(limit, by_wait)
        return limit

    def impatience(
        self, fac: np.ndarray, key: np.ndarray, trip_no: np.ndarray, queue_fac: np.ndarray
    ) -> Impatience:
        """Balking limits and patience of visitors at facilities ``fac`` keyed by (``key``, ``trip_no``);
        ``queue_fac``: the facility of each queue (for the mean service time a balker expects)."""
        n = len(fac)
        balk_at = np.full(n, NEVER)
        if self.balking is not None and self._balk_at is not None:
            balks = self.streams.uniform("trip.balk", key, trip_no) < self.balking.probability
            balk_at = np.where(balks, self._balk_at[fac], NEVER)
        patience = np.full(n, np.inf)
        if self._patience is not None:
            u = self.streams.uniform("trip.patience", key, trip_no)
            patience = self._patience.draw(np.zeros(n, dtype=np.int64), u)
        mean = np.nan_to_num(self.mean_service[queue_fac], nan=0.0)
        return Impatience(balk_at=balk_at, patience_min=patience, mean_service_min=mean)

    @staticmethod
    def remembered_wait(q: QueueDay) -> np.ndarray:
        """The wait each visitor remembers: the wait met, or for a balker the wait expected."""
        if q.left is None or q.seen_wait_min is None:
            return q.wait_min
        return np.where(q.left == BALKED, q.seen_wait_min, q.wait_min)

    # -- day choice ------------------------------------------------------------------------
    def remember_day(self, fac: np.ndarray, wait: np.ndarray, weekday: int) -> None:
        """Smooth today's mean wait per facility open today into the weekday's remembered wait (a
        facility open with nobody waiting, 0 min: a quiet day is remembered as quiet)."""
        if self.day_choice is None:
            return
        n_fac = len(self.world.fac_ids)
        count = np.bincount(fac, minlength=n_fac)
        today = self._receiving & self.world.fac_days[:, weekday]
        mean = np.bincount(fac, weights=wait, minlength=n_fac)[today] / np.maximum(count[today], 1)
        m = self.day_choice.memory
        self.day_wait[today, weekday] = (1 - m) * self.day_wait[today, weekday] + m * mean

    def defer(
        self,
        errand: np.ndarray,
        key: np.ndarray,
        service: np.ndarray,
        trips: np.ndarray,
        fac: np.ndarray,
        weekday: int,
        *,
        measured: bool = True,
    ) -> np.ndarray:
        """Days each errand puts off its trip (0: go today) by the day-choice logit.

        Errands that can wait (``errand.urgent`` at or above the service's urgent share) with a
        facility chosen (``fac >= 0``) and not yet put off for this trip choose among today and
        the open days within the horizon: cost = remembered wait (facility, weekday) + delay x
        days ahead, probability proportional to exp(-cost / scale), by inverse CDF of a uniform
        keyed by (errand, trip) (``trip.defer``).
        """
        dc = self.day_choice
        later = np.zeros(len(fac), dtype=np.int64)
        if dc is None or len(fac) == 0:
            return later
        if len(self._deferred_trip) <= errand.max():
            grown = np.zeros(max(int(errand.max()) + 1, 2 * len(self._deferred_trip)), dtype=np.int32)
            grown[: len(self._deferred_trip)] = self._deferred_trip
            self._deferred_trip = grown
        can_wait = (fac >= 0) & (self._deferred_trip[errand] != trips + 1)
        can_wait &= self.streams.uniform("errand.urgent", key) >= self._urgent[service]
        rows = np.flatnonzero(can_wait)
        if len(rows) == 0:
            return later
        f = fac[rows]
        ahead = np.arange(dc.horizon_days + 1)  # 0 = today (open: the facility was chosen)
        wd = (weekday + ahead) % 7
        w = self.world
        is_open = w.fac_days[f][:, wd]
        is_open[:, 0] = True
        cost = np.where(is_open, self.day_wait[f][:, wd] + dc.delay_min_per_day * ahead, np.inf)
        weight = np.exp(-(cost - cost.min(axis=1, keepdims=True)) / dc.scale_min)
        cum = np.cumsum(weight, axis=1)
        u = self.streams.uniform("trip.defer", key[rows], trips[rows])
        pick = np.minimum((cum < (u * cum[:, -1])[:, None]).sum(axis=1), dc.horizon_days)
        put_off = pick > 0
        later[rows[put_off]] = pick[put_off]
        self._deferred_trip[errand[rows[put_off]]] = trips[rows[put_off]] + 1
        if measured:
            self.put_off_trips += int(put_off.sum())
        return later
