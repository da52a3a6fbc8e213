"""Parameter sweeps: declared experiments run on Dask into a resumable Parquet store, then analysed."""

from sim.sweep.experiment import Experiment, LoadedExperiment, load_experiment
from sim.sweep.runner import SweepReport, run_sweep

__all__ = ["Experiment", "LoadedExperiment", "SweepReport", "load_experiment", "run_sweep"]
