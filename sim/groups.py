"""The groups results can be broken down and crossed by (``compare --by``, ``explain --by``).

Every group is a column of the residents table (who the resident is: village, former township,
age band ...) or of the errands table (what the errand was: service, channel). A new group is
registered by adding one :class:`Group` to :data:`GROUPS`; the per-seed cell tables
(:mod:`sim.metrics.cells`) then carry it, and every ``--by`` accepts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sim.errors import SimError

__all__ = ["GROUPS", "Group", "errand_groups", "parse_by", "resident_groups"]


@dataclass(frozen=True)
class Group:
    """One way of splitting residents or errands.

    Attributes:
        name: the ``--by`` name (also the column name in tidy outputs).
        table: ``residents`` or ``errands``, the run table holding the column.
        column: column name in that table.
        en: English noun for headers ("former township").
        zh: Chinese noun for headers ("原乡镇").
    """

    name: str
    table: Literal["residents", "errands"]
    column: str
    en: str
    zh: str


GROUPS: dict[str, Group] = {
    g.name: g
    for g in (
        Group("former_unit", "residents", "former_unit", "former township", "原乡镇"),
        Group("unit", "residents", "unit", "township", "乡镇"),
        Group("village", "residents", "village", "village", "村"),
        Group("age_band", "residents", "age_band", "age band", "年龄段"),
        Group("island", "residents", "island", "island", "海岛"),
        Group("service", "errands", "service", "errand type", "事项"),
        Group("channel", "errands", "channel", "channel", "办理渠道"),
    )
}
"""Registered groups, in the order tidy outputs list their columns."""


def resident_groups(names: Sequence[str] | None = None) -> list[Group]:
    """Registered residents-table groups (of ``names`` if given)."""
    return [g for g in GROUPS.values() if g.table == "residents" and (names is None or g.name in names)]


def errand_groups(names: Sequence[str] | None = None) -> list[Group]:
    """Registered errands-table groups (of ``names`` if given)."""
    return [g for g in GROUPS.values() if g.table == "errands" and (names is None or g.name in names)]


def parse_by(text: str | None, option: str = "--by") -> list[str]:
    """Group names from ``former_unit,age_band`` (empty or None: no grouping, the county).

    Raises:
        SimError: an unknown or repeated name (exit code 2), naming the option and the choices.
    """
    if text is None or not text.strip():
        return []
    names = [part.strip() for part in text.split(",")]
    for name in names:
        if name not in GROUPS:
            raise SimError(f"{option}: unknown group {name!r}; expected names from {', '.join(GROUPS)}")
    if len(set(names)) != len(names):
        raise SimError(f"{option}: group named twice in {text!r}")
    return names
