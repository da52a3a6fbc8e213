"""Candidate lines file (YAML ``lines: {id: <line as in transit.lines>}``), read and validated.

Kept apart from :mod:`sim.planning.rank_lines` so that readers (the planner's page) need not import the
replication machinery.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario.load import parse_yaml
from sim.scenario.transit import Line

__all__ = ["read_candidates"]


def read_candidates(path: str | Path) -> dict[str, dict[str, Any]]:
    """Candidate lines from a YAML file ``lines: {id: <line as in transit.lines>}`` (validated)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), "(file)", "expected an existing YAML file of candidate lines")
    data = parse_yaml(path) or {}
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
