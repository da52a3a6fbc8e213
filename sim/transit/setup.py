"""The model's transit at the start of a run: bus tables, the bus mode, feasibility per kind of day and
vehicle capacity (scenarios with ``transit:``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.routing.tables import TravelTables
from sim.scenario.load import LoadedScenario
from sim.transit.capacity import CapacityDay
from sim.transit.tables import BUS_MODE, BusTables, add_bus_mode, build_bus_tables
from sim.world.world import World

__all__ = ["ModelTransit", "setup_transit"]


@dataclass(frozen=True)
class ModelTransit:
    """What the model keeps of its transit.

    Attributes:
        bus: the bus tables.
        tables: the travel tables with the bus mode (walk + bus + walk).
        bus_mode: index of the bus mode in ``tables.modes``.
        day_kind: (7,) kind of day of each weekday (same timetable pattern and latest arrivals).
        feasible: (day kinds, villages, facilities) bool: a journey arrives by the facility's latest
            arrival minute.
        capacity: vehicle capacity enforced (``transit.capacity``), None without.
    """

    bus: BusTables
    tables: TravelTables
    bus_mode: int
    day_kind: np.ndarray
    feasible: np.ndarray
    capacity: CapacityDay | None


def setup_transit(
    loaded: LoadedScenario, world: World, tables: TravelTables, bus: BusTables | None = None
) -> ModelTransit | None:
    """Bus tables (``bus`` if given, else built), the road ``tables`` plus the bus mode unless they have
    it, bus feasibility per kind of day and vehicle capacity; None without ``transit:`` or when it
    gives no lines and no GTFS feed (nothing runs: see :attr:`sim.scenario.transit.Transit.runs`).

    A journey must arrive by each facility's latest arrival (closing minus
    ``behaviour.latest_arrival_before_close_min``, not before opening), minutes of the day.
    """
    sc = loaded.scenario
    if sc.transit is None or not sc.transit.runs:
        return None
    bus = bus or build_bus_tables(loaded, world)
    before_close = sc.behaviour.latest_arrival_before_close_min
    if BUS_MODE not in tables.modes:
        latest = np.maximum(world.fac_close_min - before_close, world.fac_open_min)
        tables = add_bus_mode(tables, bus, world, latest, sc.transit.no_way_home)
    latest_wd = np.maximum(world.fac_close_wd - before_close, world.fac_open_wd)  # by_day hours
    day_kind, feasible = bus.feasible_by_day_kind(world, latest_wd)
    rule = sc.transit.capacity
    capacity = (
        None
        if rule is None
        else CapacityDay(bus, max_wait_min=rule.max_wait_min, weight=1.0 / sc.simulation.sample_fraction)
    )
    return ModelTransit(bus, tables, tables.modes.index(BUS_MODE), day_kind, feasible, capacity)
