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

    dist: Literal["exponential", "lognormal", "fixed"] = Field(
        default="exponential",
        description=(
            "Distribution of the time one visitor occupies a server: exponential, lognormal or "
            "fixed. Source: assumed"
        ),
    )
    mean_min: float = Field(
        gt=0, description="Mean service time per visitor, min. Source: given by the scenario (no default)"
    )
    cv: float = Field(
        default=1.0,
        ge=0,
        description=(
            "Coefficient of variation of the service time (lognormal; exponential has 1). Source: assumed"
        ),
    )
    source: str = Field(
        default="assumed",
        description=(
            "For this service time, where this entry's values come from: a publication (author, "
            "title, year) or 'assumed'. Source: assumed"
        ),
    )
