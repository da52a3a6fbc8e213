"""Tiers of health care in the daily step: tier attractiveness, care-specific service times, referral.

A scenario's ``health:`` block (:class:`sim.scenario.health.HealthTiers`) makes village clinics,
health centres (central or ordinary) and hospitals three tiers. Residents choose among all of
them by the usual logit, with each tier's constant (minutes) taken off the generalised cost, so
a minor illness can bypass the village clinic; a visit completed at tier k is referred up with
the tier's share (a draw keyed by errand and trip, stream ``health.referral``), and the errand
continues as the next kind of care at the unit's referral target (its central health centre, or
the hospital). Nothing here runs without the block.
"""

from __future__ import annotations

import numpy as np

from sim.model.queue import ServiceTimes
from sim.model.streams import Streams
from sim.scenario.health import HEALTH_TIERS, HealthTiers
from sim.world.world import FACILITY_KINDS, World

__all__ = ["HealthSystem", "facility_tiers"]


def facility_tiers(world: World) -> np.ndarray:
    """Tier of each facility: 0 village clinic, 1 health centre, 2 hospital, -1 not a health facility."""
    tier_of_kind = np.array([HEALTH_TIERS.index(k) if k in HEALTH_TIERS else -1 for k in FACILITY_KINDS])
    return tier_of_kind[world.fac_kind]


class HealthSystem:
    """Per-facility tier constants and referral shares, per-service care levels and care times.

    Args:
        spec: the scenario's ``health`` block.
        world: the compiled world.
        streams: the run's keyed streams.
    """

    def __init__(self, spec: HealthTiers, world: World, streams: Streams) -> None:
        self.streams = streams
        self.tier = facility_tiers(world)
        key = np.array([HEALTH_TIERS[t] if t >= 0 else "" for t in self.tier], dtype=object)
        key[(self.tier == 1) & world.fac_central] = "central_clinic"
        self.constant_min = np.array([spec.tier_constant_min.get(k, 0.0) for k in key])
        self.refer_share = np.array([spec.referral.get(k, 0.0) for k in key])
        self.level = np.array([spec.levels.index(s) if s in spec.levels else -1 for s in world.services])
        self.level_service = np.array([world.services.index(s) for s in spec.levels], dtype=np.int16)
        self.care_times = ServiceTimes([spec.care_time.get(s) for s in world.services])
        self.has_care_time = np.array([s in spec.care_time for s in world.services])

    def referral_targets(self, world: World, general: np.ndarray) -> np.ndarray:
        """(new units, services) facility a referral sends the errand to: for the kinds of care above
        the lowest, the unit's facility of that tier (a central health centre first, then most
        servers), -1 where the unit has none (free choice among those that treat it); other services
        keep ``general`` (:meth:`World.referral_target`)."""
        out = general.copy()
        new_unit = world.fac_new_unit
        rank = world.fac_central * (int(world.fac_servers.max(initial=0)) + 1) + world.fac_servers
        for k, s in enumerate(self.level_service.tolist()):
            if k == 0:
                continue
            for u in range(out.shape[0]):
                cand = np.flatnonzero(
                    (new_unit == u) & (self.tier == k) & world.fac_completes[:, s] & (world.fac_servers > 0)
                )
                out[u, s] = cand[np.argmax(rank[cand])] if len(cand) else -1
        return out

    def cost_shift_min(self) -> np.ndarray:
        """(facilities,) minutes to add to every generalised cost of a facility: minus its tier constant."""
        return -self.constant_min

    def service_min(self, service: np.ndarray, u: np.ndarray, facility_min: np.ndarray) -> np.ndarray:
        """Service minutes of visitors: their kind of care's distribution where the block gives one,
        else ``facility_min`` (drawn from the facility's with the same uniforms ``u``)."""
        own = self.has_care_time[service]
        if not own.any():
            return facility_min
        out = facility_min.copy()
        out[own] = self.care_times.draw(service[own].astype(np.int64), u[own])
        return out

    def refer(
        self,
        outcome: np.ndarray,
        fac: np.ndarray,
        service: np.ndarray,
        key: np.ndarray,
        trip_no: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Upward referral of visits completed at a tier below the top.

        Args:
            outcome: per visit 0 completed, 1 referred, 2 turned away.
            fac, service: facility visited and the errand's service per visit.
            key, trip_no: the errand's key and trip number (key the referral draw).

        Returns:
            (outcome with referred visits set to 1, service each errand continues as: the kind of
            care of the tier above the referring facility for the referred, unchanged otherwise).
        """
        tier = self.tier[fac]
        share = self.refer_share[fac]
        top = len(self.level_service) - 1
        cand = np.flatnonzero((outcome == 0) & (share > 0) & (tier < top) & (self.level[service] >= 0))
        if len(cand) == 0:
            return outcome, service
        u = self.streams.uniform("health.referral", key[cand], trip_no[cand])
        up = cand[u < share[cand]]
        outcome = outcome.copy()
        service = service.copy()
        outcome[up] = 1
        service[up] = self.level_service[tier[up] + 1]
        return outcome, service
