"""Parameter sweeps: declared experiments run on Dask into a resumable Parquet store, then analysed.

``sim.sweep`` is this package and also callable: ``sim.sweep("experiments/tiny_grid.yaml")`` runs
and analyses a sweep (:func:`sim.api.sweep`). Names are imported on first use (``townsim --help``
must not load Dask).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING

from sim.lazy import lazy_exports

if TYPE_CHECKING:
    from sim.sweep.analyze import Analysis

_EXPORTS = {
    "Experiment": "sim.sweep.experiment",
    "LoadedExperiment": "sim.sweep.experiment",
    "SweepReport": "sim.sweep.runner",
    "load_experiment": "sim.sweep.experiment",
    "run_sweep": "sim.sweep.runner",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)


class _CallablePackage(types.ModuleType):
    """The package, callable as :func:`sim.api.sweep` (``import sim`` makes ``sim.sweep`` this package)."""

    def __call__(
        self,
        experiment: str | Path,
        *,
        out: str | Path | None = None,
        workers: int | None = None,
        scheduler: str | None = None,
        retry_failed: bool = False,
    ) -> Analysis:
        """Run a parameter sweep and analyse it: :func:`sim.api.sweep` (same arguments and result)."""
        from sim.api import sweep

        return sweep(experiment, out=out, workers=workers, scheduler=scheduler, retry_failed=retry_failed)


sys.modules[__name__].__class__ = _CallablePackage
