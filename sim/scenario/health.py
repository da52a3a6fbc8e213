"""Scenario block ``health:``: tiers of health care, upward referral and bypassing (分级诊疗).

Facilities of kind ``village_clinic`` (村卫生室), ``clinic`` (township health centre, 乡镇卫生院,
``central: true`` for a consortium's central health centre) and ``hospital`` (county hospital) form
three tiers. Health errands come in kinds of care (``levels``, lowest first): the k-th kind can be
treated at tier k or above. Without this block a scenario has one tier, as before.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from sim.scenario.fields import ServiceTime, Strict

__all__ = ["HEALTH_TIERS", "HealthTiers", "TierKey"]

#: Tier of each health facility kind, lowest first (index = tier).
HEALTH_TIERS: tuple[str, ...] = ("village_clinic", "clinic", "hospital")
#: Keys of the per-tier parameters: the tiers, with the central health centre apart.
TierKey = Literal["village_clinic", "clinic", "central_clinic", "hospital"]


class HealthTiers(Strict):
    """Tiers of health care: which kinds of care each tier treats, referral and tier attractiveness."""

    levels: tuple[str, ...] = Field(
        min_length=2,
        max_length=len(HEALTH_TIERS),
        description=(
            "health services (errand types) from the lowest to the highest kind of care, e.g. "
            "[minor_care, clinic, specialist_care]: the k-th is treated at tier k (village clinic, "
            "health centre, hospital) or above; an errand referred up from tier k continues as the "
            "(k+1)-th. Source: National Health Commission, 2023 statistical bulletin on health "
            "development (village clinics, township health centres and hospitals as the three tiers)"
        ),
    )
    referral: dict[TierKey, float] = Field(
        default_factory=dict,
        description=(
            "share of visits completed at a facility of this tier that are referred up to the next "
            "tier (the errand continues there the next day, nothing is lost); tiers left out: 0; "
            "the hospital refers nobody. Source: assumed"
        ),
    )
    tier_constant_min: dict[TierKey, float] = Field(
        default_factory=dict,
        description=(
            "attractiveness of a tier in the logit, minutes of generalised cost a resident will "
            "give up to be treated there rather than at a village clinic (0 for tiers left out); "
            "the higher tiers' constants set the share who bypass the village clinic. Source: "
            "calibrated to about 2 in 5 older patients bypassing primary care (CHARLS analysis, "
            "BMC Health Services Research 2021, doi 10.1186/s12913-021-06908-0)"
        ),
    )
    care_time: dict[str, ServiceTime] = Field(
        default_factory=dict,
        description=(
            "service time of one kind of care (a health service) wherever it is given, instead "
            "of the facility's; kinds left out use the facility's. Source: assumed"
        ),
    )
    source: str = Field(
        default="assumed",
        description=(
            "For the health block, where its values come from: a publication (author, title, year) "
            "or 'assumed'. Source: assumed"
        ),
    )

    @field_validator("referral")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        for tier, share in value.items():
            if not 0.0 <= share < 1.0:
                raise ValueError(f"referral share of '{tier}' must be in [0, 1), got {share}")
        if value.get("hospital", 0.0) > 0:
            raise ValueError("the hospital is the highest tier and refers nobody: leave 'hospital' out")
        return value

    @field_validator("tier_constant_min")
    @classmethod
    def _constants(cls, value: dict[str, float]) -> dict[str, float]:
        for tier, minutes in value.items():
            if not -600.0 <= minutes <= 600.0:
                raise ValueError(f"tier constant of '{tier}' must be within [-600, 600] min, got {minutes}")
        return value
