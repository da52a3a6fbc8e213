"""Equity and accessibility tables of the run report (zh/en), with 95% intervals over replications.

Values come from summary.json (``equity.<quantity>`` and ``access.services.<service>``, see
:mod:`sim.metrics.equity` and :mod:`sim.metrics.access`). For a replicated run folder each value is
the mean over seeds with its 95% t interval beneath; with ``--vs`` a change table gives the paired
differences (this run minus the comparison) with their intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.figures.labels import Labeller
from sim.figures.report_cells import Cell, Table, _fmt, diff_cell
from sim.replications import ReplicationSet, mean_interval, paired_difference
from sim.results.summary_model import RunSummary

__all__ = ["TEXT", "MetricValues", "access_note", "access_tables", "change_table", "equity_tables"]

TEXT: dict[str, dict[str, str]] = {
    "equity": {"en": "Equity", "zh": "公平性"},
    "equity_note": {
        "en": "Inequality across residents (weighted by the residents each stands for). Theil T splits "
        "exactly into between and within groups; the concentration index by age is > 0 when older "
        "people bear more. Palma: share of the top 10% over the share of the bottom 40%.",
        "zh": "居民之间的不平等（按每位样本代表的人数加权）。泰尔T指数可精确分解为组间与组内；"
        "按年龄的集中指数大于0表示年长者负担更重。帕尔玛比值：最高10%的份额除以最低40%的份额。",
    },
    "inequality": {"en": "Inequality", "zh": "不平等指数"},
    "decomposition": {"en": "Theil T decomposition", "zh": "泰尔T指数分解"},
    "quantity": {"en": "Quantity", "zh": "指标"},
    "gini": {"en": "Gini", "zh": "基尼系数"},
    "palma": {"en": "Palma", "zh": "帕尔玛比值"},
    "theil": {"en": "Theil T", "zh": "泰尔T"},
    "between_unit_share": {"en": "Between former townships (% of Theil)", "zh": "原乡镇间（占泰尔%）"},
    "between_island_share": {"en": "Between islands (% of Theil)", "zh": "岛间（占泰尔%）"},
    "concentration_age": {"en": "Concentration index by age", "zh": "按年龄的集中指数"},
    "between_unit": {"en": "Between former townships", "zh": "原乡镇间"},
    "within_unit": {"en": "Within former townships", "zh": "原乡镇内"},
    "between_island": {"en": "Between islands", "zh": "岛间"},
    "within_island": {"en": "Within islands", "zh": "岛内"},
    "burden": {"en": "Burden per errand (min)", "zh": "每件事务负担（分钟）"},
    "nearest": {"en": "Nearest {service} (min)", "zh": "最近的{service}（分钟）"},
    "access": {"en": "Accessibility", "zh": "可达性"},
    "access_note": {
        "en": "Servers (windows or doctors) per 1,000 users of the service. 2SFCA: 30-minute catchment; "
        "E2SFCA: Gaussian decay (σ = 15 min) within it; gravity: travel time^−1.5; E2SFCA + queue: "
        "travel plus the facility's mean wait ({source}). Life circles (GB 50180-2018): share of users "
        "within 5/15/30 minutes, by their fastest own mode and walking.",
        "zh": "每千名服务使用者拥有的窗口或医生数。2SFCA：30分钟服务范围；"
        "E2SFCA：范围内高斯衰减（σ=15分钟）；"
        "重力模型：出行时间的−1.5次方；E2SFCA+排队：出行时间加该设施的平均排队时间（{source}）。"
        "生活圈（GB 50180-2018）：5/15/30分钟内的使用者比例，按其最快的自有方式与步行。",
    },
    "source_simulated": {"en": "simulated", "zh": "模拟所得"},
    "source_expected": {"en": "expected, not simulated", "zh": "预计，未经模拟"},
    "service": {"en": "Service", "zh": "服务"},
    "all_users": {"en": "All users", "zh": "全体使用者"},
    "2sfca": {"en": "2SFCA", "zh": "2SFCA"},
    "e2sfca": {"en": "E2SFCA", "zh": "E2SFCA"},
    "gravity": {"en": "Gravity", "zh": "重力模型"},
    "e2sfca_queue": {"en": "E2SFCA + queue", "zh": "E2SFCA+排队"},
    "nearest_wait": {"en": "Nearest + wait (min)", "zh": "最近+排队（分钟）"},
    "unreachable": {"en": "No facility reachable (%)", "zh": "无可达设施（%）"},
    "life_circles": {"en": "Life-circle coverage (% of users)", "zh": "生活圈覆盖（使用者%）"},
    "own_within": {"en": "Own mode ≤ {t} min", "zh": "自有方式≤{t}分钟"},
    "walk_within": {"en": "Walking ≤ {t} min", "zh": "步行≤{t}分钟"},
    "by_unit": {"en": "{service} by former township", "zh": "{service}：按原乡镇"},
    "change": {"en": "Change in equity and accessibility", "zh": "公平性与可达性的变化"},
    "change_note": {
        "en": "This run minus the comparison run, paired by seed; 95% interval beneath when replicated.",
        "zh": "本次运行减对比运行，按随机种子配对；有重复运行时下方为95%置信区间。",
    },
    "e2sfca_mean": {"en": "E2SFCA, {service}", "zh": "E2SFCA：{service}"},
    "nearest_wait_of": {"en": "Nearest + wait, {service} (min)", "zh": "最近+排队：{service}（分钟）"},
    "own15_of": {"en": "Own mode ≤ 15 min, {service} (%)", "zh": "自有方式≤15分钟：{service}（%）"},
    "gini_of": {"en": "Gini, {quantity}", "zh": "基尼系数：{quantity}"},
    "theil_share_of": {
        "en": "Between former townships (% of Theil), {quantity}",
        "zh": "原乡镇间（占泰尔%）：{quantity}",
    },
}


def _t(labels: Labeller, key: str, **fmt: object) -> str:
    text = TEXT[key][labels.lang]
    return text.format(**fmt) if fmt else text


@dataclass
class MetricValues:
    """Per-seed values of this run's summary.json metrics, and paired differences against ``--vs``."""

    values: dict[str, np.ndarray]
    diffs: pd.DataFrame | None = None

    @classmethod
    def of(cls, mine: ReplicationSet, before: ReplicationSet | None = None) -> MetricValues:
        """From this run's replications (and the comparison run's, paired by seed)."""
        m = mine.metrics()
        m = m[m["group_kind"] == "overall"]
        values = {str(k): g["value"].to_numpy(float) for k, g in m.groupby("metric", sort=False)}
        diffs = None
        if before is not None:
            d = paired_difference(before, mine)
            diffs = d[d["group_kind"] == "overall"].set_index("metric")
        return cls(values, diffs)

    def cell(self, path: str, scale: float = 1.0) -> Cell:
        """The mean over seeds of a dotted summary.json path (times ``scale``), its interval beneath."""
        v = self.values.get(path)
        if v is None:
            return Cell("–", "num")
        n, mean, low, high = mean_interval(v * scale)
        cell = Cell(_fmt(mean if n else None), "num")
        if n >= 2 and np.isfinite(low):
            cell.ci = f"({_fmt(low)}, {_fmt(high)})"
        return cell

    def change(self, path: str, scale: float = 1.0) -> list[Cell]:
        """Comparison and this run's means, the paired change (interval beneath; bold if it excludes 0)."""
        if self.diffs is None or path not in self.diffs.index:
            return [Cell("–", "num")] * 3
        d: dict[Any, Any] = self.diffs.loc[path].to_dict()
        return [
            Cell(_fmt(float(d["mean_a"]) * scale), "num"),
            Cell(_fmt(float(d["mean_b"]) * scale), "num"),
            diff_cell(d["mean_diff"], d["ci_low"], d["ci_high"], scale),
        ]


def _quantities(summary: RunSummary, labels: Labeller) -> list[tuple[str, str]]:
    """(summary key under equity, display name) of every profiled quantity."""
    out = []
    for key in summary.equity.profiles:
        if key == "burden_min_per_errand":
            out.append((key, _t(labels, "burden")))
        elif key.startswith("access_") and key.endswith("_min"):
            out.append(
                (key, _t(labels, "nearest", service=labels.service(key[len("access_") : -len("_min")])))
            )
    return out


def equity_tables(summary: RunSummary, values: MetricValues, labels: Labeller) -> list[tuple[str, Table]]:
    """(heading, table): inequality indices and the Theil decomposition per quantity."""
    quantities = _quantities(summary, labels)
    if not quantities:
        return []
    first = Table(
        [
            _t(labels, "quantity"),
            *(
                _t(labels, k)
                for k in ("gini", "palma", "theil", "between_unit_share", "between_island_share")
            ),
            _t(labels, "concentration_age"),
        ]
    )
    second = Table(
        [
            _t(labels, "quantity"),
            *(
                _t(labels, k)
                for k in ("theil", "between_unit", "within_unit", "between_island", "within_island")
            ),
        ]
    )
    for key, name in quantities:
        p = f"equity.{key}."
        first.rows.append(
            [
                Cell(name, "text"),
                values.cell(p + "gini"),
                values.cell(p + "palma"),
                values.cell(p + "theil"),
                values.cell(p + "theil_between_share_former_unit", 100),
                values.cell(p + "theil_between_share_island", 100),
                values.cell(p + "concentration_index_age"),
            ]
        )
        second.rows.append(
            [
                Cell(name, "text"),
                values.cell(p + "theil"),
                values.cell(p + "theil_between_former_unit"),
                values.cell(p + "theil_within_former_unit"),
                values.cell(p + "theil_between_island"),
                values.cell(p + "theil_within_island"),
            ]
        )
    return [(_t(labels, "inequality"), first), (_t(labels, "decomposition"), second)]


def access_note(summary: RunSummary, labels: Labeller) -> str:
    """The accessibility section's explanation, naming where the waits come from."""
    source = summary.access.parameters.wait_source
    which = "source_simulated" if source.startswith("simulated") else "source_expected"
    return _t(labels, "access_note", source=_t(labels, which))


def access_tables(summary: RunSummary, values: MetricValues, labels: Labeller) -> list[tuple[str, Table]]:
    """(heading, table): indices and life circles for all users, then each service by former township."""
    services = summary.access.services
    if not services:
        return []
    methods = ("2sfca", "e2sfca", "gravity", "e2sfca_queue")
    overall = Table(
        [
            _t(labels, "service"),
            *(_t(labels, m) for m in methods),
            _t(labels, "nearest_wait"),
            _t(labels, "unreachable"),
        ]
    )
    circles = Table(
        [
            _t(labels, "service"),
            *(_t(labels, "own_within", t=t) for t in (5, 15, 30)),
            *(_t(labels, "walk_within", t=t) for t in (5, 15, 30)),
        ]
    )
    out = [(_t(labels, "all_users"), overall), (_t(labels, "life_circles"), circles)]
    for service, entry in services.items():
        p = f"access.services.{service}."
        name = Cell(labels.service(service), "text")
        overall.rows.append(
            [
                name,
                *(values.cell(f"{p}index_per_1000.{m}.mean") for m in methods),
                values.cell(p + "queue_aware_nearest_min.mean"),
                values.cell(p + "unreachable_share", 100),
            ]
        )
        circles.rows.append(
            [
                name,
                *(values.cell(f"{p}life_circle_share.own_mode.{t}", 100) for t in (5, 15, 30)),
                *(values.cell(f"{p}life_circle_share.walk.{t}", 100) for t in (5, 15, 30)),
            ]
        )
        units = Table(
            [
                labels.t("former_unit"),
                *(_t(labels, m) for m in methods),
                _t(labels, "own_within", t=15) + " (%)",
                _t(labels, "own_within", t=30) + " (%)",
            ]
        )
        for unit in entry.index_per_1000["e2sfca"].by_former_unit:
            units.rows.append(
                [
                    Cell(labels.group("former_unit", unit), "name"),
                    *(values.cell(f"{p}index_per_1000.{m}.by_former_unit.{unit}") for m in methods),
                    values.cell(f"{p}life_circle_share.own_mode.15_by_former_unit.{unit}", 100),
                    values.cell(f"{p}life_circle_share.own_mode.30_by_former_unit.{unit}", 100),
                ]
            )
        out.append((_t(labels, "by_unit", service=labels.service(service)), units))
    return out


def change_table(
    summary: RunSummary, values: MetricValues, labels: Labeller, *, name: str, other: str
) -> Table:
    """Paired changes of the equity and accessibility headline metrics (this run minus ``other``)."""
    table = Table([labels.t("r_metric"), other, name, labels.t("r_change")])
    for key, quantity in _quantities(summary, labels):
        table.rows.append(
            [Cell(_t(labels, "gini_of", quantity=quantity), "text"), *values.change(f"equity.{key}.gini")]
        )
        table.rows.append(
            [
                Cell(_t(labels, "theil_share_of", quantity=quantity), "text"),
                *values.change(f"equity.{key}.theil_between_share_former_unit", 100),
            ]
        )
    for service in summary.access.services:
        p = f"access.services.{service}."
        svc = labels.service(service)
        table.rows.append(
            [
                Cell(_t(labels, "e2sfca_mean", service=svc), "text"),
                *values.change(p + "index_per_1000.e2sfca.mean"),
            ]
        )
        table.rows.append(
            [
                Cell(_t(labels, "nearest_wait_of", service=svc), "text"),
                *values.change(p + "queue_aware_nearest_min.mean"),
            ]
        )
        table.rows.append(
            [
                Cell(_t(labels, "own15_of", service=svc), "text"),
                *values.change(p + "life_circle_share.own_mode.15", 100),
            ]
        )
    return table
