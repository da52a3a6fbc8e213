"""The report's answer section: sentences, former township × age band and the parts of the change.

Built with the same functions as ``townsim compare --by`` and ``townsim explain`` from the
per-seed cell tables of both runs, over every paired seed (not only the first).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.figures.labels import Labeller
from sim.figures.report_cells import Cell, Table
from sim.groups import GROUPS
from sim.metrics.answer import HEAD, PART_NAMES, decimals, fmt, group_answers, group_name, group_order
from sim.metrics.explain import crossed_difference
from sim.replications import ReplicationSet

__all__ = ["Answer", "answer_section"]

TEXT = {
    "answer": {"en": "Answer: who gains, by how much, how sure", "zh": "结论：谁受益、多少、有多确定"},
    "heat": {
        "en": "Change in mean burden per errand (min), former township × age band; 95% CI below each value",
        "zh": "每次办事平均耗时变化（分钟），原乡镇 × 年龄组；数值下方为95%置信区间",
    },
    "parts": {
        "en": "Parts of the county's change (min per errand); they sum to the total",
        "zh": "全县变化的组成（每次办事分钟数），各部分之和等于合计",
    },
    "reproduce": {
        "en": "Reproduce: townsim compare A B --by former_unit,age_band; townsim explain A B",
        "zh": "复现：townsim compare A B --by former_unit,age_band；townsim explain A B",
    },
}


@dataclass
class Answer:
    """What the report's answer section shows."""

    title: str
    sentences: list[str]
    heat_title: str
    heat: Table
    parts_title: str
    parts: Table
    note: str


def _value_cell(row: Mapping[Hashable, Any]) -> Cell:
    places = decimals((row["ci_high"] - row["ci_low"]) / 2, default=2)
    sure = row["n"] >= 2 and (row["ci_low"] > 0 or row["ci_high"] < 0)
    cls = "num" + ((" sure up" if row["diff"] > 0 else " sure down") if sure else "")
    ci = f"[{fmt(row['ci_low'], places)}, {fmt(row['ci_high'], places)}]" if row["n"] >= 2 else ""
    return Cell(fmt(row["diff"], places, sign=True), cls, ci)


def answer_section(before: ReplicationSet, after: ReplicationSet, labels: Labeller) -> Answer | None:
    """The answer section of ``after`` against ``before`` (None without cell tables on both sides)."""
    if not len(before.cells) or not len(after.cells):
        return None
    lang = labels.lang
    a = {"cells": before.cells, "facility_cells": before.facility_cells}
    b = {"cells": after.cells, "facility_cells": after.facility_cells}
    sentences = []
    county_parts = pd.DataFrame()
    for by in ([], ["former_unit"]):
        by_parts, _, said = group_answers(a, b, by, labels)
        sentences += [text for _, text in said]
        if not by:
            county_parts = by_parts
    crossed = crossed_difference(a["cells"], b["cells"], ["former_unit", "age_band"], ["burden_min.mean"])
    crossed = group_order(crossed, ["former_unit", "age_band"])
    bands = list(dict.fromkeys(group_order(crossed, ["age_band"])["age_band"]))
    heat = Table([getattr(GROUPS["former_unit"], lang), *bands])
    for unit, rows in crossed.groupby("former_unit", sort=False):
        by_band = {r["age_band"]: r for r in rows.to_dict("records")}
        heat.rows.append(
            [
                Cell(group_name("former_unit", unit, labels), "name"),
                *[_value_cell(by_band[band]) if band in by_band else Cell("–", "num") for band in bands],
            ]
        )
    parts = Table([HEAD["part"][lang], "A", "B", "B−A"])
    for r in county_parts.to_dict("records"):
        places = decimals((r["ci_high"] - r["ci_low"]) / 2, default=2)
        parts.rows.append(
            [
                Cell(PART_NAMES[r["part"]][lang], "name"),
                Cell(fmt(r["mean_a"], places), "num"),
                Cell(fmt(r["mean_b"], places), "num"),
                _value_cell(r),
            ]
        )
    return Answer(
        TEXT["answer"][lang],
        sentences,
        TEXT["heat"][lang],
        heat,
        TEXT["parts"][lang],
        parts,
        TEXT["reproduce"][lang],
    )
