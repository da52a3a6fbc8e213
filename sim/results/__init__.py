"""Run outputs: tables, run folders (names imported on first use: reading a summary needs no model)."""

from sim.lazy import lazy_exports

_EXPORTS = {
    "TABLES": "sim.results.result",
    "RunResult": "sim.results.result",
    "RunSummary": "sim.results.summary_model",
    "SCHEMA_VERSION": "sim.results.summary_model",
    "build_result": "sim.results.tables",
    "is_run_dir": "sim.results.io",
    "load_summary": "sim.results.summary_model",
    "read_run": "sim.results.io",
    "read_summary": "sim.results.io",
    "write_run": "sim.results.io",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
