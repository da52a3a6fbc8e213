"""Travel-time tables, computed once per run and looked up many times."""

from sim.routing.tables import TravelTables, accumulate_along_tree, build_travel_tables

__all__ = ["TravelTables", "accumulate_along_tree", "build_travel_tables"]
