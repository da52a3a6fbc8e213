"""Run outputs: tables, run folders (names imported on first use: reading a summary needs no model)."""

from sim.lazy import lazy_exports

_EXPORTS = {
    "TABLES": "sim.results.result",
    "RunResult": "sim.results.result",
    "build_result": "sim.results.tables",
    "is_run_dir": "sim.results.io",
    "read_run": "sim.results.io",
    "read_summary": "sim.results.io",
    "write_run": "sim.results.io",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
