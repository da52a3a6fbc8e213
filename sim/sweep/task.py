"""One sweep run as a self-contained task: what a worker needs, and the result row it returns."""

from __future__ import annotations

import datetime as dt
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.runner import run_scenario
from sim.sweep.experiment import Scalar

__all__ = ["RunTask", "extract_outcomes", "run_task", "worker_name"]


@dataclass(frozen=True)
class RunTask:
    """Everything one run needs; picklable, so any Dask worker with the same files can run it.

    Attributes:
        run_key: hash of (scenario content, lever, overrides, seed, days).
        design_point: index of the design point in the experiment's design.
        lever: lever name.
        seed: random seed of the run.
        base: absolute path of the base scenario.
        overlays: absolute overlay paths of the lever.
        parameters: parameter path -> value of this design point.
        overrides: every field path -> value the run sets (fixed, parameters, tied fields).
        days: run length, days.
        outcomes: outcome name -> dotted path into the summary.
    """

    run_key: str
    design_point: int
    lever: str
    seed: int
    base: str
    overlays: tuple[str, ...]
    parameters: Mapping[str, Scalar]
    overrides: Mapping[str, Scalar]
    days: int
    outcomes: Mapping[str, str]


def extract_outcomes(summary: Mapping[str, Any], outcomes: Mapping[str, str]) -> dict[str, float]:
    """Outcome name -> number, read from a run summary by dotted path.

    Raises:
        KeyError: a path the summary does not hold (the message names it).
    """
    values: dict[str, float] = {}
    for name, path in outcomes.items():
        node: Any = summary
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"outcome '{name}': summary.json has no '{path}'")
            node = node[part]
        if isinstance(node, (Mapping, bool)) or not isinstance(node, int | float | None):
            raise KeyError(f"outcome '{name}': '{path}' is not a number in summary.json")
        values[name] = float("nan") if node is None else float(node)
    return values


def worker_name() -> str:
    """Address of the Dask worker running the caller, or ``local`` outside a worker."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def run_task(task: RunTask) -> dict[str, Any]:
    """Run one task and return its result row; a run that raises yields a ``failed`` row with the error."""
    started = time.perf_counter()
    outcomes: dict[str, float] = dict.fromkeys(task.outcomes, float("nan"))
    status, error = "ok", None
    try:
        _, result = run_scenario(
            task.base,
            overlays=task.overlays,
            overrides=task.overrides,
            days=task.days,
            seed=task.seed,
        )
        outcomes = extract_outcomes(result.checked_summary().to_json_dict(), task.outcomes)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        status = "failed"
        error = f"{type(exc).__name__}: {exc}" + (f" ({where.filename}:{where.lineno})" if where else "")
    return {
        "run_key": task.run_key,
        "design_point": task.design_point,
        "lever": task.lever,
        "seed": task.seed,
        **task.parameters,
        **outcomes,
        "status": status,
        "error": error,
        "wall_time_s": time.perf_counter() - started,
        "worker": worker_name(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
    }
