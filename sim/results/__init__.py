"""Run outputs: tables, run folders."""

from sim.results.io import is_run_dir, read_run, read_summary, write_run
from sim.results.tables import TABLES, RunResult, build_result

__all__ = ["TABLES", "RunResult", "build_result", "is_run_dir", "read_run", "read_summary", "write_run"]
