"""Experiment files: base scenario, parameters, levers, outcomes, sampler, seeds (schema and loading)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.argtypes import MAX_DAYS, MAX_REPLICATIONS, MAX_SEED
from sim.errors import ScenarioError
from sim.scenario.load import parse_yaml

#: Largest sampler size n (points, Sobol base or Morris trajectories).
MAX_DESIGN_N = 1_000_000

__all__ = [
    "RESERVED_COLUMNS",
    "Experiment",
    "LoadedExperiment",
    "Parameter",
    "Sampler",
    "Scalar",
    "dump_experiment",
    "load_experiment",
]

Scalar = bool | int | float | str
RESERVED_COLUMNS = (
    "run_key",
    "design_point",
    "lever",
    "seed",
    "status",
    "error",
    "wall_time_s",
    "worker",
    "finished_at",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Strict):
    """One scenario field that varies: a list of ``values``, or a ``range`` with a distribution.

    Grids use ``values`` or ``levels`` evenly spaced points of ``range`` (log-spaced for
    ``loguniform``). Random samplers map a uniform draw through the distribution's inverse CDF;
    ``values`` are then drawn with equal probability. ``also`` ties further fields to the same
    value (e.g. the headway of every bus line).
    """

    values: tuple[Scalar, ...] | None = Field(default=None, min_length=1)
    range: tuple[float, float] | None = Field(default=None, description="[low, high], in the field's unit")
    dist: Literal["uniform", "loguniform", "triangular", "normal"] = "uniform"
    mode: float | None = Field(default=None, description="peak of a triangular distribution")
    mean: float | None = Field(default=None, description="mean of a normal distribution")
    sd: float | None = Field(default=None, gt=0, description="standard deviation of a normal distribution")
    levels: int = Field(default=3, ge=2, description="grid points across range")
    integer: bool = Field(default=False, description="round drawn values to whole numbers")
    also: tuple[str, ...] = Field(default=(), description="further field paths set to the same value")

    @model_validator(mode="after")
    def _one_form(self) -> Parameter:
        if self.values is not None:
            if self.range is not None or self.dist != "uniform":
                raise ValueError("give either 'values' or 'range'/'dist', not both")
            return self
        if self.dist == "normal":
            if self.mean is None or self.sd is None:
                raise ValueError(
                    "a normal distribution needs 'mean' and 'sd' (and optionally 'range' to truncate)"
                )
        elif self.range is None:
            raise ValueError("expected 'values' or 'range' ([low, high])")
        if self.range is not None:
            low, high = self.range
            if not low < high:
                raise ValueError(f"range must be [low, high] with low < high, got {list(self.range)}")
            if self.dist == "loguniform" and low <= 0:
                raise ValueError("a loguniform range must be positive")
            if self.dist == "triangular" and (self.mode is None or not low <= self.mode <= high):
                raise ValueError("a triangular distribution needs 'mode' within range")
        return self


class Sampler(_Strict):
    """How design points are drawn.

    ``grid``: every combination of the parameters' values. ``lhs``: ``n`` Latin-hypercube points.
    ``sobol``: Saltelli's scheme with base ``n`` (a power of 2), n*(k+2) points for k parameters
    (n*(2k+2) with ``second_order``). ``morris``: ``n`` trajectories of k+1 points on ``levels`` levels.
    """

    method: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    n: int | None = Field(default=None, ge=1, le=MAX_DESIGN_N, description="points, base or trajectories")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="sampler seed, 0..2**32-1")
    second_order: bool = False
    levels: int = Field(default=4, ge=2, description="Morris grid levels (even)")

    @model_validator(mode="after")
    def _n_needed(self) -> Sampler:
        if self.method != "grid" and self.n is None:
            raise ValueError(f"sampler '{self.method}' needs 'n'")
        if self.method == "sobol" and self.n is not None and self.n & (self.n - 1):
            raise ValueError(f"sobol needs n a power of 2, got {self.n}")
        if self.method == "morris" and self.levels % 2:
            raise ValueError(f"morris needs an even number of levels, got {self.levels}")
        return self


def _no_overlay() -> dict[str, tuple[str, ...]]:
    return {"base": ()}


class Experiment(_Strict):
    """A declared experiment: what varies, under which levers, what is measured, how often."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: str = Field(description="scenario file, relative to the experiment file")
    days: int | None = Field(
        default=None, ge=1, le=MAX_DAYS, description="run length in days (default: the scenario's)"
    )
    fixed: dict[str, Scalar] = Field(default_factory=dict, description="field path -> value for every run")
    parameters: dict[str, Parameter] = Field(default_factory=dict, description="field path -> variation")
    levers: dict[str, tuple[str, ...]] = Field(
        default_factory=_no_overlay, min_length=1, description="name -> overlay files merged on base"
    )
    outcomes: dict[str, str] = Field(min_length=1, description="name -> dotted path into summary.json")
    sampler: Sampler = Sampler()
    replications: int = Field(
        default=1, ge=1, le=MAX_REPLICATIONS, description="seeds per design point and lever"
    )
    first_seed: int = Field(
        default=1, ge=0, le=MAX_SEED, description="seeds are first_seed, first_seed+1, ..."
    )

    @model_validator(mode="after")
    def _seeds_in_range(self) -> Experiment:
        if self.first_seed + self.replications - 1 > MAX_SEED:
            raise ValueError(f"first_seed + replications - 1 must stay at most {MAX_SEED} (2**32-1)")
        return self

    @field_validator("levers")
    @classmethod
    def _lever_names(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name in value:
            if not name or "/" in name:
                raise ValueError(f"lever names must be non-empty without '/', got {name!r}")
        return value

    @model_validator(mode="after")
    def _columns(self) -> Experiment:
        if self.sampler.method != "grid" and not self.parameters:
            raise ValueError(f"sampler '{self.sampler.method}' needs at least one parameter")
        for path, spec in self.parameters.items():
            if self.sampler.method == "grid" and spec.values is None and spec.range is None:
                raise ValueError(f"parameter '{path}': a grid needs 'values' or 'range'")
        set_twice = sorted({p for p in self.field_paths() if self.field_paths().count(p) > 1})
        if set_twice:
            raise ValueError(f"fields set twice (fixed, parameters or 'also'): {set_twice}")
        names = [*self.parameters, *self.outcomes]
        clash = sorted({n for n in names if n in RESERVED_COLUMNS or names.count(n) > 1})
        if clash:
            raise ValueError(
                f"parameter and outcome names must be unique and not {list(RESERVED_COLUMNS)}: {clash}"
            )
        return self

    def field_paths(self) -> list[str]:
        """Every scenario field path the experiment sets: fixed, parameters and their ``also`` paths."""
        tied = [p for spec in self.parameters.values() for p in spec.also]
        return [*self.fixed, *self.parameters, *tied]

    def overrides(self, point: dict[str, Scalar]) -> dict[str, Scalar]:
        """Field path -> value of one design point: fixed values, parameters and tied fields."""
        out = dict(self.fixed)
        for path, value in point.items():
            out[path] = value
            out.update(dict.fromkeys(self.parameters[path].also, value))
        return out

    @property
    def seeds(self) -> tuple[int, ...]:
        """Replication seeds."""
        return tuple(range(self.first_seed, self.first_seed + self.replications))


class LoadedExperiment:
    """An experiment plus the file it came from, with paths resolved against that file.

    Attributes:
        experiment: the validated experiment.
        path: the experiment file.
        base: absolute path of the base scenario.
        levers: lever name -> absolute overlay paths.
    """

    def __init__(self, experiment: Experiment, path: Path) -> None:
        self.experiment = experiment
        self.path = path
        here = path.parent
        self.base = (here / experiment.base).resolve()
        self.levers = {
            name: tuple((here / file).resolve() for file in files)
            for name, files in experiment.levers.items()
        }
        if not self.base.is_file():
            raise ScenarioError(
                str(path), "base", f"expected an existing scenario file, {self.base} is missing"
            )
        for name, files in self.levers.items():
            for file in files:
                if not file.is_file():
                    raise ScenarioError(
                        str(path), f"levers.{name}", f"expected existing overlay files, {file} is missing"
                    )


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_experiment(path: str | Path) -> LoadedExperiment:
    """Read and validate an experiment file (schema and files; scenario paths are checked by the plan).

    Raises:
        ScenarioError: naming the experiment file, the field and what was expected.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ScenarioError(str(path), "(file)", "expected an existing experiment YAML file")
    data = parse_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(str(path), "(top level)", "expected a mapping of fields")
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = "expected no such field (unknown field)" if err["type"] == "extra_forbidden" else err["msg"]
        raise ScenarioError(str(path), _field(err["loc"]), message) from None
    return LoadedExperiment(experiment, path)


def dump_experiment(loaded: LoadedExperiment) -> str:
    """The resolved experiment as YAML, itself a valid experiment file (absolute paths, every default)."""
    data = loaded.experiment.model_dump(mode="json", exclude_none=True)
    data["base"] = str(loaded.base)
    data["levers"] = {name: [str(f) for f in files] for name, files in loaded.levers.items()}
    header = f"# Resolved from {loaded.path}; seeds {list(loaded.experiment.seeds)}.\n"
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
