"""The page's answer block: sentences, age bands and former township × age band, with 95% intervals.

Built from the per-seed cell tables of the base and plan replications (:mod:`sim.metrics.cells`),
with the same functions as ``townsim compare --by`` and ``townsim explain`` (so the page's
sentence is the CLI's sentence, word for word).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.metrics.answer import decimals, group_answers, group_order, namer
from sim.metrics.explain import crossed_difference
from sim.replications import ReplicationSet

__all__ = ["answer_json"]

_GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("former_unit",), ("age_band",), ("former_unit", "age_band"))


def _num(x: Any) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _rows(frame: pd.DataFrame, by: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of one metric: group values, n, means, diff, interval and its display decimals."""
    out = []
    for r in frame.to_dict("records"):
        out.append(
            {
                **{k: str(r[k]) for k in by},
                "n": int(r["n"]),
                **{c: _num(r[c]) for c in ("mean_a", "mean_b", "diff", "ci_low", "ci_high")},
                "decimals": decimals((r["ci_high"] - r["ci_low"]) / 2, default=2),
            }
        )
    return out


def answer_json(
    base: ReplicationSet, plan: ReplicationSet, raw: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """Sentences (en and zh) for the county and each former township, and the burden change by
    age band and by former township × age band; None when the sets carry no cell tables."""
    if not len(base.cells) or not len(plan.cells):
        return None
    a = {"cells": base.cells, "facility_cells": base.facility_cells}
    b = {"cells": plan.cells, "facility_cells": plan.facility_cells}
    names = {lang: namer(lang, raw or {}) for lang in ("en", "zh")}
    sentences: dict[str, list[dict[str, Any]]] = {"en": [], "zh": []}
    tables: dict[str, list[dict[str, Any]]] = {}
    for by in _GROUPINGS:
        crossed = crossed_difference(a["cells"], b["cells"], list(by))
        burden = group_order(crossed[crossed["metric"] == "burden_min.mean"], list(by))
        tables["_".join(by) or "county"] = _rows(burden, by)
        if len(by) > 1:
            continue
        for lang in ("en", "zh"):
            _, _, said = group_answers(a, b, by, names[lang])
            sentences[lang] += [{"group": group, "text": text} for group, text in said]
    return {"sentences": sentences, "tables": tables}
