"""Scenario files: schema, loading with ``extends:``/overlays, consistency checks."""

from sim.scenario.load import LoadedScenario, get_path, load_raw, load_scenario, set_path
from sim.scenario.schema import Scenario

__all__ = ["LoadedScenario", "Scenario", "get_path", "load_raw", "load_scenario", "set_path"]
