"""Calibration files: the experiment syntax (base, days, fixed, parameters, also) plus the records
observed, the start date and the method's settings (schema and loading)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from sim.errors import ScenarioError
from sim.observed.records import KINDS as RECORD_KINDS
from sim.scenario.load import get_path, load_scenario, parse_yaml
from sim.sweep.experiment import Parameter, Scalar, _field, _Strict

__all__ = [
    "RECORD_KINDS",
    "Calibration",
    "CalibrationParameter",
    "LoadedCalibration",
    "Method",
    "load_calibration",
]


class CalibrationParameter(Parameter):
    """A calibrated parameter: a ``range`` with its prior distribution (``values`` are not allowed).

    With ``scale: true`` the drawn value multiplies the base scenario's value at the path (a number
    or a mapping of numbers, e.g. every age band of ``services.clinic.rate_per_person_year``).
    """

    scale: bool = Field(default=False, description="the value multiplies the base value(s) at the path")

    @model_validator(mode="after")
    def _bounded(self) -> CalibrationParameter:
        if self.values is not None or self.range is None:
            raise ValueError("a calibrated parameter needs 'range' ([low, high]; the prior's support)")
        if self.integer:
            raise ValueError("calibrated parameters are continuous ('integer' is not allowed)")
        if self.scale and self.also:
            raise ValueError("'also' cannot be combined with 'scale'")
        return self


class Method(_Strict):
    """Settings of history matching and ABC-SMC (defaults suit 2-4 parameters)."""

    waves: int = Field(default=3, ge=1, le=10, description="history-matching waves")
    runs_per_wave: int = Field(default=40, ge=8, le=5000, description="design runs per wave")
    replications: int = Field(default=1, ge=1, le=50, description="seeds per design point")
    first_seed: int = Field(default=1, ge=0, description="candidate runs use seeds first_seed, ... (CRN)")
    noise_runs: int = Field(
        default=30, ge=0, le=500, description="replicate runs at the prior centre for correlations"
    )
    cutoff: float = Field(default=3.0, gt=0, description="implausibility cut-off")
    sample_fraction: float | None = Field(
        default=None, gt=0, le=1, description="resident sample of candidate runs (default: the scenario's)"
    )
    particles: int = Field(default=1000, ge=50, le=100_000, description="ABC-SMC particles")
    check_runs: int = Field(default=20, ge=0, le=1000, description="posterior predictive runs (0: no check)")
    seed: int = Field(default=0, ge=0, description="seed of designs and ABC-SMC")
    observation_variance: dict[str, float] = Field(
        default_factory=dict, description="statistic name -> observation-error variance (overrides)"
    )
    min_records: int = Field(default=5, ge=1, description="statistics from fewer records are dropped")

    @field_validator("observation_variance")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for name, variance in value.items():
            if not variance > 0 or variance == float("inf"):
                raise ValueError(f"expected a finite variance > 0 for '{name}', got {variance}")
        return value


class Calibration(_Strict):
    """A declared calibration: what varies (the prior), what was observed, how to infer."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: str = Field(description="scenario file, relative to the calibration file")
    overlays: tuple[str, ...] = Field(default=(), description="overlay files merged on base")
    days: int | None = Field(default=None, ge=1, description="run length in days (default: the scenario's)")
    start_date: dt.date = Field(description="calendar date of simulation day 0 (records carry dates)")
    fixed: dict[str, Scalar] = Field(default_factory=dict, description="field path -> value for every run")
    parameters: dict[str, CalibrationParameter] = Field(min_length=1, description="field path -> prior")
    observed: dict[str, str] = Field(min_length=1, description="record kind -> file, relative to this file")
    method: Method = Method()

    @field_validator("observed")
    @classmethod
    def _kinds(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(RECORD_KINDS))
        if unknown:
            raise ValueError(f"unknown record kinds {unknown}; expected some of {list(RECORD_KINDS)}")
        return value

    @model_validator(mode="after")
    def _checks(self) -> Calibration:
        paths = [*self.fixed, *self.parameters, *(p for s in self.parameters.values() for p in s.also)]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise ValueError(f"fields set twice (fixed, parameters or 'also'): {twice}")
        if "weight" in self.parameters:
            raise ValueError("'weight' is reserved for posterior weights")
        return self


class LoadedCalibration:
    """A calibration plus the file it came from, with paths resolved and scale bases read.

    Attributes:
        calibration: the validated file.
        path: the calibration file.
        base: absolute path of the base scenario.
        overlays: absolute overlay paths.
        observed: record kind -> absolute file path.
        scale_base: path of each ``scale`` parameter -> the base scenario's value there.
        days: run length, days.
    """

    def __init__(self, calibration: Calibration, path: Path) -> None:
        self.calibration = calibration
        self.path = path
        here = path.parent
        self.base = (here / calibration.base).resolve()
        self.overlays = tuple((here / f).resolve() for f in calibration.overlays)
        self.observed = {kind: (here / f).resolve() for kind, f in calibration.observed.items()}
        for field, file in [
            ("base", self.base),
            *((f"overlays.{i}", f) for i, f in enumerate(self.overlays)),
        ]:
            if not file.is_file():
                raise ScenarioError(
                    str(path), field, f"expected an existing scenario file, {file} is missing"
                )
        for kind, file in self.observed.items():
            if not file.is_file():
                raise ScenarioError(
                    str(path), f"observed.{kind}", f"expected an existing file, {file} is missing"
                )
        loaded = load_scenario(self.base, overlays=self.overlays)
        fields = loaded.scenario.model_dump()
        self.scale_base: dict[str, Any] = {}
        for name, spec in calibration.parameters.items():
            for where, field in [
                (f"parameters.{name}", name),
                *((f"parameters.{name}.also", a) for a in spec.also),
            ]:
                try:
                    value = get_path(fields, field)
                except KeyError:
                    raise ScenarioError(
                        str(path),
                        where,
                        f"expected a field of scenario {self.base.name}; it has no '{field}'",
                    ) from None
                if spec.scale and field == name:
                    if not _numbers(value):
                        raise ScenarioError(
                            str(path), where, "expected 'scale' on a number or a mapping of numbers"
                        )
                    self.scale_base[name] = value
        for field in calibration.fixed:
            try:
                get_path(fields, field)
            except KeyError:
                raise ScenarioError(
                    str(path), f"fixed.{field}", f"expected a field of scenario {self.base.name}"
                ) from None
        self.days = calibration.days or loaded.scenario.simulation.days

    def overrides(self, point: dict[str, float]) -> dict[str, Any]:
        """Field path -> value of one parameter point: fixed values, parameters (scaled), tied fields."""
        out: dict[str, Any] = dict(self.calibration.fixed)
        method = self.calibration.method
        if method.sample_fraction is not None:
            out["simulation.sample_fraction"] = method.sample_fraction
        for name, value in point.items():
            spec = self.calibration.parameters[name]
            if spec.scale:
                out.update(_scaled(name, self.scale_base[name], value))
            else:
                out[name] = value
                out.update(dict.fromkeys(spec.also, value))
        return out


def _numbers(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(_numbers(v) for v in value.values())
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scaled(path: str, base: Any, factor: float) -> dict[str, float]:
    """Leaf paths below ``path`` -> base value times ``factor``."""
    if isinstance(base, dict):
        out: dict[str, float] = {}
        for key, value in base.items():
            out.update(_scaled(f"{path}.{key}", value, factor))
        return out
    return {path: float(base) * factor}


def load_calibration(path: str | Path) -> LoadedCalibration:
    """Read and validate a calibration file, its scenario paths and record files.

    Raises:
        ScenarioError: naming the calibration file, the field and what was expected.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ScenarioError(str(path), "(file)", "expected an existing calibration YAML file")
    data = parse_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(str(path), "(top level)", "expected a mapping of fields")
    try:
        calibration = Calibration.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = "expected no such field (unknown field)" if err["type"] == "extra_forbidden" else err["msg"]
        raise ScenarioError(str(path), _field(err["loc"]), message) from None
    return LoadedCalibration(calibration, path)
