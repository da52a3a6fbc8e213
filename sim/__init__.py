"""townsim: access to schools, clinics and service halls after township mergers (Mesa + numpy).

Start here::

    import sim
    run = sim.run("scenarios/tiny/baseline.yaml", days=14, seed=1)   # one run, in memory
    run.summary.burden_min.mean, run.tables["errands"]                 # RunSummary, DataFrames
    sim.compare("scenarios/tiny/baseline.yaml", "scenarios/tiny/merged.yaml", replications=5)

``load``, ``run``, ``compare`` and ``sweep`` (:mod:`sim.api`; ``sim.sweep`` is also the sweep
package, callable) do what the ``townsim`` commands of the same names do; ``sim.metrics`` holds the
burden, access and inequality measures. Names are imported on first use, so the command line
starts without loading Mesa or pandas.
"""

from typing import TYPE_CHECKING

from sim.lazy import lazy_exports

if TYPE_CHECKING:  # for editors and type checkers; at run time names load on first use
    from sim import metrics, sweep  # noqa: F401
    from sim.api import Run, compare, load, run  # noqa: F401
    from sim.errors import ScenarioError, SimError  # noqa: F401
    from sim.model import AccessModel  # noqa: F401
    from sim.results import RunResult, read_run, write_run  # noqa: F401
    from sim.results.summary_model import RunSummary  # noqa: F401
    from sim.runner import run_scenario  # noqa: F401
    from sim.scenario import Scenario, load_scenario  # noqa: F401
    from sim.world import World, build_world  # noqa: F401

_EXPORTS = {
    "AccessModel": "sim.model",
    "Run": "sim.api",
    "RunResult": "sim.results",
    "RunSummary": "sim.results.summary_model",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.errors",
    "SimError": "sim.errors",
    "World": "sim.world",
    "build_world": "sim.world",
    "compare": "sim.api",
    "load": "sim.api",
    "load_scenario": "sim.scenario",
    "metrics": "sim.metrics",
    "read_run": "sim.results",
    "run": "sim.api",
    "run_scenario": "sim.runner",
    "sweep": "sim.sweep",
    "write_run": "sim.results",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    """The public names (for tab completion), without importing them."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
