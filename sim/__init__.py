"""townsim: access to schools, clinics and service halls after township mergers (Mesa + numpy).

Names are imported on first use, so the command line starts without loading Mesa or pandas.
"""

from sim.lazy import lazy_exports

_EXPORTS = {
    "AccessModel": "sim.model",
    "RunResult": "sim.results",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.errors",
    "SimError": "sim.errors",
    "World": "sim.world",
    "build_world": "sim.world",
    "load_scenario": "sim.scenario",
    "read_run": "sim.results",
    "run_scenario": "sim.runner",
    "write_run": "sim.results",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
