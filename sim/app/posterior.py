"""``townsim app --posterior DIR --draws K``: each Run at K draws of a calibration's posterior.

The draws are picked with the Run's seed, as ``townsim compare --posterior --seed S`` picks them.
The page's replications are split over the draws: R = max(2, replications // K) seeds per draw,
the same R seeds for the base and the plan at every draw (common random numbers), so a Run makes
K x R runs of each plan. The county answer then carries B - A with a 95% interval that includes
parameter uncertainty and the law-of-total-variance split (:func:`total_variance`, as
``townsim compare --posterior``); the maps, tables and per-township sentences are those of the
first draw.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibration.posterior_compare import VARIANCE_COLUMNS, draw_rows, posterior_draws, total_variance
from sim.metrics.answer import decimals
from sim.replications import ReplicationSet, RunCancelled, run_many
from sim.scenario.load import LoadedScenario, load_scenario

__all__ = ["PosteriorRuns", "per_draw_replications"]

Progress = Callable[[int, int], None]
BASE = "base"
CELL_GROUPS = ("former_unit", "age_band")


def per_draw_replications(replications: int, draws: int) -> int:
    """Seeds per draw: the page's replications split over the draws, at least 2."""
    return max(2, replications // draws)


def _offset(progress: Progress, before: int, total: int) -> Progress:
    """``progress`` of one draw's runs, counted after the ``before`` runs of earlier draws."""

    def step(done: int, _total: int) -> None:
        progress(before + done, total)

    return step


def _num(x: Any) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


class PosteriorRuns:
    """The posterior draws (made once at start) and the runs of a plan and the base at each.

    Raises:
        SimError: ``folder`` is not a finished calibration folder, or ``draws`` < 2.
    """

    def __init__(self, folder: str | Path, draws: int, *, workers: int | None = None) -> None:
        from sim.errors import SimError

        if draws < 2:
            raise SimError("--draws: expected at least 2 posterior draws (variance between draws)")
        self.folder = Path(folder)
        self.draws = draws
        self.workers = workers
        self._overrides: dict[int, list[dict]] = {}
        self.overrides(0)  # a folder that is not a finished calibration stops the start

    def overrides(self, seed: int) -> list[dict]:
        """The field overrides of each draw, picked with ``seed`` as ``compare --posterior --seed``
        picks them (so the command the page shows reproduces its numbers)."""
        if seed not in self._overrides:
            table, to_overrides = posterior_draws(self.folder, self.draws, seed=seed)
            self._overrides[seed] = [to_overrides(point) for point in table.to_dict("records")]
        return self._overrides[seed]

    def run_pair(
        self,
        base: LoadedScenario,
        plan: tuple[str, Path] | None,
        *,
        replications: int,
        seed: int,
        days: int,
        runs_dir: Path,
        progress: Progress,
        cancel: threading.Event,
    ) -> tuple[tuple[ReplicationSet, ReplicationSet], dict[str, Any]] | None:
        """The first draw's base and plan sets and the posterior block of the answer; ``None`` if
        cancelled.

        Args:
            base: the base scenario (loaded again at each draw with the draw's parameters).
            plan: the plan's label (its overlay's stem) and its overlay file (``None``: the base).
            replications: the page's replications, split over the draws.
            seed: first seed (the same seeds at every draw, for base and plan).
            days: simulated days per run.
            runs_dir: the first draw's first-seed run folders go to ``runs_dir/<days>d/<label>``.
            progress: called with (runs done, runs in all).
            cancel: set to stop; the worker processes stop within ~0.2 s.
        """
        r = per_draw_replications(replications, self.draws)
        labels = [BASE] if plan is None else [BASE, plan[0]]
        total = self.draws * r * len(labels)
        first: tuple[ReplicationSet, ReplicationSet] | None = None
        rows = []
        progress(0, total)
        for k, overrides in enumerate(self.overrides(seed)):
            scenarios = {BASE: load_scenario(base.path, overrides=overrides)}
            if plan is not None:
                scenarios[plan[0]] = load_scenario(base.path, overlays=[plan[1]], overrides=overrides)
            before = k * r * len(labels)
            try:
                sets = run_many(
                    scenarios,
                    n=r,
                    seed=seed,
                    days=days,
                    workers=self.workers,
                    progress=_offset(progress, before, total),
                    cancel=cancel,
                    keep_tables="first" if k == 0 else "none",
                    tables_dir=runs_dir / f"{days}d",
                    cell_groups=CELL_GROUPS,
                )
            except RunCancelled:
                return None
            pair = (sets[BASE], sets[labels[-1]])
            if first is None:
                first = pair
            rows.append(draw_rows(k, *pair))
        assert first is not None
        return first, self.answer(pd.concat(rows, ignore_index=True), r)

    def answer(self, per_draw: pd.DataFrame, replications: int) -> dict[str, Any]:
        """The answer's ``posterior`` block: headline sentences (en, zh) and per-metric rows."""
        from sim.calibration.posterior_compare import HEADLINE
        from sim.calibration.posterior_report import sentences

        table = total_variance(per_draw, replications)
        headline = table[table["metric"].isin(HEADLINE)]
        rows = [
            {
                "metric": str(row["metric"]),
                **{c: _num(row[c]) for c in VARIANCE_COLUMNS},
                "decimals": decimals((float(row["ci_high"]) - float(row["ci_low"])) / 2, default=2),
            }
            for row in headline.to_dict("records")
        ]
        return {
            "folder": str(self.folder),
            "draws": self.draws,
            "replications_per_draw": replications,
            "sentences": {
                lang: sentences(table, "The plan" if lang == "en" else "该方案", lang)
                for lang in ("en", "zh")
            },
            "metrics": rows,
        }
