"""townsim: access to schools, clinics and service halls after township mergers (Mesa + numpy)."""

from sim.errors import ScenarioError, SimError
from sim.model import AccessModel
from sim.results import RunResult, read_run, write_run
from sim.runner import run_scenario
from sim.scenario import Scenario, load_scenario
from sim.world import World, build_world

__all__ = [
    "AccessModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SimError",
    "World",
    "build_world",
    "load_scenario",
    "read_run",
    "run_scenario",
    "write_run",
]
