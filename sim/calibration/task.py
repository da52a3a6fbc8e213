"""One candidate run of a calibration: what a worker needs, and the row of statistics it returns."""

from __future__ import annotations

import datetime as dt
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.sweep.task import worker_name

__all__ = ["CalibrationTask", "run_calibration_task", "simulated_statistics"]


@dataclass(frozen=True)
class CalibrationTask:
    """Everything one candidate run needs; picklable, so any Dask worker with the same files can run it.

    Attributes:
        run_key: hash of (scenario content, start date, overrides, seed, days).
        design_point: wave * 1,000,000 + index of the point in its wave (-1: replicate runs).
        lever: ``calibration@<start date>`` (the store's lever column).
        seed: random seed of the run.
        base: absolute path of the base scenario.
        overlays: absolute overlay paths.
        parameters: parameter path -> value.
        overrides: every field path -> value the run sets.
        days: run length, days.
        start_date: ISO date of simulation day 0.
        kinds: record kinds to derive (those observed).
    """

    run_key: str
    design_point: int
    lever: str
    seed: int
    base: str
    overlays: tuple[str, ...]
    parameters: Mapping[str, float]
    overrides: Mapping[str, Any]
    days: int
    start_date: str
    kinds: tuple[str, ...]


def simulated_statistics(
    base: str,
    *,
    overlays: tuple[str, ...],
    overrides: Mapping[str, Any],
    days: int,
    seed: int,
    start_date: dt.date,
    kinds: tuple[str, ...],
) -> dict[str, float]:
    """Run the scenario, turn its tables into records as a county would hold them, and summarise them.

    The same :func:`sim.calibration.stats.statistics` summarises the observed records.
    """
    from sim.calibration.stats import Window, statistics
    from sim.model.model import AccessModel
    from sim.observed.observe import observe_tables
    from sim.results.result import TABLES
    from sim.results.tables import build_result
    from sim.scenario.load import load_scenario

    loaded = load_scenario(base, overlays=overlays, overrides=overrides)
    model = AccessModel(loaded, seed=seed)  # the run of ``townsim run`` without its summary (not needed here)
    model.run(days)
    result = build_result(model)
    records = observe_tables({name: getattr(result, name) for name in TABLES}, loaded.scenario, start_date)
    weight = 1.0 / loaded.scenario.simulation.sample_fraction  # tickets of a sampled run are a sample
    return statistics({kind: records[kind] for kind in kinds}, Window(start_date, days), ticket_weight=weight)


def run_calibration_task(task: CalibrationTask) -> dict[str, Any]:
    """Run one task and return its row; a run that raises yields a ``failed`` row with the error."""
    started = time.perf_counter()
    values: dict[str, float] = {}
    status, error = "ok", None
    try:
        values = simulated_statistics(
            task.base,
            overlays=task.overlays,
            overrides=task.overrides,
            days=task.days,
            seed=task.seed,
            start_date=dt.date.fromisoformat(task.start_date),
            kinds=task.kinds,
        )
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
        **values,
        "status": status,
        "error": error,
        "wall_time_s": time.perf_counter() - started,
        "worker": worker_name(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
    }
