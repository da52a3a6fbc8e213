"""Paired replications of the base and a changed plan for the page, in the background, cancellable.

Runs go through :mod:`sim.replications` (seeds from ``derive_seeds``, world and travel tables built
once per call, runs in forked worker processes), so the page's numbers are those of
``townsim compare`` on ``townsim run --replications`` folders. The base plan's replications are made
once per (first seed, days) and reused for every plan (common random numbers: plan run k uses the
seed of base run k); asking for more replications later runs only the missing base seeds. When the
base is not yet cached, base and plan run in one pool, so both cores stay busy to the end.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from sim.replications import KeepTables, ReplicationSet, RunCancelled, run_many
from sim.scenario.load import LoadedScenario

__all__ = ["BASE", "Pair", "Replicator", "first_run_dir"]

Progress = Callable[[int, int], None]
Pair = tuple[ReplicationSet, ReplicationSet]
#: Label of the base plan's runs (plans are labelled by their overlay's stem, ``plan_<hash>``).
BASE = "base"
#: The groups the page's answer shows (its runs keep cell tables of these only).
CELL_GROUPS = ("former_unit", "age_band")


class Replicator:
    """Runs plans against one base scenario and keeps the base's replications."""

    def __init__(self, base: LoadedScenario, *, workers: int | None = None) -> None:
        self.base = base
        self.workers = workers
        self._cache: dict[tuple[int, int], ReplicationSet] = {}  # (first seed, days) -> base runs
        self._lock = threading.Lock()
        self._warming: tuple[tuple[int, int], threading.Event, threading.Event] | None = None
        self._asked = False  # a Run has come: warming would only compete with it

    def warm(self, *, n: int, seed: int, days: int, runs_dir: Path) -> threading.Thread:
        """Make the base's replications in the background (while the planner edits the first plan),
        so that a first Run with these settings needs only its plan's runs. A Run with other
        settings cancels the warming; one with these settings waits for it to finish."""
        done, cancel = threading.Event(), threading.Event()
        with self._lock:
            if self._asked:  # the planner pressed Run before the runner was ready: nothing to warm
                done.set()
                return threading.Thread()
            self._warming = ((seed, days), done, cancel)

        def work() -> None:
            try:
                self.run_pair(
                    None,
                    n=n,
                    seed=seed,
                    days=days,
                    runs_dir=runs_dir,
                    progress=lambda *_: None,
                    cancel=cancel,
                )
            finally:
                done.set()

        thread = threading.Thread(target=work, name="townsim-warm-base", daemon=True)
        thread.start()
        return thread

    def stop_warming(self) -> None:
        """Cancel a warming in progress (its worker processes stop within ~0.2 s) and wait for it."""
        with self._lock:
            warming = self._warming
        if warming is not None:
            warming[2].set()
            warming[1].wait()

    def _settle_warming(self, key: tuple[int, int], cancel: threading.Event) -> None:
        """Before a Run: wait for a warming of the same settings, cancel one of other settings."""
        with self._lock:
            warming, self._warming, self._asked = self._warming, None, True
        if warming is None or warming[1].is_set():
            return
        if warming[0] != key:
            warming[2].set()
        while not warming[1].wait(0.2):
            if cancel.is_set():
                warming[2].set()

    def cached(self, seed: int, days: int) -> int:
        """How many base replications from ``seed`` over ``days`` days are cached."""
        with self._lock:
            hit = self._cache.get((seed, days))
        return hit.n if hit is not None else 0

    def run_pair(
        self,
        plan: tuple[str, LoadedScenario] | None,
        *,
        n: int,
        seed: int,
        days: int,
        runs_dir: Path,
        progress: Progress,
        cancel: threading.Event,
    ) -> Pair | None:
        """Base and plan replication sets (plan ``None``: the base itself); ``None`` if cancelled.

        Args:
            plan: the plan's label (its overlay's stem) and the loaded base + overlay.
            n: replications; seeds ``seed, seed + 1, …``.

        The first seed's runs are kept as run folders (:func:`first_run_dir`) for the report and
        for checking against the CLI.
        """
        if threading.current_thread().name != "townsim-warm-base":
            self._settle_warming((seed, days), cancel)
        have = self.cached(seed, days)
        missing = max(0, n - have)
        total = missing + (n if plan is not None else 0)
        done_before = 0

        def step(done: int, _total: int) -> None:
            progress(done_before + done, total)

        def run(scenarios: Mapping[str, LoadedScenario], count: int, first: int, keep: KeepTables) -> dict:
            return run_many(
                scenarios,
                n=count,
                seed=first,
                days=days,
                workers=self.workers,
                progress=step,
                cancel=cancel,
                keep_tables=keep,
                tables_dir=runs_dir / f"{days}d",
                cell_groups=CELL_GROUPS,
            )

        try:
            progress(0, total)
            new: dict[str, ReplicationSet] = {}
            if have == 0 and plan is not None:  # one pool for base and plan
                new = run({BASE: self.base, plan[0]: plan[1]}, n, seed, "first")
            else:
                if missing:  # the base seeds not yet run (its first seed's folder only once)
                    new = run({BASE: self.base}, missing, seed + have, "first" if have == 0 else "none")
                    done_before = missing
                if plan is not None:
                    new |= run({plan[0]: plan[1]}, n, seed, "first")
        except RunCancelled:
            return None
        with self._lock:
            old = self._cache.get((seed, days))
            if BASE in new:
                self._cache[(seed, days)] = new[BASE] if old is None else _joined(old, new[BASE])
            base = _head(self._cache[(seed, days)], n)
        return base, (new[plan[0]] if plan is not None else base)


def _head(rset: ReplicationSet, n: int) -> ReplicationSet:
    """The first ``n`` replications of a set."""
    if rset.n <= n:
        return rset
    seeds = rset.seeds[:n]

    def of_seeds(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["seed"].isin(seeds)].reset_index(drop=True) if len(frame) else frame

    return dataclasses.replace(
        rset,
        seeds=seeds,
        summaries=rset.summaries[:n],
        villages=of_seeds(rset.villages),
        facilities=of_seeds(rset.facilities),
        cells=of_seeds(rset.cells),
        facility_cells=of_seeds(rset.facility_cells),
        wall_time_s=rset.wall_time_s[:n],
    )


def _joined(a: ReplicationSet, b: ReplicationSet) -> ReplicationSet:
    """Replications of one scenario made in two calls (``b``'s seeds follow ``a``'s)."""
    return dataclasses.replace(
        a,
        seeds=a.seeds + b.seeds,
        summaries=a.summaries + b.summaries,
        villages=pd.concat([a.villages, b.villages], ignore_index=True),
        facilities=pd.concat([a.facilities, b.facilities], ignore_index=True),
        cells=pd.concat([a.cells, b.cells], ignore_index=True),
        facility_cells=pd.concat([a.facility_cells, b.facility_cells], ignore_index=True),
        wall_time_s=a.wall_time_s + b.wall_time_s,
    )


def first_run_dir(runs_dir: Path, label: str, seed: int, days: int) -> Path:
    """Run folder of the first seed of the base (label :data:`BASE`) or of a plan (its overlay's stem)."""
    return runs_dir / f"{days}d" / label / f"seed_{seed}"
