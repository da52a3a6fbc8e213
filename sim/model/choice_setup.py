"""Costs the choice rule reads, prepared once at the start of a run: static round-trip costs (with the
health tiers' shift), mode-ownership patterns and, with ``elderly:``, the tables per cost group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.choice import owns_patterns, round_trip_cost_min
from sim.model.frailty import ChoiceCosts, Frailty
from sim.model.health import HealthSystem
from sim.routing.tables import TravelTables

__all__ = ["ChoiceSetup", "prepare_choice_costs"]


@dataclass(frozen=True)
class ChoiceSetup:
    """Static choice costs and mode ownership.

    Attributes:
        static_cost: (modes, villages, facilities) round-trip generalised cost, minutes.
        owns_pattern: (residents,) each resident's row of ``owns_table``.
        owns_table: (patterns, modes) bool, the distinct sets of modes owned.
        choice_costs: frailty's tables per cost group (impaired x fare discount), None without.
    """

    static_cost: np.ndarray
    owns_pattern: np.ndarray
    owns_table: np.ndarray
    choice_costs: ChoiceCosts | None


def prepare_choice_costs(
    tables: TravelTables,
    owns: np.ndarray,
    *,
    value_of_time_yuan_per_h: float,
    walk: int,
    bus: int,
    health: HealthSystem | None,
    frailty: Frailty | None,
) -> ChoiceSetup:
    """Static costs (travel minutes both ways plus money as minutes, plus the health tiers' cost
    shift), the ownership patterns of ``owns`` (modes, residents) and frailty's choice tables.

    Args:
        tables: travel tables, (modes, villages, facilities) one-way minutes and yuan.
        owns: (modes, residents) bool.
        value_of_time_yuan_per_h: yuan a resident would pay to save an hour.
        walk: index of the walk mode.
        bus: index of the bus mode (-1 without transit).
        health: the health tiers (None without ``health:``).
        frailty: impairment and fares (None without ``elderly:``).
    """
    static = round_trip_cost_min(tables.time_min, tables.money_yuan, value_of_time_yuan_per_h)
    if health is not None:  # tier attractiveness (sim/model/health.py)
        static = static + health.cost_shift_min()[None, None, :]
    pattern, table = owns_patterns(owns)
    choice_costs = (
        None
        if frailty is None
        else frailty.choice_costs(
            static,
            table,
            pattern,
            time_min=tables.time_min,
            money_yuan=tables.money_yuan,
            walk=walk,
            bus=bus,
            vot_min_per_yuan=60.0 / value_of_time_yuan_per_h,
        )
    )
    return ChoiceSetup(static, pattern, table, choice_costs)
