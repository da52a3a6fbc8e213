"""Calibration to records: history matching with Gaussian-process emulators, then ABC-SMC.

Names are imported on first use (``townsim --help`` must not load scikit-learn or Dask).
"""

from sim.lazy import lazy_exports

_EXPORTS = {
    "calibrate": "sim.calibration.engine",
    "load_calibration": "sim.calibration.config",
    "statistics": "sim.calibration.stats",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
