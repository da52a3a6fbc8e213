"""Run a sweep on Dask (a LocalCluster or any scheduler), storing rows as futures complete; resumable."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import SimError, raise_if_stopped
from sim.sweep.experiment import LoadedExperiment, dump_experiment, load_experiment
from sim.sweep.plan import Plan, build_plan
from sim.sweep.store import SweepStore
from sim.sweep.task import RunTask, run_task

__all__ = ["SweepProgress", "SweepReport", "default_out", "result_columns", "run_sweep", "submit_and_store"]


@dataclass
class SweepProgress:
    """Counts of this invocation, passed to the progress callback after each finished run.

    Attributes:
        total: runs to do in this invocation (planned minus stored).
        done: runs finished and stored (ok or failed).
        failed: of those, runs that raised.
        lost: runs whose worker died too often (not stored: the next invocation re-runs them).
        worker: address of the worker that ran the last run.
    """

    total: int
    done: int = 0
    failed: int = 0
    lost: int = 0
    worker: str = ""


@dataclass(frozen=True)
class SweepReport:
    """Outcome of one ``run_sweep`` call.

    Attributes:
        out: the sweep folder.
        planned: distinct runs in the plan.
        skipped: runs already stored and not re-run.
        progress: counts of the runs done now.
        wall_time_s: time of the whole call, seconds.
        run_time_s: summed in-worker wall time of the runs done now, seconds.
    """

    out: Path
    planned: int
    skipped: int
    progress: SweepProgress
    wall_time_s: float
    run_time_s: float


def default_out(exp: LoadedExperiment) -> Path:
    """Default sweep folder: ``sweeps/<experiment name>``."""
    return Path("sweeps") / exp.experiment.name


def result_columns(exp: LoadedExperiment) -> list[str]:
    """Column order of stored result rows."""
    e = exp.experiment
    return [
        "run_key",
        "design_point",
        "lever",
        "seed",
        *e.parameters,
        *e.outcomes,
        "status",
        "error",
        "wall_time_s",
        "worker",
        "finished_at",
    ]


@contextmanager
def _client(
    *, workers: int | None, scheduler: str | None, security: object | None = None
) -> Iterator[object]:
    """A Dask client on the given scheduler (``security``: a ``distributed.Security`` for TLS), or on
    a new LocalCluster of single-threaded worker processes."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s", security=security)
        except (OSError, TimeoutError) as exc:
            raise SimError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    # Ctrl-C goes to the whole process group: the workers ignore it (sim.sweep.quiet_worker) and
    # this process stops the sweep and closes the cluster, so Ctrl-C prints one line, not every
    # worker's traceback. One pressed while the cluster starts is raised once it has started.
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # health routes on a free port
            silence_logs=logging.CRITICAL,  # a worker losing the scheduler on Ctrl-C logs an ERROR
            preload=["sim.sweep.quiet_worker"],
        )
    except Exception:
        if pressed:  # the same Ctrl-C stopped workers still starting (before the preload ignores it)
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        cluster.close()
        raise KeyboardInterrupt
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def run_sweep(
    experiment: str | Path,
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: Callable[[SweepProgress], None] | None = None,
    flush_s: float = 2.0,
    security: object | None = None,
    adopt: bool = False,
) -> SweepReport:
    """Run every planned run not yet stored, on Dask, writing rows from the client as runs complete.

    Args:
        experiment: the experiment YAML file.
        out: sweep folder (default ``sweeps/<name>``).
        workers: LocalCluster worker processes (default: one per CPU); ignored with ``scheduler``.
        scheduler: address of a running Dask scheduler (e.g. ``tcp://10.0.0.5:8786``); workers
            need the same townsim install and the scenario files at the same paths.
        retry_failed: re-run stored failed runs too (by default they are skipped: a run that
            raised raises again with the same inputs and code).
        progress: called after each finished run.
        flush_s: longest time finished rows wait in memory before they are written, seconds.
        security: a ``distributed.Security`` (TLS certificates) for ``scheduler``.
        adopt: take over a sweep folder of an older townsim (no ownership marker) if it holds
            nothing but a sweep's files.

    Raises:
        ScenarioError: the experiment is invalid (checked before anything runs).
        SimError: the folder is locked by another sweep or the scheduler is unreachable.
    """
    started = time.perf_counter()
    exp = load_experiment(experiment)
    plan = build_plan(exp)
    store = SweepStore(out if out is not None else default_out(exp), flush_s=flush_s)
    store.acquire(adopt=adopt)
    try:
        store.write_setup(
            experiment_yaml=dump_experiment(exp), plan=plan.frame(), columns=result_columns(exp)
        )
        todo = _todo(plan, store, retry_failed=retry_failed)
        state = SweepProgress(total=len(todo))
        run_time = 0.0
        if todo:
            run_time = _execute(
                todo, store, state, workers=workers, scheduler=scheduler, progress=progress, security=security
            )
        if retry_failed:
            store.compact()
    finally:
        store.release()
    planned = len({t.run_key for t in plan.tasks})
    return SweepReport(
        out=store.root,
        planned=planned,
        skipped=planned - len(todo),
        progress=state,
        wall_time_s=time.perf_counter() - started,
        run_time_s=run_time,
    )


def _todo(plan: Plan, store: SweepStore, *, retry_failed: bool) -> list[RunTask]:
    """Planned tasks not yet stored, one per distinct run key."""
    stored = store.keys(statuses=("ok",) if retry_failed else ("ok", "failed"))
    todo: dict[str, RunTask] = {}
    for task in plan.tasks:
        if task.run_key not in stored and task.run_key not in todo:
            todo[task.run_key] = task
    return list(todo.values())


def _execute(
    todo: list[RunTask],
    store: SweepStore,
    state: SweepProgress,
    *,
    workers: int | None,
    scheduler: str | None,
    progress: Callable[[SweepProgress], None] | None,
    security: object | None = None,
) -> float:
    """Submit the tasks and store each row as its future completes; returns summed run time, seconds."""
    with _client(workers=workers, scheduler=scheduler, security=security) as client:
        return submit_and_store(client, todo, store, state, progress=progress)


def submit_and_store(
    client: object,
    todo: Sequence[Any],
    store: SweepStore,
    state: SweepProgress,
    *,
    progress: Callable[[SweepProgress], None] | None,
    task_fn: Callable[[Any], dict[str, Any]] = run_task,
) -> float:
    """Submit ``task_fn(task)`` for each task (each with a ``run_key``) on a Dask client and store each
    result row as its future completes; a run whose worker died too often is counted lost, not stored.

    Returns:
        Summed in-worker run time of the stored rows, seconds.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    run_time = 0.0
    futures = [
        client.submit(task_fn, task, key=f"townsim-run-{task.run_key}", pure=False)  # type: ignore[attr-defined]
        for task in todo
    ]
    try:
        for future in as_completed(futures):
            raise_if_stopped()  # a Ctrl-C swallowed inside a garbage-collector callback stops here
            try:
                row = future.result()
            except KilledWorker:
                state.lost += 1
                continue
            store.add(row)
            run_time += row["wall_time_s"]
            state.done += 1
            state.failed += row["status"] == "failed"
            state.worker = row["worker"]
            if progress is not None:
                progress(state)
    finally:
        store.flush()
        client.cancel(futures)  # type: ignore[attr-defined]
    return run_time
