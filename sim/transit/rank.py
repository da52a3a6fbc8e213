"""Rank candidate lines: each added on its own to a base scenario, run with the same seed, compared."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.runner import run_loaded
from sim.scenario.load import LoadedScenario, load_scenario
from sim.transit.schema import Line
from sim.transit.timetable import build_timetable
from sim.world.world import build_world

__all__ = ["RANK_COLUMNS", "rank_lines", "read_candidates"]

RANK_COLUMNS = (
    "rank",
    "line",
    "bus_hours_per_day",
    "burden_mean_min",
    "burden_fall_min",
    "burden_fall_per_bus_hour",
    "gini_burden",
    "gini_fall",
    "gini_fall_per_bus_hour",
    "bus_trips",
    "no_way_home",
)


def read_candidates(path: str | Path) -> dict[str, dict[str, Any]]:
    """Candidate lines from a YAML file ``lines: {id: <line as in transit.lines>}`` (validated)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), "(file)", "expected an existing YAML file of candidate lines")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), "(file)", f"expected valid YAML: {exc}") from None
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, dict) or not lines:
        raise ScenarioError(str(path), "lines", "expected a mapping of candidate line id -> line")
    extra = set(data) - {"lines", "description", "source"}
    if extra:
        raise ScenarioError(str(path), sorted(extra)[0], "expected only 'lines', 'description', 'source'")
    for lid, spec in lines.items():
        try:
            Line.model_validate(spec)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ScenarioError(str(path), f"lines.{lid}{'.' + loc if loc else ''}", err["msg"]) from None
    return {str(k): v for k, v in lines.items()}


def _bus_hours_per_day(loaded: LoadedScenario, line: str) -> float:
    tt = build_timetable(loaded, build_world(loaded))
    mine = np.array([tt.line_ids[li] == line for li in tt.trip_line], dtype=bool)
    return float((tt.trip_hours()[mine] * tt.trip_days[mine].sum(axis=1)).sum() / 7.0)


def _outcome(summary: dict[str, Any]) -> tuple[float, float, int, int]:
    burden = summary["burden_min"]["mean"]
    gini = summary["equity"]["gini_burden_per_resident"]
    transit = summary.get("transit", {})
    return (
        float("nan") if burden is None else float(burden),
        float("nan") if gini is None else float(gini),
        int(transit.get("bus_trips", 0)),
        int(transit.get("no_way_home", 0)),
    )


def rank_lines(
    base: str | Path,
    candidates: str | Path,
    *,
    overlays: Sequence[str | Path] = (),
    days: int | None = None,
    seed: int | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run the base and base + each candidate line (same seed); rank by fall in burden per bus-hour.

    Returns:
        The ranking (one row per candidate, best first; falls are base minus candidate, so
        positive = better) and the base run's figures.
    """
    lines = read_candidates(candidates)
    base_loaded = load_scenario(base, overlays=overlays)
    existing = set(base_loaded.scenario.transit.lines) if base_loaded.scenario.transit else set()
    clash = sorted(set(lines) & existing)
    if clash:
        raise ScenarioError(
            str(candidates), f"lines.{clash[0]}", "expected an id that the base scenario does not use"
        )
    seed = base_loaded.scenario.simulation.seed if seed is None else seed
    b_burden, b_gini, b_bus, b_nwh = _outcome(run_loaded(base_loaded, days=days, seed=seed).summary)
    rows = []
    for lid, spec in lines.items():
        loaded = load_scenario(base, overlays=overlays, overrides={f"transit.lines.{lid}": spec})
        burden, gini, bus_trips, nwh = _outcome(run_loaded(loaded, days=days, seed=seed).summary)
        hours = _bus_hours_per_day(loaded, lid)
        rows.append(
            {
                "line": lid,
                "bus_hours_per_day": round(hours, 3),
                "burden_mean_min": burden,
                "burden_fall_min": b_burden - burden,
                "burden_fall_per_bus_hour": (b_burden - burden) / hours if hours > 0 else float("nan"),
                "gini_burden": gini,
                "gini_fall": b_gini - gini,
                "gini_fall_per_bus_hour": (b_gini - gini) / hours if hours > 0 else float("nan"),
                "bus_trips": bus_trips,
                "no_way_home": nwh,
            }
        )
    table = (
        pd.DataFrame(rows)
        .sort_values(
            ["burden_fall_per_bus_hour", "gini_fall_per_bus_hour"],
            ascending=False,
            na_position="last",
            kind="stable",
        )
        .reset_index(drop=True)
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table[list(RANK_COLUMNS)], {
        "burden_mean_min": b_burden,
        "gini_burden": b_gini,
        "bus_trips": b_bus,
        "no_way_home": b_nwh,
    }
