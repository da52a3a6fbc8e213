"""What a calibration writes in its folder: posterior draws, a JSON summary, the predictive check, figures."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.sweep.store import write_atomic

if TYPE_CHECKING:
    from sim.calibration.engine import CalibrationState

__all__ = ["parameter_table", "predictive_table", "summary_json", "write_outputs"]


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def parameter_table(state: CalibrationState) -> pd.DataFrame:
    """Per parameter: prior range and 90% interval, posterior median and 90% interval, width ratio."""
    from sim.calibration.engine import prior_interval, weighted_quantile

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


def summary_json(state: CalibrationState) -> dict[str, Any]:
    """Content of ``calibration.json``."""
    c = state.cal.calibration
    params = parameter_table(state)
    pred = predictive_table(state)
    assert state.abc is not None
    return {
        "name": c.name,
        "file": str(state.cal.path),
        "base": str(state.cal.base),
        "start_date": c.start_date.isoformat(),
        "days": state.cal.days,
        "method": c.method.model_dump(mode="json"),
        "parameters": {
            row["parameter"]: {
                "prior": {"range": [row["prior_low"], row["prior_high"]], "dist": row["prior_dist"]},
                "prior_q05": row["prior_q05"],
                "prior_q95": row["prior_q95"],
                "posterior_median": row["posterior_median"],
                "posterior_q05": row["posterior_q05"],
                "posterior_q95": row["posterior_q95"],
                "width_vs_prior_90": row["width_vs_prior_90"],
            }
            for row in params.to_dict("records")
        },
        "waves": state.wave_rows,
        "statistics": {
            "used": len(state.observed.names),
            "dropped": state.observed.dropped,
        },
        "abc_smc": {
            "particles": len(state.abc.particles),
            "tolerances": state.abc.epsilons,
            "acceptance": state.abc.acceptance,
        },
        "predictive_check": {
            "runs": len(state.check) if state.check is not None else 0,
            "inside_90": float(pred["inside_90"].mean()) if len(pred) else None,
            "outside": pred.loc[~pred["inside_90"], "statistic"].tolist(),
        },
        "notes": state.notes,
        "wall_time_s": round(state.wall_time_s, 1),
    }


def write_outputs(state: CalibrationState, out: Path) -> None:
    """Write posterior.parquet, calibration.json, predictive.csv, design.parquet and figures into ``out``."""
    assert state.posterior is not None and state.design is not None
    write_atomic(state.posterior, out / "posterior.parquet")
    write_atomic(state.design, out / "design.parquet")
    write_atomic(predictive_table(state), out / "predictive.csv", csv=True)
    _write_text(
        out / "calibration.json", json.dumps(summary_json(state), indent=1, ensure_ascii=False) + "\n"
    )
    from sim.calibration.figures import write_calibration_figures

    write_calibration_figures(state, out / "figures")
