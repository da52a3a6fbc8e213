"""Scenario block ``elderly:``: impairment, companions and bus fare concessions (sim.model.frailty)."""

from __future__ import annotations

from pydantic import Field, field_validator

from sim.scenario.fields import Strict

__all__ = ["Elderly"]


def _shares(value: dict[str, float], what: str) -> dict[str, float]:
    for band, share in value.items():
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{what} of band '{band}' must be within [0, 1], got {share}")
    return value


class Elderly(Strict):
    """Residents who are disabled or semi-disabled walk slower and may need a companion; fares by age.

    Each resident is impaired with the share of their age band (a draw keyed by the resident, so
    the same people in every scenario of one seed); an impaired resident walks at
    ``walk_speed_factor`` times the walking speed and, with probability ``companion_share``
    (keyed likewise), travels with a companion whose time (travel both ways and the wait) counts
    as burden of the companion's age band. Bus and ferry fares are reduced by ``fare_discount`` of
    the rider's band; the money waived is the fare subsidy's cost.
    """

    impaired_share: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "share of each age band who are disabled or semi-disabled (bands left out: 0). Source: "
            "4th national sample survey of the urban and rural elderly, 2015 (40.63 million, 18.3% of "
            "people 60+)"
        ),
    )
    walk_speed_factor: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description=(
            "walking speed of an impaired resident as a share of the mode's speed (walk to stops "
            "unchanged). Source: assumed"
        ),
    )
    companion_share: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description="share of impaired residents who travel with a companion. Source: assumed",
    )
    companion_band: str = Field(
        default="15-59",
        description="age band whose time the companion's minutes count as (a working-age relative). "
        "Source: assumed",
    )
    fare_discount: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "share of bus and ferry fares waived by age band (1 = free; bands left out: 0); the "
            "waived money is the fare subsidy's cost. Source: assumed (concessions for older "
            "residents are common county policy; set per county)"
        ),
    )
    source: str = Field(
        default="assumed",
        description=(
            "For the elderly block, where its values come from: a publication (author, title, year) "
            "or 'assumed'. Source: assumed"
        ),
    )

    @field_validator("impaired_share")
    @classmethod
    def _impaired(cls, value: dict[str, float]) -> dict[str, float]:
        return _shares(value, "impaired share")

    @field_validator("fare_discount")
    @classmethod
    def _discount(cls, value: dict[str, float]) -> dict[str, float]:
        return _shares(value, "fare discount")
