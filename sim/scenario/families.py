"""Scenario models of families and school travel: households, escorts, boarding, teaching points."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from sim.scenario.fields import Strict

__all__ = ["Families", "Households", "LevelTravel", "SchoolBus", "TeachingPoints", "VillageHouseholds"]

#: Boarding cost a term: ¥1,157.38 a year in a 7-province survey of rural boarders, over two terms.
BOARDING_YUAN_PER_TERM = 578.69


class LevelTravel(Strict):
    """How the pupils of one school level travel: daily, escorted, or boarding."""

    board_over_min: float | None = Field(
        default=None,
        gt=0,
        le=600,
        description="pupils whose one-way trip takes longer board, min (null: none board for time). "
        "Source: assumed (a 40-minute rural school service radius is the usual standard)",
    )
    board_across_water: bool = Field(
        default=False,
        description="pupils whose school is across water (a ferry crossing) board. Source: assumed",
    )
    boarding_yuan_per_term: float = Field(
        default=BOARDING_YUAN_PER_TERM,
        ge=0,
        le=1_000_000,
        description="what a boarder's family pays per term (food, lodging), yuan. Source: 7-province "
        "survey of rural school consolidation (boarding ¥1,157.38 a year), two terms a year assumed",
    )
    escort_below_age: int = Field(
        default=0,
        ge=0,
        le=18,
        description="day pupils younger than this (years) are taken to school and fetched by their "
        "caregiver (0: none). Source: assumed",
    )


class TeachingPoints(Strict):
    """Village teaching points (教学点): the lowest grades of a level taught in the village itself."""

    level: str = Field(description="school level they teach (e.g. primary). Source: user")
    below_age: int = Field(
        default=9,
        ge=1,
        le=18,
        description="pupils younger than this (years) attend the teaching point (grades 1-3 below 9). "
        "Source: assumed",
    )
    villages: tuple[str, ...] = Field(
        min_length=1, description="villages with a teaching point. Source: user"
    )
    one_way_km: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description="walk from home to the village's teaching point, km. Source: assumed",
    )
    one_way_min: float = Field(
        default=8.0,
        ge=0,
        le=120,
        description="that walk in minutes (a child's pace). Source: assumed",
    )


class SchoolBus(Strict):
    """A county school bus: one line carrying pupils only, from village stops to one school.

    It runs in the morning to arrive by the school's start and back after school. Pupils of the
    school living at its stops ride it, up to its capacity (chosen by a draw keyed by the pupil);
    the others travel as before.
    """

    school: str = Field(description="facility id of the school it serves. Source: user")
    stops: tuple[str, ...] = Field(
        min_length=1, description="villages it picks up at, in order. Source: user"
    )
    capacity: int = Field(ge=1, le=500, description="seats (pupils per run). Source: user")
    speed_kph: float = Field(
        default=30.0, gt=0, le=120, description="mean speed on the road, km/h. Source: assumed (rural bus)"
    )
    dwell_min: float = Field(
        default=1.0, ge=0, le=30, description="minutes lost at each later stop. Source: assumed"
    )
    fare_yuan: float = Field(
        default=0.0,
        ge=0,
        le=1000,
        description="fare per one-way ride, yuan. Source: assumed (free county service)",
    )


def _size_shares(value: dict[int, float] | None) -> dict[int, float] | None:
    if value is None:
        return value
    for size, share in value.items():
        if not 1 <= size <= 6 or not 0 <= share <= 1:
            raise ValueError(f"expected sizes 1..6 with shares in [0, 1], got {size}: {share}")
    if abs(sum(value.values()) - 1.0) > 1e-6:
        raise ValueError(f"shares must sum to 1, got {sum(value.values()):.6f}")
    return value


def _children_shares(left_behind: float | None, three_generation: float | None) -> None:
    if left_behind is not None and three_generation is not None and left_behind + three_generation > 1:
        raise ValueError(
            f"left_behind_share + three_generation_share must be at most 1, got "
            f"{left_behind} + {three_generation}"
        )


class VillageHouseholds(Strict):
    """One village's own household marginals (fields left out: the county's)."""

    size_shares: dict[int, float] | None = Field(
        default=None, description="share of households by number of members. Source: user (village census)"
    )
    left_behind_share: float | None = Field(
        default=None, ge=0, le=1, description="share of children left behind with grandparents. Source: user"
    )
    three_generation_share: float | None = Field(
        default=None, ge=0, le=1, description="share of children in three generations. Source: user"
    )
    elders_alone_share: float | None = Field(
        default=None, ge=0, le=1, description="share of people 60+ living alone or as a couple. Source: user"
    )

    @field_validator("size_shares")
    @classmethod
    def _sizes(cls, value: dict[int, float] | None) -> dict[int, float] | None:
        return _size_shares(value)


class Households(Strict):
    """Households built per village by iterative proportional fitting (see sim.model.households).

    Persons are cross-classified by age class (child 0-14, adult 15-59, elder 60+), household
    type and household size; the fit matches each village's age bands, the type shares below and
    the household-size shares (the county's, or a village's own in ``by_village``).
    """

    size_shares: dict[int, float] = Field(
        default_factory=lambda: {1: 0.25, 2: 0.30, 3: 0.20, 4: 0.13, 5: 0.07, 6: 0.05},
        description="share of households by number of members (6 = six or more). Source: assumed, "
        "shaped on the 2020 census (2.62 persons per family household)",
    )
    left_behind_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="share of children living with grandparents while both parents work away. "
        "Source: assumed for the county (Ministry of Civil Affairs 2018: 6.97 million rural "
        "left-behind children, 96% cared for by grandparents)",
    )
    three_generation_share: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="share of children living with parents and grandparents. Source: assumed",
    )
    elders_alone_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="share of people 60+ living without younger members (empty nests). Source: "
        "assumed (about half of older Chinese live in empty-nest households)",
    )
    grandparent_care_share: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="in three-generation households, the share whose children's caregiver is a "
        "grandparent. Source: assumed",
    )
    by_village: dict[str, VillageHouseholds] = Field(
        default_factory=dict,
        description="village id -> its own marginals (census or survey figures). Source: user",
    )

    @field_validator("size_shares")
    @classmethod
    def _sizes(cls, value: dict[int, float]) -> dict[int, float]:
        _size_shares(value)
        return value

    @model_validator(mode="after")
    def _children(self) -> Households:
        _children_shares(self.left_behind_share, self.three_generation_share)
        for village in self.by_village.values():
            lb = self.left_behind_share if village.left_behind_share is None else village.left_behind_share
            tg = (
                self.three_generation_share
                if village.three_generation_share is None
                else village.three_generation_share
            )
            _children_shares(lb, tg)
        return self


class Families(Strict):
    """Families and school travel: who boards, who is escorted, who cares for whom."""

    levels: dict[str, LevelTravel] = Field(
        default_factory=dict, description="school level -> boarding and escort rules. Source: see fields"
    )
    teaching_points: TeachingPoints | None = Field(
        default=None, description="village teaching points (null: none). Source: see fields"
    )
    households: Households | None = Field(
        default=None,
        description="households and caregivers (needed by escorts). Source: see fields",
    )
    school_escort_legs: int = Field(
        default=2,
        ge=1,
        le=4,
        description="one-way legs an escorting caregiver travels per school day: 2 = with the child there "
        "in the morning and home in the afternoon, 4 = also home and back in between. Source: assumed",
    )
    school_buses: dict[str, SchoolBus] = Field(
        default_factory=dict,
        description="school bus lines by name (none: pupils use their own modes). Source: see its fields",
    )
    escort_clinic_below_age: int = Field(
        default=0,
        ge=0,
        le=18,
        description="children younger than this (years) are taken to the clinic by their caregiver "
        "(0: none). Source: assumed",
    )
