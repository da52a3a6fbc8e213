"""Paired replications of a base and a changed plan, in worker processes, with progress and cancel.

Replication ``i`` runs with seed ``seed + i`` for both plans (common random numbers: the same seed
drives the same residents' needs in both). Base replications are cached per (seed, days), so a
planner trying several plans waits only for the changed plan after the first.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.figures.measures import completed_errands, village_burden
from sim.results.io import write_run
from sim.results.tables import RunResult
from sim.runner import run_loaded
from sim.scenario.load import load_scenario

__all__ = ["Outcome", "Replicator", "outcome_of", "run_one"]


@dataclass(frozen=True)
class Outcome:
    """What the page needs of one run (small enough to send between processes).

    Attributes:
        seed: the run's seed.
        summary: the run's ``summary.json`` mapping.
        villages: mean burden per completed errand by village id (min; NaN: none completed).
        facilities: per receiving facility: kind, servers, arrivals, turned away (per open day),
            mean wait (min) and mean utilisation (0..1).
        lines: per line: boardings per day, mean and highest load factor, left behind per day.
    """

    seed: int
    summary: dict[str, Any]
    villages: pd.Series
    facilities: pd.DataFrame
    lines: pd.DataFrame


def outcome_of(result: RunResult) -> Outcome:
    """Reduce a run's tables to an :class:`Outcome`."""
    done = completed_errands(result.residents, result.errands)
    vb = village_burden(result.places, done).set_index("id")["burden_min"]
    vb.index = vb.index.astype(str)
    fd = result.facility_days
    fac = fd.groupby("facility", observed=True).agg(
        kind=("kind", "first"),
        servers=("servers", "first"),
        arrivals_per_day=("arrivals", "mean"),
        turned_away_per_day=("turned_away", "mean"),
        mean_wait_min=("mean_wait_min", "mean"),
        utilisation=("utilisation", "mean"),
    )
    fac.index = fac.index.astype(str)
    fac["kind"] = fac["kind"].astype(str)
    days = int(result.summary["days"])
    ll = result.line_loads
    if ll is not None and len(ll):
        grouped = ll.groupby(ll["line"].astype(str))
        lines = pd.DataFrame(
            {
                "boardings_per_day": grouped["boardings"].sum() / days,
                "mean_load_factor": grouped["load_factor"].mean(),
                "max_load_factor": grouped["load_factor"].max(),
                "left_behind_per_day": grouped["left_behind"].sum() / days,
            }
        )
    else:
        lines = pd.DataFrame(
            columns=["boardings_per_day", "mean_load_factor", "max_load_factor", "left_behind_per_day"]
        )
    return Outcome(int(result.summary["seed"]), result.summary, vb, fac, lines)


def run_one(scenario: str, overlays: Sequence[str], seed: int, days: int, out: str | None) -> Outcome:
    """Run one replication in a worker; write its run folder to ``out`` if given."""
    loaded = load_scenario(scenario, overlays=overlays)
    result = run_loaded(loaded, days=days, seed=seed)
    if out is not None:
        write_run(result, out, scenario_raw=loaded.raw)
    return outcome_of(result)


def _warm() -> int:
    return os.getpid()


Progress = Callable[[int, int], None]


class Replicator:
    """A pool of worker processes (spawned once, reused) and the cache of finished runs."""

    def __init__(self, scenario: Path, *, workers: int | None = None) -> None:
        self.scenario = scenario
        self.workers = workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        self._cache: dict[tuple[str, int, int], Outcome] = {}
        self._lock = threading.Lock()
        for _ in range(self.workers):  # start the workers now, not on the first Run
            self._pool.submit(_warm)

    def close(self) -> None:
        """Stop the workers (pending runs are dropped)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run_pairs(
        self,
        plan: Path | None,
        *,
        seeds: Sequence[int],
        days: int,
        runs_dir: Path,
        progress: Progress,
        cancel: threading.Event,
    ) -> tuple[list[Outcome], list[Outcome]] | None:
        """Base and plan outcomes per seed (plan ``None``: the base itself); ``None`` if cancelled.

        The first seed's runs are also written as run folders in ``runs_dir`` (``base_...``,
        ``<plan stem>_...``) for the report and for checking against the CLI.
        """
        plans: list[tuple[str, list[str]]] = [("base", [])]
        if plan is not None:
            plans.append((plan.stem, [str(plan)]))
        futures: dict[tuple[str, int, int], Future[Outcome]] = {}
        for key, overlays in plans:
            for i, seed in enumerate(seeds):
                ck = (key, seed, days)
                if ck in self._cache or ck in futures:
                    continue
                out = str(runs_dir / run_name(key, seed, days)) if i == 0 else None
                futures[ck] = self._pool.submit(run_one, str(self.scenario), overlays, seed, days, out)
        key_of = {fut: ck for ck, fut in futures.items()}
        pending = set(futures.values())
        progress(0, len(futures))
        try:
            while pending:
                if cancel.is_set():
                    return None
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in finished:
                    outcome = fut.result()
                    with self._lock:
                        self._cache[key_of[fut]] = outcome
                progress(len(futures) - len(pending), len(futures))
        finally:
            for fut in pending:
                fut.cancel()
        base = [self._cache[("base", s, days)] for s in seeds]
        changed = base if plan is None else [self._cache[(plan.stem, s, days)] for s in seeds]
        return base, changed


def run_name(key: str, seed: int, days: int) -> str:
    """Folder name of a run the app writes."""
    return f"{key}_seed{seed}_{days}d"
