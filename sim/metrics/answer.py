"""Answers a planner reads: one sentence per group, numbers rounded to their interval, tidy tables.

The sentence of a group gives the paired change of mean burden per completed errand, its 95%
interval and the part of the change that moved it most (:mod:`sim.metrics.explain`), in Chinese
or English, with the scenario's own names of townships, facilities and lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.figures.labels import Labeller, scenario_names
from sim.metrics.explain import EXPLAIN_PARTS

__all__ = [
    "GROUP_PATTERN",
    "HEAD",
    "METRIC_NAMES",
    "PART_NAMES",
    "decimals",
    "fmt",
    "group_answers",
    "group_name",
    "group_order",
    "namer",
    "round_to_interval",
    "scenario_title",
    "sentence",
    "tidy_groups",
    "who",
]

PART_NAMES = {
    "travel_time": {"en": "travel time (same modes)", "zh": "路上时间（出行方式不变）"},
    "mode_shift": {"en": "change of travel mode", "zh": "出行方式改变"},
    "stop_wait": {"en": "waits at stops", "zh": "候车时间"},
    "facility_wait": {"en": "waits at facilities", "zh": "在办事地点的等候"},
    "repeat": {"en": "repeat trips (turned away, referred)", "zh": "重复跑腿（被劝返、转诊）"},
    "other": {"en": "other channels (mobile van, online, proxy)", "zh": "其他渠道（流动服务车、网上、代办）"},
    "total": {"en": "total", "zh": "合计"},
}
"""Display names of the parts of a change of burden."""

_WORDS = {
    "county": {"en": "Residents of the county", "zh": "全县居民"},
    "more": {"en": "more", "zh": "多"},
    "less": {"en": "less", "zh": "少"},
    "change": {
        "en": "{who} would spend {d} minutes {dir} per errand (95% CI {lo} to {hi})",
        "zh": "{who}每次办事平均{dir}花{d}分钟（95%置信区间{lo}至{hi}分钟）",
    },
    "unclear": {
        "en": "{who}: no clear change per errand ({d} minutes, 95% CI {lo} to {hi})",
        "zh": "{who}每次办事耗时无明显变化（{d}分钟，95%置信区间{lo}至{hi}分钟）",
    },
    "single": {
        "en": "{who}: {d} minutes per errand from a single pair of runs (no interval; use replications)",
        "zh": "{who}每次办事耗时变化{d}分钟（仅一对运行，无置信区间；请用多次重复）",
    },
    "same": {
        "en": "{who}: no change per errand (the same in every paired run)",
        "zh": "{who}每次办事耗时不变（每对运行均相同）",
    },
    "mostly": {"en": ", mostly from {why}", "zh": "，主要因为{why}"},
    "end": {"en": ".", "zh": "。"},
}

HEAD = {
    "a": {"en": "A = {label} ({scenario}, {n} runs)", "zh": "方案A = {label}（{scenario}，{n}次重复）"},
    "b": {"en": "B = {label} ({scenario}, {n} runs)", "zh": "方案B = {label}（{scenario}，{n}次重复）"},
    "ci_note": {
        "en": "B−A paired by seed; 95% t interval over n seeds; * = it excludes 0; numbers rounded to it",
        "zh": "B−A按随机种子配对；95% t置信区间；* = 区间不含0；数值按区间精度取舍",
    },
    "n": {"en": "n", "zh": "配对数"},
    "ci": {"en": "95% CI", "zh": "95%置信区间"},
    "no_ci": {"en": "n<2: no interval", "zh": "不足2对：无区间"},
    "part": {"en": "part", "zh": "组成"},
    "facility": {"en": "facility", "zh": "办事地点"},
    "line": {"en": "line", "zh": "线路"},
    "village": {"en": "village", "zh": "村"},
    "parts": {
        "en": "== parts of the change of mean burden per errand (min); they sum to the total ==",
        "zh": "== 每次办事平均耗时变化的组成（分钟），各部分之和等于合计 ==",
    },
    "facilities": {
        "en": "== facilities whose waits moved the burden most (min per errand of the group; top {k}) ==",
        "zh": "== 等候变化影响最大的办事地点（折合该组每次办事分钟数；前{k}个） ==",
    },
    "lines": {
        "en": "== lines whose boardings changed most (county, per run; top {k}) ==",
        "zh": "== 乘车人次变化最大的线路（全县，每次运行；前{k}条） ==",
    },
    "villages": {
        "en": "== villages that gained and lost most (mean burden per errand, min; {k} each way) ==",
        "zh": "== 受益与受损最多的村（每次办事平均耗时，分钟；各{k}个） ==",
    },
    "more_metrics": {
        "en": "More metrics and groups: --by GROUPS, --format csv",
        "zh": "更多指标与分组：--by 分组，--format csv",
    },
}
"""Headers of the text outputs of compare and explain, in both languages."""

METRIC_NAMES = {
    "burden_min.mean": {"en": "mean burden per errand (min)", "zh": "每次办事平均耗时（分钟）"},
    "burden_share_over_min.15": {"en": "share of errands over 15 min", "zh": "耗时超过15分钟的事项占比"},
    "burden_share_over_min.30": {"en": "share of errands over 30 min", "zh": "耗时超过30分钟的事项占比"},
    "burden_share_over_min.60": {"en": "share of errands over 60 min", "zh": "耗时超过60分钟的事项占比"},
    "trips_per_completed_errand": {"en": "trips per errand", "zh": "每次办事出行次数"},
    "distance_km_per_errand": {"en": "distance per errand (km)", "zh": "每次办事出行距离（公里）"},
    "money_yuan_per_errand": {"en": "money per errand (yuan)", "zh": "每次办事花费（元）"},
    "errands_completed": {"en": "errands completed per run", "zh": "每次运行完成的事项数"},
}
"""Display names of the crossed-group metrics (:data:`sim.metrics.explain.CROSSED_METRICS`)."""

_WHY = {
    "travel_time": {"en": "{longer} travel", "zh": "路上时间{longer}"},
    "mode_shift": {"en": "a change of travel mode", "zh": "出行方式改变"},
    "stop_wait": {"en": "{longer} waits at stops", "zh": "候车时间{longer}"},
    "facility_wait": {"en": "{longer} waits at {where}", "zh": "在{where}的等候{longer}"},
    "facility_wait_any": {"en": "{longer} waits at facilities", "zh": "办事地点的等候{longer}"},
    "repeat": {"en": "{more} repeat trips (turned away, referred)", "zh": "重复跑腿（被劝返、转诊）{more}"},
    "other": {"en": "other channels (mobile van, online, proxy)", "zh": "其他渠道（流动服务车、网上、代办）"},
}
_LONGER = {True: {"en": "longer", "zh": "变长"}, False: {"en": "shorter", "zh": "缩短"}}
_MORE = {True: {"en": "more", "zh": "增多"}, False: {"en": "fewer", "zh": "减少"}}

GROUP_PATTERN = re.compile(
    r"^(?P<head>.*?)[._]by_(?P<kind>former_unit|age_band|island|unit)\.(?P<group>[^.]+)(?P<tail>.*)$"
)
"""A summary path with a group inside (``access.…​.by_former_unit.east``), as compare's csv splits it."""


def decimals(half_width: float, default: int = 3) -> int:
    """Decimals that show a 95% half-width with two significant digits (``default`` if none)."""
    if not math.isfinite(half_width) or half_width <= 1e-9:
        return default
    return int(min(6, max(0, 1 - math.floor(math.log10(half_width)))))


def fmt(value: float, places: int, *, sign: bool = False) -> str:
    """``value`` with ``places`` decimals, no negative zero, ``−`` as minus sign; "–" for NaN."""
    if not math.isfinite(value):
        return "–"
    rounded = round(float(value), places) + 0.0
    text = f"{rounded:+.{places}f}" if sign else f"{rounded:.{places}f}"
    return text.replace("-", "−")


def round_to_interval(
    table: pd.DataFrame, cols: Sequence[str], low: str = "ci_low", high: str = "ci_high"
) -> pd.DataFrame:
    """Each row's ``cols`` rounded to its interval's precision (:func:`decimals`), no negative zeros."""
    half = (table[high].to_numpy(float) - table[low].to_numpy(float)) / 2
    places = np.array([decimals(h) for h in half], dtype=int)
    out = table.copy()
    for col in cols:
        values = out[col].to_numpy(float)
        out[col] = [round(v, p) + 0.0 if math.isfinite(v) else v for v, p in zip(values, places, strict=True)]
    return out


def tidy_groups(table: pd.DataFrame) -> pd.DataFrame:
    """Move groups written inside metric names (``….by_former_unit.east``) into the group columns."""
    out = table.copy()
    col = {str(c): i for i, c in enumerate(out.columns)}
    for i, metric in enumerate(out["metric"].astype(str)):
        match = GROUP_PATTERN.match(metric)
        if match and out["group_kind"].iat[i] == "overall":
            out.iat[i, col["metric"]] = match["head"] + match["tail"]
            out.iat[i, col["group_kind"]] = match["kind"]
            out.iat[i, col["group"]] = match["group"]
    return out


def _natural(value: object) -> tuple[float, str]:
    match = re.match(r"\d+(\.\d+)?", str(value))
    return (float(match.group()) if match else math.inf, str(value))


def group_order(table: pd.DataFrame, by: Sequence[str], then: str | None = None) -> pd.DataFrame:
    """Rows sorted by the group columns (numbers inside labels in numeric order: 3-5 before 12-14),
    then by part (:data:`EXPLAIN_PARTS`, total last) when ``then`` names the part column."""
    order = {p: i for i, p in enumerate([*EXPLAIN_PARTS, "total"])}
    columns = [[_natural(v) for v in table[k]] for k in by]
    if then is not None:
        columns.append([(order.get(p, 99), "") for p in table[then]])
    if not columns:
        return table.reset_index(drop=True)
    keys = list(zip(*columns, strict=True))
    index = sorted(range(len(table)), key=keys.__getitem__)
    return table.iloc[index].reset_index(drop=True)


def namer(lang: str, *raws: Mapping[str, Any]) -> Labeller:
    """A Labeller with the townships, facilities and lines named in the given raw scenarios."""
    names: dict[str, dict[str, str]] = {}
    for raw in raws:
        for ident, entry in scenario_names(raw).items():
            names.setdefault(ident, entry)
    return Labeller(lang, extra_units=names)


ISLANDS = {"islands": {"en": "islands", "zh": "海岛"}, "main_island": {"en": "main island", "zh": "主岛"}}
"""Display names of the island group's values."""


def group_name(key: str, value: object, names: Labeller) -> str:
    """Display name of one group value (township, facility or line names; island values; age bands)."""
    if key == "island" and str(value) in ISLANDS:
        return ISLANDS[str(value)][names.lang]
    if key == "service":
        return names.service(value)
    return names.group(key, value)


def scenario_title(name: str, title: Mapping[str, str] | None, names: Labeller) -> str:
    """A scenario's display name: its ``title`` in the labeller's language, else the label table's
    name (:meth:`Labeller.scenario`), else the name."""
    if isinstance(title, Mapping) and title.get(names.lang):
        return str(title[names.lang])
    return names.scenario(name)


def who(group: Mapping[str, str], names: Labeller) -> str:
    """The residents of a group in words ("Residents aged 60+ of Baiqing", "原白青乡60+岁居民")."""
    lang = names.lang
    if not group:
        return _WORDS["county"][lang]
    if lang == "zh":
        parts = []
        if "island" in group:
            parts.append("海岛" if group["island"] in ("islands", "True") else "主岛")
        for key, text in (("unit", "{}"), ("former_unit", "原{}"), ("village", "{}")):
            if key in group:
                parts.append(text.format(names.name(group[key])))
        if "age_band" in group:
            parts.append(f"{group['age_band']}岁")
        out = "".join(parts) + "居民"
        if "service" in group:
            out += f"（{names.service(group['service'])}）"
        if "channel" in group:
            out += f"（{group['channel']}）"
        return out
    out = "Residents"
    if "age_band" in group:
        out += f" aged {group['age_band']}"
    for key, text in (
        ("village", " of village {}"),
        ("former_unit", " of former township {}"),
        ("unit", " of {}"),
    ):
        if key in group:
            out += text.format(names.name(group[key]))
    if "island" in group:
        out += " on the islands" if group["island"] in ("islands", "True") else " on the main island"
    if "service" in group:
        out += f", for {names.service(group['service']).lower()}"
    if "channel" in group:
        out += f", by {group['channel']}"
    return out


def sentence(
    group: Mapping[str, str],
    total: Mapping[str, float],
    parts: pd.DataFrame,
    names: Labeller,
    facilities: pd.DataFrame | None = None,
) -> str:
    """One plain sentence: the group's change of mean burden, its 95% interval and its main driver.

    Args:
        group: column -> value (empty: the county).
        total: the ``total`` row (``n``, ``diff``, ``ci_low``, ``ci_high``; minutes per errand).
        parts: the group's part rows (``part``, ``diff``).
        names: display names in the sentence's language.
        facilities: the group's facility contributions (``facility``, ``diff``), if known.
    """
    lang = names.lang
    d, lo, hi = float(total["diff"]), float(total["ci_low"]), float(total["ci_high"])
    places = decimals((hi - lo) / 2, default=2)
    subject = who(group, names)
    if int(total["n"]) < 2 or not math.isfinite(lo):
        return _WORDS["single"][lang].format(who=subject, d=fmt(d, places, sign=True)) + _WORDS["end"][lang]
    if d == 0 and lo == hi:
        return _WORDS["same"][lang].format(who=subject) + _WORDS["end"][lang]
    if lo <= 0 <= hi:
        text = _WORDS["unclear"][lang].format(
            who=subject, d=fmt(d, places, sign=True), lo=fmt(lo, places), hi=fmt(hi, places)
        )
        return text + _WORDS["end"][lang]
    up = d > 0
    text = _WORDS["change"][lang].format(
        who=subject,
        d=fmt(abs(d), places),
        dir=_WORDS["more" if up else "less"][lang],
        lo=fmt(lo, places),
        hi=fmt(hi, places),
    )
    same = parts[(parts["part"] != "total") & (np.sign(parts["diff"]) == np.sign(d))]
    if len(same):
        part = str(same.iloc[int(np.argmax(np.abs(same["diff"].to_numpy(float))))]["part"])
        key, where = part, ""
        if part == "facility_wait":
            fac = facilities[np.sign(facilities["diff"]) == np.sign(d)] if facilities is not None else None
            if fac is not None and len(fac):
                where = names.name(fac.iloc[int(np.argmax(np.abs(fac["diff"].to_numpy(float))))]["facility"])
            else:
                key = "facility_wait_any"
        why = _WHY[key][lang].format(longer=_LONGER[up][lang], more=_MORE[up][lang], where=where)
        text += _WORDS["mostly"][lang].format(why=why)
    return text + _WORDS["end"][lang]


def group_answers(
    a: Mapping[str, pd.DataFrame], b: Mapping[str, pd.DataFrame], by: Sequence[str], names: Labeller
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[dict[str, str], str]]]:
    """Parts of the change per group, the facility drivers, and one sentence per group.

    Args:
        a: A's ``cells`` and ``facility_cells`` (with ``seed``).
        b: B's, likewise.
        by: the groups (none: the county).
        names: display names in the sentences' language.

    Returns:
        ``(parts, facilities, [(group, sentence), ...])`` with parts in group order.
    """
    from sim.metrics.explain import explain_parts, facility_drivers

    parts = group_order(explain_parts(a["cells"], b["cells"], list(by)), list(by), then="part")
    facilities = facility_drivers(a, b, list(by))
    said = []
    totals = parts[parts["part"] == "total"]
    for _, total in totals.iterrows():
        group = {k: str(total[k]) for k in by}
        in_p = np.ones(len(parts), dtype=bool)
        in_f = np.ones(len(facilities), dtype=bool)
        for k, v in group.items():
            in_p &= (parts[k].astype(str) == v).to_numpy()
            in_f &= (facilities[k].astype(str) == v).to_numpy()
        row = {str(k): v for k, v in total.items()}
        said.append((group, sentence(group, row, parts[in_p], names, facilities[in_f])))
    return parts, facilities, said
