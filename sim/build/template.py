"""The build template (``--template``): its expected shape, checked before any build work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.errors import ScenarioError

__all__ = ["read_template"]


class _Open(BaseModel):
    """Keeps the fields it does not check (they are copied into the scenario and validated there)."""

    model_config = ConfigDict(extra="allow")


class _Mode(_Open):
    speed_kph: dict[str, float] = Field(description="km/h per OSM highway class, 'other' for the rest")

    @model_validator(mode="after")
    def _positive(self) -> _Mode:
        for cls, speed in self.speed_kph.items():
            if not 0 < speed <= 300:  # NaN fails too
                raise ValueError(f"speed of '{cls}' must be more than 0 and at most 300 km/h, got {speed}")
        return self


class _Ferry(_Open):
    speed_kph: float = Field(gt=0, le=100, allow_inf_nan=False)
    wait_min: float = Field(ge=0, le=24 * 60, allow_inf_nan=False)
    fare_yuan: float = Field(ge=0, le=10_000, allow_inf_nan=False)


class _Rule(_Open):
    tags: dict[str, str | int | float | bool] = Field(min_length=1)
    kind: str = Field(min_length=1)
    servers: int = Field(default=0, ge=0, le=10**6)
    level: str | None = None
    seats: int | None = Field(default=None, ge=0, le=10**6)

    @model_validator(mode="after")
    def _school(self) -> _Rule:
        if self.kind == "school" and (self.level is None or self.seats is None):
            raise ValueError("a school rule needs a level and a number of seats")
        return self


class _Template(_Open):
    age_bands: list[str] = Field(min_length=1)
    age_shares: dict[str, float]
    modes: dict[str, _Mode] = Field(min_length=1)
    ferry: _Ferry
    facility_tags: list[_Rule]
    services: dict[str, dict[str, Any]] = Field(min_length=1)

    @field_validator("age_shares")
    @classmethod
    def _shares(cls, shares: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        bands = info.data.get("age_bands") or []
        if set(shares) != set(bands) or not all(0 <= v <= 1 for v in shares.values()):
            raise ValueError(f"expected a share in [0, 1] per age band {bands}")
        if abs(sum(shares.values()) - 1.0) > 1e-6:
            raise ValueError(f"expected shares summing to 1, got {sum(shares.values())}")
        return shares


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def read_template(path: Path) -> dict[str, Any]:
    """The build template as a mapping, checked: blocks present, numbers finite and in range.

    Raises:
        ScenarioError: naming the template file and the field.
    """
    if not path.is_file():
        raise ScenarioError(str(path), "--template", "expected an existing YAML file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), "(file)", f"expected UTF-8 text ({exc.reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"
        problem = getattr(exc, "problem", None) or "unreadable"
        raise ScenarioError(str(path), where, f"expected valid YAML ({problem})") from None
    if not isinstance(raw, dict):
        raise ScenarioError(str(path), "(top level)", "expected a mapping of template blocks")
    try:
        _Template.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        got = err.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f", got {got!r}"
        message = err["msg"].removeprefix("Value error, ")
        raise ScenarioError(str(path), _loc(err["loc"]), f"{message}{got_text}") from None
    return raw
