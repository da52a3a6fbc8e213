"""Parameter sweeps: declared experiments run on Dask into a resumable Parquet store, then analysed.

Names are imported on first use (``townsim --help`` must not load Dask).
"""

from sim.lazy import lazy_exports

_EXPORTS = {
    "Experiment": "sim.sweep.experiment",
    "LoadedExperiment": "sim.sweep.experiment",
    "SweepReport": "sim.sweep.runner",
    "load_experiment": "sim.sweep.experiment",
    "run_sweep": "sim.sweep.runner",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
