"""The static world of a run: network, units, villages and facilities."""

from sim.world.world import FACILITY_KINDS, World, build_world

__all__ = ["FACILITY_KINDS", "World", "build_world"]
