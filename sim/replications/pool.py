"""Running replications: one world and travel tables per scenario, runs in a forked process pool.

Workers are forked after the world, road travel tables and bus journey tables are built, so
each run reuses them; a fresh fork serves each run. ``cancel`` stops runs in progress within
~0.2 s; workers exit when their parent is killed.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO, TypedDict, Unpack

import numpy as np
import pandas as pd
from scipy import stats

from sim.errors import SimError
from sim.replications.stats import (
    LEVEL,
    PrecisionTarget,
    Replication,
    ReplicationSet,
    derive_seeds,
    facility_table,
    mean_interval,
    village_table,
)
from sim.results.io import write_run

if TYPE_CHECKING:  # the model is imported only by the functions that run it
    from sim.routing.tables import TravelTables
    from sim.scenario.load import LoadedScenario
    from sim.transit.tables import BusTables
    from sim.world.world import World

__all__ = [
    "KeepTables",
    "Progress",
    "RunCancelled",
    "RunOptions",
    "run_many",
    "run_paired",
    "run_replications",
]

KeepTables = Literal["none", "first", "all"]
Progress = Callable[[int, int], None]


class RunCancelled(SimError):
    """Replications stopped because ``cancel`` was set; ``partial`` holds the finished ones."""

    exit_code = 130

    def __init__(self, partial: dict[str, ReplicationSet]) -> None:
        self.partial = partial
        super().__init__("replications cancelled")


_SHARED: dict[
    str,
    tuple[LoadedScenario, World, TravelTables, BusTables | None, int | None, float, tuple[str, ...] | None],
] = {}
_CANCEL_POLL_S = 0.2  # how often a waiting pool looks at ``cancel`` (s)


def _run_one(task: tuple[str, int, str | None]) -> tuple[str, Replication]:
    """One replication in a worker: the world and tables come from the forked parent."""
    from sim.metrics.cells import cell_tables
    from sim.runner import run_loaded

    label, seed, keep = task
    loaded, world, tables, bus, days, scale, cell_groups = _SHARED[label]
    result = run_loaded(
        loaded, days=days, seed=seed, population_scale=scale, world=world, tables=tables, bus=bus
    )
    if keep is not None:
        write_run(result, keep, scenario_raw=loaded.raw)
    rep = Replication(
        seed,
        result.checked_summary(),
        village_table(result),
        facility_table(result),
        result.provenance["wall_time_s"],
        *cell_tables(result.residents, result.errands, result.trips, cell_groups),
    )
    return label, rep


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _execute(
    tasks: list[tuple[str, int, str | None]],
    *,
    workers: int,
    progress: Progress | None,
    cancel: threading.Event | None,
    done_before: int,
    total: int,
) -> dict[str, list[Replication]]:
    """Run the tasks (serially or in a forked pool); results grouped by label, in task order."""
    got: dict[tuple[str, int], Replication] = {}

    def finished(label: str, rep: Replication) -> None:
        got[(label, rep.seed)] = rep
        if progress is not None:
            progress(done_before + len(got), total)

    def grouped() -> dict[str, list[Replication]]:
        out: dict[str, list[Replication]] = {}
        for label, seed, _ in tasks:
            if (label, seed) in got:
                out.setdefault(label, []).append(got[(label, seed)])
        return out

    can_fork = "fork" in multiprocessing.get_all_start_methods()
    # a cancellable call always runs in worker processes, so that cancel can stop runs in progress
    if not can_fork or (cancel is None and (workers <= 1 or len(tasks) <= 1)):
        for task in tasks:
            if cancel is not None and cancel.is_set():
                raise _Cancelled(grouped())
            finished(*_run_one(task))
        return grouped()
    # a fresh fork per run (maxtasksperchild=1): memory a run leaves behind does not pile up in a worker
    pool_ctx = multiprocessing.get_context("fork")
    with pool_ctx.Pool(min(workers, len(tasks)), initializer=_worker_init, maxtasksperchild=1) as pool:
        results = pool.imap_unordered(_run_one, tasks)
        while len(got) < len(tasks):
            if cancel is not None and cancel.is_set():
                pool.terminate()  # stops the runs in progress (SIGTERM to the workers)
                raise _Cancelled(grouped())
            try:
                finished(*results.next(timeout=_CANCEL_POLL_S))
            except multiprocessing.TimeoutError:
                continue
        # let the workers finish (the pool's terminate on leaving ``with`` can miss a worker its
        # handler thread is forking at that moment, and wait for it forever)
        pool.close()
        pool.join()
    return grouped()


def _worker_init() -> None:
    """Workers end quietly when the pool stops them (default SIGTERM/SIGHUP, not the CLI's handler)
    and as soon as their parent process is gone (killed with SIGKILL): nobody would read their
    result, and sending it would fail with a broken pipe."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    parent = os.getppid()

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(_CANCEL_POLL_S)
        os._exit(1)

    threading.Thread(target=watch_parent, name="townsim-parent-watch", daemon=True).start()
    sys.stderr = _SilentOnceOrphaned(sys.stderr, parent)


class _SilentOnceOrphaned:
    """A worker's stderr that drops what is written after the parent died (the broken-pipe
    traceback of a result sent in the moment before the parent watch ends the worker)."""

    def __init__(self, stream: TextIO, parent: int) -> None:
        self._stream, self._parent = stream, parent

    def write(self, text: str) -> int:
        if os.getppid() != self._parent:
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


class _Cancelled(Exception):
    def __init__(self, reps: dict[str, list[Replication]]) -> None:
        self.reps = reps


def _target_values(sets: list[ReplicationSet], target: PrecisionTarget) -> np.ndarray:
    """Per-seed values of the target metric (of B - A, paired by seed, when two sets are given)."""
    frames = []
    for rset in sets:
        m = rset.metrics()
        hit = (
            (m["metric"] == target.metric)
            & (m["group_kind"] == target.group_kind)
            & (m["group"] == target.group)
        )
        if not hit.any():
            raise SimError(
                f"--precision: no metric {target.group_kind}:{target.group}:{target.metric} in summary.json "
                "(expected a dotted path such as burden_min.mean)"
            )
        frames.append(m[hit].set_index("seed")["value"])
    if len(frames) == 1:
        return frames[0].to_numpy(float)
    return (frames[1] - frames[0]).dropna().to_numpy(float)


class RunOptions(TypedDict, total=False):
    """Keyword options of :func:`run_replications` and :func:`run_paired` (see :func:`run_many`)."""

    seed: int | None
    days: int | None
    workers: int | None
    progress: Progress | None
    cancel: threading.Event | None
    target: PrecisionTarget | None
    max_n: int | None
    keep_tables: KeepTables
    tables_dir: str | Path | None
    cell_groups: Sequence[str] | None


def run_many(
    scenarios: Mapping[str, LoadedScenario],
    *,
    n: int,
    seed: int | None = None,
    days: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    target: PrecisionTarget | None = None,
    max_n: int | None = None,
    keep_tables: KeepTables = "none",
    tables_dir: str | Path | None = None,
    population_scale: float = 1.0,
    cell_groups: Sequence[str] | None = None,
) -> dict[str, ReplicationSet]:
    """Run several scenarios with the same seeds in one pool of worker processes.

    Each scenario's world, road travel tables and bus journey tables are built once here;
    workers are forked after that and reuse them. Seeds come from :func:`derive_seeds` (``seed``
    default: the first scenario's ``simulation.seed``). With ``target``, replications are added
    (up to ``max_n``) until the 95% CI half-width of the target metric (of the first scenario,
    or of the second minus the first when there are two or more) is at most ``target.half_width``.
    ``keep_tables`` writes full run folders ``<tables_dir>/<label>/seed_<s>`` of the first seed
    or of every seed. ``cell_groups``: the groups each run's cell tables keep
    (:func:`sim.metrics.cells.cell_tables`; default all, ``()`` the county only: less work).

    Raises:
        RunCancelled: ``cancel`` was set; its ``partial`` holds the finished replications.
    """
    from sim.routing.tables import build_travel_tables
    from sim.runner import package_version
    from sim.transit.tables import build_bus_tables
    from sim.world.world import build_world

    if not scenarios:
        raise SimError("replications: no scenario given")
    if keep_tables != "none" and tables_dir is None:
        raise SimError("replications: keep_tables needs tables_dir")
    first = next(iter(scenarios.values()))
    base_seed = first.scenario.simulation.seed if seed is None else int(seed)
    max_n = max(n, max_n or n) if target is not None else n
    all_seeds = derive_seeds(base_seed, max_n)
    workers = _cpus() if workers is None else max(1, int(workers))
    started = time.perf_counter()
    call = uuid.uuid4().hex  # this call's keys in _SHARED: concurrent calls (threads) do not collide
    key = {label: f"{call}/{label}" for label in scenarios}
    for label, loaded in scenarios.items():
        world = build_world(loaded, population_scale=population_scale)
        transit = loaded.scenario.transit
        bus = build_bus_tables(loaded, world) if transit is not None and transit.runs else None
        _SHARED[key[label]] = (
            loaded,
            world,
            build_travel_tables(world, loaded.scenario.modes),
            bus,
            days,
            population_scale,
            None if cell_groups is None else tuple(cell_groups),
        )
    sets = {
        label: ReplicationSet(
            scenario=loaded.run_name,
            title=loaded.scenario.title.model_dump() if loaded.scenario.title is not None else None,
            days=loaded.scenario.simulation.days if days is None else days,
            base_seed=base_seed,
            seeds=[],
            summaries=[],
            villages=pd.DataFrame(),
            facilities=pd.DataFrame(),
        )
        for label, loaded in scenarios.items()
    }
    try:
        want, done = n, 0
        while True:
            batch = all_seeds[done:want]
            tasks = []
            for label in scenarios:
                for s in batch:
                    keep = keep_tables == "all" or (keep_tables == "first" and s == all_seeds[0])
                    folder = str(Path(tables_dir, label, f"seed_{s}")) if keep and tables_dir else None
                    tasks.append((key[label], s, folder))
            total = done * len(scenarios) + len(tasks)
            try:
                reps = _execute(
                    tasks,
                    workers=workers,
                    progress=progress,
                    cancel=cancel,
                    done_before=done * len(scenarios),
                    total=total,
                )
            except _Cancelled as stop:
                for k, r in stop.reps.items():
                    sets[k.split("/", 1)[1]]._extend(r)
                raise RunCancelled(sets) from None
            for k, r in reps.items():
                sets[k.split("/", 1)[1]]._extend(r)
            done = want
            if target is None or done >= max_n:
                break
            values = _target_values(list(sets.values())[:2], target)
            count, _, low, high = mean_interval(values)
            if count >= 2 and (high - low) / 2 <= target.half_width:
                break
            tq = stats.t.ppf(0.5 + LEVEL / 2, max(count - 1, 1))
            needed = (
                math.ceil((tq * np.nanstd(values, ddof=1) / target.half_width) ** 2)
                if count >= 2
                else done + 1
            )
            want = min(max_n, max(done + 1, needed))
    finally:
        for label in scenarios:
            _SHARED.pop(key[label], None)
    wall = round(time.perf_counter() - started, 3)
    for label, rset in sets.items():
        rset.provenance = {
            "scenario_file": str(scenarios[label].path),
            "scenario": rset.scenario,
            "base_seed": base_seed,
            "seeds": rset.seeds,
            "days": rset.days,
            "population_scale": population_scale,
            "workers": workers,
            "precision_target": None if target is None else vars(target),
            "townsim_version": package_version(),
            "wall_time_s_all_runs": wall,
        }
    return sets


def run_replications(loaded: LoadedScenario, *, n: int, **options: Unpack[RunOptions]) -> ReplicationSet:
    """Run one scenario ``n`` times with seeds ``derive_seeds(seed, n)`` and collect the results.

    The world and travel tables are built once and reused; runs go to ``workers`` forked
    processes (default: one per CPU; 1 = in this process). ``progress(done, total)`` is called
    after each finished run; ``cancel`` (a ``threading.Event``) stops the runs in progress
    within ~0.2 s (their worker processes are terminated) and raises :class:`RunCancelled`. With
    ``target`` replications are added up to ``max_n`` until its CI half-width is reached.
    ``keep_tables`` ("first" or "all") writes full run folders ``<tables_dir>/a/seed_<s>``.
    Options as in :func:`run_many`.
    """
    return run_many({"a": loaded}, n=n, **options)["a"]


def run_paired(
    a: LoadedScenario, b: LoadedScenario, *, n: int, **options: Unpack[RunOptions]
) -> tuple[ReplicationSet, ReplicationSet]:
    """Run A and B with the same seeds in one pool; with ``target`` grow until B - A is precise enough.

    Options as in :func:`run_many`.
    """
    sets = run_many({"a": a, "b": b}, n=n, **options)
    return sets["a"], sets["b"]
