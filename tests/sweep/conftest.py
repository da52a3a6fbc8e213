"""Sweep fixtures: an experiment writer on the tiny county, free ports, Dask subprocess helpers."""

from __future__ import annotations

import copy
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, TINY, TINY_MERGED

TINY_GRID = ROOT / "experiments" / "tiny_grid.yaml"
DASK = ROOT / ".venv" / "bin" / "dask"

# One experiment used across the sweep tests: 2 x 2 grid x 2 levers x 2 seeds = 16 runs of 7 days.
BASE_EXPERIMENT: dict[str, Any] = {
    "name": "tiny_test",
    "base": str(TINY),
    "days": 7,
    "parameters": {
        "facility_defaults.clinic.service_time.mean_min": {"values": [6.0, 14.0]},
        "behaviour.logit_scale_per_min": {"values": [0.1, 0.3]},
    },
    "levers": {"baseline": [], "merged": [str(TINY_MERGED)]},
    "outcomes": {"burden_mean_min": "burden_min.mean", "burden_gini": "equity.gini_burden_per_resident"},
    "sampler": {"method": "grid"},
    "replications": 2,
}

WriteExperiment = Callable[..., Path]


@pytest.fixture
def write_experiment(tmp_path: Path) -> WriteExperiment:
    """Write ``BASE_EXPERIMENT`` updated with keyword changes (top-level keys) and return its path."""

    def write(file: str = "experiment.yaml", **changes: Any) -> Path:
        data = copy.deepcopy(BASE_EXPERIMENT)
        data.update(changes)
        path = tmp_path / file
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
