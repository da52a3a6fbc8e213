"""Posterior tables of a calibration: weighted quantiles, prior intervals, the parameter table and
the posterior predictive table (read by the outputs, the figures and the command line)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.sweep.samplers import from_unit

if TYPE_CHECKING:
    from sim.calibration.engine import CalibrationState

__all__ = ["parameter_table", "predictive_table", "prior_interval", "weighted_quantile"]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of weighted draws."""
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    cum /= cum[-1]
    return float(values[order][min(int(np.searchsorted(cum, q)), len(values) - 1)])


def prior_interval(spec: Any) -> tuple[float, float]:
    """5% and 95% quantiles of a parameter's prior."""
    return float(from_unit(spec, 0.05)), float(from_unit(spec, 0.95))


def parameter_table(state: CalibrationState) -> pd.DataFrame:
    """Per parameter: prior range and 90% interval, posterior median and 90% interval, width ratio."""
    assert state.posterior is not None
    rows = []
    w = state.posterior["weight"].to_numpy()
    for name, spec in state.cal.calibration.parameters.items():
        v = state.posterior[name].to_numpy()
        lo, hi = prior_interval(spec)
        q05, q50, q95 = (weighted_quantile(v, w, q) for q in (0.05, 0.5, 0.95))
        rows.append(
            {
                "parameter": name,
                "prior_low": spec.range[0] if spec.range else np.nan,
                "prior_high": spec.range[1] if spec.range else np.nan,
                "prior_dist": spec.dist,
                "prior_q05": lo,
                "prior_q95": hi,
                "posterior_median": q50,
                "posterior_q05": q05,
                "posterior_q95": q95,
                "width_vs_prior_90": (q95 - q05) / (hi - lo),
                "width_vs_prior_range": (q95 - q05) / (spec.range[1] - spec.range[0])
                if spec.range
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def predictive_table(state: CalibrationState) -> pd.DataFrame:
    """Per statistic: observed value, its observation sd, and the 90% band of posterior predictive runs."""
    assert state.check is not None
    obs = state.observed
    sims = (
        state.check[obs.names].to_numpy(dtype=float)
        if len(state.check)
        else np.full((0, len(obs.names)), np.nan)
    )
    with np.errstate(all="ignore"):
        low = np.nanquantile(sims, 0.05, axis=0) if len(sims) else np.full(len(obs.names), np.nan)
        mid = np.nanquantile(sims, 0.5, axis=0) if len(sims) else low
        high = np.nanquantile(sims, 0.95, axis=0) if len(sims) else low
    sd = np.sqrt(obs.variances)
    return pd.DataFrame(
        {
            "statistic": obs.names,
            "observed": obs.values,
            "observation_sd": sd,
            "records": obs.counts,
            "simulated_q05": low,
            "simulated_median": mid,
            "simulated_q95": high,
            # the band widened by the observation error: the observed value's own noise counts
            "inside_90": (obs.values >= low - 1.645 * sd) & (obs.values <= high + 1.645 * sd),
        }
    )
