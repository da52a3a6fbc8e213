"""What a calibration writes in its folder: posterior draws, a JSON summary, the predictive check, figures."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.calibration.tables import parameter_table, predictive_table
from sim.sweep.store import write_atomic

if TYPE_CHECKING:
    from sim.calibration.engine import CalibrationState

__all__ = ["summary_json", "write_outputs"]


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
