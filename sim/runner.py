"""Run a scenario end to end: load, simulate, tabulate, summarise, record provenance."""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from sim.memory import release_free_memory
from sim.metrics.access import access_summary
from sim.metrics.elderly import elderly_summary
from sim.metrics.families import calendar_summary, families_summary
from sim.metrics.health import health_summary
from sim.metrics.levers import lever_summary
from sim.metrics.queue_behaviour import queue_behaviour_summary
from sim.metrics.summary import summarise
from sim.model.model import AccessModel
from sim.results.parquet import ParquetStream
from sim.results.summary_model import RunSummary
from sim.results.tables import RunResult, build_result, trip_rows_frame
from sim.routing.tables import TravelTables
from sim.scenario.load import LoadedScenario, load_scenario, scenario_digest
from sim.transit.tables import BusTables
from sim.version import package_version
from sim.world.world import World

__all__ = ["package_version", "run_loaded", "run_scenario"]


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_loaded(
    loaded: LoadedScenario,
    *,
    days: int | None = None,
    seed: int | None = None,
    population_scale: float = 1.0,
    progress: bool = False,
    world: World | None = None,
    tables: TravelTables | None = None,
    bus: BusTables | None = None,
    tables_ready: Callable[[RunResult], None] | None = None,
    trips: ParquetStream | None = None,
) -> RunResult:
    """Simulate a loaded scenario and return its tables, summary and provenance.

    ``world``, ``tables`` and ``bus`` (built once by the caller from the same scenario) skip
    rebuilding the world, the road travel tables and the bus journey tables; replications pass them.
    ``tables_ready`` is called with the result once its tables exist, before the summary is
    computed (``townsim run`` starts writing them then: :func:`sim.results.io.writing_run`).
    ``trips`` is fed the trips table's rows as the days log them (on the model's background thread,
    so the file is mostly encoded when the run ends); the caller finishes it.
    """
    started = time.perf_counter()
    model = AccessModel(
        loaded, seed=seed, population_scale=population_scale, world=world, tables=tables, bus=bus
    )
    if trips is not None:
        trips.source(partial(trip_rows_frame, model))
        model.trip_log.on_append(trips.feed)
    n_days = loaded.scenario.simulation.days if days is None else days
    if progress:
        from tqdm import tqdm

        model.run(
            n_days, progress=tqdm(range(n_days), desc=loaded.scenario.name, unit="day", file=sys.stderr)
        )
    else:
        model.run(n_days)
    model.finish()  # the tables and the summary need neither the choice tables nor the bus journeys
    release_free_memory()  # what they held goes back to the system before tabulating (sim/memory.py)
    result = build_result(model)
    if tables_ready is not None:
        tables_ready(result)
    summary: dict[str, Any] = {  # blocks of summary.json, validated as a RunSummary below
        "scenario": loaded.run_name,
        "seed": model.seed_value,
        "days": n_days,
        **summarise(
            trips=result.trips,
            errands=result.errands,
            facility_days=result.facility_days,
            residents=result.residents,
            schools=result.schools,
        ),
        "levers": lever_summary(result.errands, result.proxy_trips),
    }
    summary["access"] = access_summary(model, result)  # indices, life circles (sim/metrics/access.py)
    if loaded.scenario.health is not None:  # visits by tier, bypassing, referral (sim/metrics/health.py)
        summary["health"] = health_summary(model, result, n_days)
    if loaded.scenario.elderly is not None:  # impairment, companions, fares (sim/metrics/elderly.py)
        summary["elderly"] = elderly_summary(model, result, n_days)
    if model.queue_behaviour is not None:  # balked, left, put off (sim/metrics/queue_behaviour.py)
        summary["queue_behaviour"] = queue_behaviour_summary(model, result)
    calendar = calendar_summary(model)
    if calendar is not None:  # ferry suspensions, holidays, Spring Festival (sim/metrics/families.py)
        summary["calendar"] = calendar
    families = families_summary(model, result)
    if families is not None:  # boarding, escorts, households, school service radius (same module)
        summary["families"] = families
    result.summary = RunSummary.model_validate(summary)
    gtfs = loaded.scenario.transit.gtfs if loaded.scenario.transit is not None else None
    result.provenance = {
        "scenario_file": str(loaded.path),
        "scenario": loaded.run_name,
        "overlays": loaded.overlay_records(),
        "scenario_sha256": scenario_digest(loaded),
        "outline_file": loaded.scenario.outline,  # land drawn under maps (absolute path) or None
        # the GTFS feed the timetable came from (absolute path) or None; townsim gis draws its routes
        "gtfs_file": str(loaded.data_path("transit.gtfs.path", gtfs.path).resolve()) if gtfs else None,
        "seed": model.seed_value,
        "days": n_days,
        "population_scale": population_scale,
        "townsim_version": package_version(),
        "git_commit": _git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "wall_time_s": round(time.perf_counter() - started, 3),
    }
    return result


def run_scenario(
    path: str | Path,
    *,
    overlays: Sequence[str | Path] = (),
    overrides: Mapping[str, Any] | None = None,
    days: int | None = None,
    seed: int | None = None,
    population_scale: float = 1.0,
    progress: bool = False,
) -> tuple[LoadedScenario, RunResult]:
    """Load a scenario file (plus overlays and overrides) and run it."""
    loaded = load_scenario(path, overlays=overlays, overrides=overrides)
    return loaded, run_loaded(
        loaded, days=days, seed=seed, population_scale=population_scale, progress=progress
    )
