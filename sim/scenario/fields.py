"""Pieces shared by every part of the scenario schema: the strict base model, weekdays, clock times."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["WEEKDAYS", "Strict", "Weekday", "clock_to_min"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def clock_to_min(clock: str) -> int:
    """Convert ``"HH:MM"`` to minutes after midnight."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Strict(BaseModel):
    """Base model: unknown fields are errors, numbers are finite, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
