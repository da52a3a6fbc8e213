"""Pieces shared by every part of the scenario schema: the strict base model, weekdays, clock times."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["WEEKDAYS", "ServiceTime", "Strict", "Weekday", "clock_to_min"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def clock_to_min(clock: str) -> int:
    """Convert ``"HH:MM"`` to minutes after midnight."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Strict(BaseModel):
    """Base model: unknown fields are errors, numbers are finite, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ServiceTime(Strict):
    """Distribution of the time one visitor occupies a server, minutes."""

    dist: Literal["exponential", "lognormal", "fixed"] = "exponential"
    mean_min: float = Field(gt=0)
    cv: float = Field(default=1.0, ge=0, description="coefficient of variation (lognormal)")
    source: str = "assumed"
