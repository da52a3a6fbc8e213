"""Calibration files: every malformed field stops with exit code 2 naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.calibration.config import load_calibration
from sim.cli import main
from tests.calibration.conftest import WriteCalibration


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"colour": "red"}, "colour", "unknown field"),
        ({"parameters": {"behaviour.logit_scale_per_min": {"values": [0.1, 0.2]}}}, "parameters", "range"),
        (
            {"parameters": {"behaviour.logit_scale_per_min": {"range": [0.5, 0.1]}}},
            "parameters",
            "low < high",
        ),
        ({"parameters": {"behaviour.logit_scale_per_min": {"range": [".nan", 1]}}}, "parameters", "range"),
        (
            {"parameters": {"behaviour.no_such_field": {"range": [0, 1]}}},
            "parameters.behaviour.no_such",
            "no",
        ),
        (
            {"parameters": {"behaviour.choice": {"range": [0, 1], "scale": True}}},
            "parameters.behaviour",
            "number",
        ),
        ({"observed": {"tickets": "x.csv"}}, "observed", "unknown record kinds"),
        ({"observed": {"survey": "missing.csv"}}, "observed.survey", "existing file"),
        ({"start_date": "2024-02-30"}, "start_date", "date"),
        ({"method": {"cutoff": -1}}, "method.cutoff", "greater than 0"),
        (
            {"method": {"observation_variance": {"survey/60+/walk/trips": 0}}},
            "method.observation_variance",
            "> 0",
        ),
        (
            {"fixed": {"simulation.days": 7}, "parameters": {"simulation.days": {"range": [5, 9]}}},
            "top level",
            "twice",
        ),
    ],
)
def test_bad_fields_exit_2_naming_file_and_field(
    write_calibration: WriteCalibration,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, Any],
    field: str,
    expected: str,
) -> None:
    path = write_calibration(**changes)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and field in err and expected in err, err
    assert not out.exists()  # nothing half-written


def test_bom_and_a_statistic_that_does_not_exist(
    write_calibration: WriteCalibration, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_calibration()
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    loaded = load_calibration(path)  # a byte-order mark is accepted
    assert loaded.scale_base["services.clinic.rate_per_person_year"]["60+"] == 5.0
    assert loaded.overrides({"services.clinic.rate_per_person_year": 2.0})[
        "services.clinic.rate_per_person_year.60+"
    ] == pytest.approx(10.0)
    bad = write_calibration(method={"observation_variance": {"survey/60+/bus/trips": 1.0}})
    assert main(["calibrate", str(bad), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "method.observation_variance.survey/60+/bus/trips" in capsys.readouterr().err


def test_apply_needs_a_calibration_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--apply", str(tmp_path), "--out", str(tmp_path / "o.yaml")]) == 2
    assert "not a finished calibration folder" in capsys.readouterr().err
