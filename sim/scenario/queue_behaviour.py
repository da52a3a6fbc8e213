"""Scenario blocks of what visitors do about queues: balk, renege, choose the day (all off by default)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.fields import Strict

__all__ = ["Balking", "DayChoice", "Reneging"]

_SOURCE = "Where these values come from: a publication (author, title, year) or 'assumed'. Source: assumed"
#: Longest horizon of day choice, days.
MAX_HORIZON_DAYS = 60


class Balking(Strict):
    """Visitors who see a long queue do not join it (balk); their errand returns another day.

    A visitor who arrives to find every window busy balks, with probability ``probability``,
    when more than ``max_waiting`` people are waiting or when the wait they expect, (people
    waiting + 1) x the facility's mean service time / windows, exceeds ``max_expected_wait_min``
    (whichever is given; both: either). A balked visitor takes no ticket, waits nothing and
    remembers the wait they expected.
    """

    max_waiting: int | None = Field(
        default=30,
        ge=0,
        le=1_000_000,
        description=(
            "People waiting (not yet called) beyond which an arriving visitor does not join, persons; "
            "null: no limit on the count. Source: assumed"
        ),
    )
    max_expected_wait_min: float | None = Field(
        default=None,
        gt=0,
        le=1440,
        description=(
            "Expected wait, (waiting + 1) x mean service / windows, beyond which an arriving visitor "
            "does not join, min; null: no limit on the expected wait. Source: assumed"
        ),
    )
    probability: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description=(
            "Chance that a visitor who meets the limit balks (drawn per visit), 0..1. Source: assumed"
        ),
    )
    source: str = Field(
        default="assumed",
        description=_SOURCE,
    )

    @model_validator(mode="after")
    def _a_limit(self) -> Balking:
        if self.max_waiting is None and self.max_expected_wait_min is None:
            raise ValueError("give max_waiting, max_expected_wait_min or both")
        return self


class Reneging(Strict):
    """Visitors who wait longer than their patience leave unserved (renege); their errand returns
    another day. Patience is drawn per visit from ``dist`` with mean ``mean_min``."""

    dist: Literal["exponential", "lognormal", "fixed"] = Field(
        default="exponential",
        description=(
            "Distribution of patience. Source: Gans, Koole and Mandelbaum, Telephone call centers: "
            "tutorial, review, and research prospects, 2003 (exponential patience, the Erlang-A model)"
        ),
    )
    mean_min: float = Field(
        default=90.0,
        gt=0,
        le=1440,
        description="Mean patience of a visitor in the queue, min. Source: assumed",
    )
    cv: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="Coefficient of variation of patience (lognormal only). Source: assumed",
    )
    source: str = Field(
        default="assumed",
        description=_SOURCE,
    )


class DayChoice(Strict):
    """Errands that can wait are done on the weekday with the shortest remembered wait.

    Residents remember the wait at each facility on each weekday (one memory shared by all,
    smoothed over past days with weight ``memory``). When an errand that is not urgent is due
    and its resident has chosen a facility, the resident picks a day among today and the next
    ``horizon_days`` on which the facility is open, by a logit on each day's cost: the remembered
    wait at that facility on that weekday plus ``delay_min_per_day`` per day of delay, with scale
    ``scale_min`` (drawn per trip). A later day puts the errand off until then (once per trip:
    on that day it goes). The logit spreads errands over the quieter days rather than sending
    everyone to the one quietest day.
    """

    horizon_days: int = Field(
        default=7,
        ge=1,
        le=MAX_HORIZON_DAYS,
        description="Days ahead a resident considers for an errand that can wait, days. Source: assumed",
    )
    scale_min: float = Field(
        default=30.0,
        gt=0,
        le=1440,
        description=(
            "Logit scale of the day choice: a day whose cost (remembered wait + delay) is this many "
            "minutes higher is chosen e times less often, min. Source: assumed"
        ),
    )
    delay_min_per_day: float = Field(
        default=20.0,
        ge=0,
        le=1440,
        description="Cost of putting an errand off by one day, in minutes of wait. Source: assumed",
    )
    memory: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description=(
            "Weight of the newest day in the remembered wait per facility and weekday (exponential "
            "smoothing), 0..1. Source: assumed"
        ),
    )
    urgent_share: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Share of errands of each service that cannot wait (drawn per errand), 0..1; services "
            "left out: 0 (every errand can wait). Source: assumed"
        ),
    )
    source: str = Field(
        default="assumed",
        description=_SOURCE,
    )

    @field_validator("urgent_share")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        for service, share in value.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"urgent share of '{service}' must be within [0, 1], got {share}")
        return value
