"""Calibration fixtures: county records of a tiny run (written as CSV) and a calibration file writer."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import TINY

START = dt.date(2024, 3, 4)  # a Monday: tiny starts on Monday
DAYS = 21
RECORD_SEED = 99

# Three parameters; a very small design so an end-to-end calibration takes seconds of run time.
BASE_CALIBRATION: dict[str, Any] = {
    "name": "tiny_cal",
    "base": str(TINY),
    "days": DAYS,
    "start_date": START.isoformat(),
    "parameters": {
        "services.clinic.rate_per_person_year": {"range": [0.5, 2.0], "scale": True},
        "facility_defaults.hall.service_time.mean_min": {"range": [8, 30]},
        "behaviour.logit_scale_per_min": {"range": [0.03, 0.5], "dist": "loguniform"},
    },
    "observed": {},
    "method": {"waves": 2, "runs_per_wave": 8, "noise_runs": 3, "check_runs": 2, "particles": 100},
}

WriteCalibration = Callable[..., Path]


@pytest.fixture(scope="session")
def tiny_records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Record kind -> CSV file of a tiny run at seed 99 (not a seed calibrations use)."""
    from sim.observed.observe import observe_tables, records_csv
    from sim.results.result import TABLES
    from sim.runner import run_scenario

    folder = tmp_path_factory.mktemp("records")
    loaded, result = run_scenario(TINY, days=DAYS, seed=RECORD_SEED)
    records = observe_tables({t: getattr(result, t) for t in TABLES}, loaded.scenario, START)
    paths = {}
    for kind in ("hall_tickets", "clinic_visits", "survey"):
        paths[kind] = folder / f"{kind}.csv"
        paths[kind].write_text(records_csv(kind, records[kind]), encoding="utf-8")
    return paths


@pytest.fixture(scope="session")
def tiny_posterior(tmp_path_factory: pytest.TempPathFactory, tiny_records: dict[str, Path]) -> Path:
    """A finished calibration folder of the tiny scenario (one wave, a very small design; read only)."""
    from sim.calibration.engine import calibrate

    folder = tmp_path_factory.mktemp("posterior")
    data = copy.deepcopy(BASE_CALIBRATION)
    data["observed"] = {kind: str(path) for kind, path in tiny_records.items()}
    data["method"] = {"waves": 1, "runs_per_wave": 8, "noise_runs": 3, "check_runs": 0, "particles": 100}
    path = folder / "calibration.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    calibrate(path, out=folder / "cal", workers=1)
    return folder / "cal"


@pytest.fixture
def write_calibration(tmp_path: Path, tiny_records: dict[str, Path]) -> WriteCalibration:
    """Write ``BASE_CALIBRATION`` (observing the tiny records) updated with top-level changes."""

    def write(file: str = "calibration.yaml", **changes: Any) -> Path:
        data = copy.deepcopy(BASE_CALIBRATION)
        data["observed"] = {kind: str(path) for kind, path in tiny_records.items()}
        data.update(changes)
        path = tmp_path / file
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write
