"""Paired replications of the base and a changed plan for the page, in the background, cancellable.

Runs go through :mod:`sim.replications` (seeds from ``derive_seeds``, world and travel tables built
once, forked workers), so the page's numbers are those of ``townsim compare --replications``. The
base plan's replications are cached per (seed, days, n): a planner trying several plans waits only
for the changed plan's runs after the first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from sim.replications import ReplicationSet, RunCancelled, run_replications
from sim.scenario.load import LoadedScenario, load_scenario

__all__ = ["Pair", "Replicator", "first_run_dir"]

Progress = Callable[[int, int], None]
Pair = tuple[ReplicationSet, ReplicationSet]


class Replicator:
    """Runs plans against one base scenario and keeps the base's replications."""

    def __init__(self, base: LoadedScenario, *, workers: int | None = None) -> None:
        self.base = base
        self.workers = workers
        self._cache: dict[tuple[int, int, int], ReplicationSet] = {}
        self._lock = threading.Lock()

    def run_pair(
        self,
        plan: Path | None,
        *,
        n: int,
        seed: int,
        days: int,
        runs_dir: Path,
        progress: Progress,
        cancel: threading.Event,
    ) -> Pair | None:
        """Base and plan replication sets (plan ``None``: the base itself); ``None`` if cancelled.

        The first seed's runs are kept as run folders (:func:`first_run_dir`) for the report and
        for checking against the CLI.
        """
        key = (seed, days, n)
        with self._lock:
            base = self._cache.get(key)
        todo = (base is None) + (plan is not None)
        done_before = 0

        def step(done: int, total: int) -> None:
            progress(done_before + done, total * todo)

        try:
            if base is None:
                base = run_replications(
                    self.base,
                    n=n,
                    seed=seed,
                    days=days,
                    workers=self.workers,
                    progress=step,
                    cancel=cancel,
                    keep_tables="first",
                    tables_dir=runs_dir / "base" / f"{days}d",
                )
                with self._lock:
                    self._cache[key] = base
                done_before = n
            if plan is None:
                return base, base
            loaded = load_scenario(self.base.path, overlays=[plan])
            changed = run_replications(
                loaded,
                n=n,
                seed=seed,
                days=days,
                workers=self.workers,
                progress=step,
                cancel=cancel,
                keep_tables="first",
                tables_dir=runs_dir / plan.stem / f"{days}d",
            )
        except RunCancelled:
            return None
        return base, changed


def first_run_dir(runs_dir: Path, plan: Path | None, seed: int, days: int) -> Path:
    """Run folder of the first seed of the base (``plan`` None) or of a plan, as kept by :meth:`run_pair`."""
    return runs_dir / (plan.stem if plan is not None else "base") / f"{days}d" / "a" / f"seed_{seed}"
