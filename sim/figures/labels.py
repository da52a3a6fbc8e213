"""zh/en label dictionary and the Labeller that names axes, townships, facilities and services."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["TEXT", "Labeller"]

#: Every fixed string drawn on a figure or written in a report, in both languages.
TEXT: dict[str, dict[str, str]] = {
    # axes and units
    "x_km": {"en": "Easting (km)", "zh": "东向坐标（km）"},
    "y_km": {"en": "Northing (km)", "zh": "北向坐标（km）"},
    "km": {"en": "km", "zh": "km"},
    "north": {"en": "N", "zh": "北"},
    "burden_min": {"en": "Door-to-door burden per errand (min)", "zh": "每件事门到门耗时（分钟）"},
    "village_burden": {"en": "Mean burden per errand (min)", "zh": "每件事平均耗时（分钟）"},
    "burden_change": {"en": "Change in mean burden per errand (min)", "zh": "每件事平均耗时变化（分钟）"},
    "cum_errands": {"en": "Cumulative share of errands (%)", "zh": "累计事项占比（%）"},
    "share_errands": {"en": "Errands over threshold (%)", "zh": "超过阈值的事项占比（%）"},
    "over_min": {"en": "> {t} min", "zh": "超过{t}分钟"},
    "former_unit": {"en": "Former township", "zh": "原乡镇"},
    "age_band": {"en": "Age band (years)", "zh": "年龄组（岁）"},
    "day": {"en": "Day of simulation", "zh": "模拟天数"},
    "hour": {"en": "Hour of arrival (h)", "zh": "到达时刻（时）"},
    "mean_wait": {"en": "Mean wait in queue (min)", "zh": "平均排队时间（分钟）"},
    "utilisation": {"en": "Server utilisation (%)", "zh": "窗口利用率（%）"},
    "util_mean": {"en": "Mean over open days", "zh": "开放日平均"},
    "util_max": {"en": "Busiest day", "zh": "最忙一天"},
    "pop_share": {"en": "Cumulative share of residents (%)", "zh": "累计人口占比（%）"},
    "minutes_share": {"en": "Cumulative share of minutes (%)", "zh": "累计时间占比（%）"},
    "equality": {"en": "Equality line", "zh": "绝对平等线"},
    "gini": {"en": "Gini {g:.3f}", "zh": "基尼系数 {g:.3f}"},
    "lorenz_burden": {"en": "Burden per errand", "zh": "每件事耗时"},
    "lorenz_access": {"en": "Travel time, {service}", "zh": "出行时间：{service}"},
    "departure_h": {"en": "Departure time (h)", "zh": "发车时刻（时）"},
    "load_pct": {"en": "Peak load (% of capacity)", "zh": "最大满载率（%）"},
    "load_pax": {"en": "Peak load (passengers)", "zh": "最大载客量（人）"},
    "left_behind": {"en": "Passengers left behind per day", "zh": "每日滞留乘客（人）"},
    "line": {"en": "Line", "zh": "线路"},
    "capacity": {"en": "Capacity", "zh": "额定载客量"},
    "villages_pop": {"en": "Villages (area: population)", "zh": "村（面积：人口）"},
    "load_key": {"en": "{n:,.0f} arrivals/day", "zh": "每日{n:,.0f}人次"},
    "no_data": {"en": "no completed errands", "zh": "无已完成事项"},
    "road_trunk": {"en": "Trunk road", "zh": "干线公路"},
    "road_rural": {"en": "Rural road", "zh": "农村公路"},
    "road_ferry": {"en": "Ferry", "zh": "轮渡"},
    # titles
    "t_map": {"en": "Door-to-door burden: {run}", "zh": "门到门耗时：{run}"},
    "t_diff": {"en": "Change in burden: {run} minus {other}", "zh": "耗时变化：{run} 减 {other}"},
    "t_cdf": {"en": "Burden per errand by former township", "zh": "各原乡镇每件事耗时分布"},
    "t_shares_unit": {"en": "(a) By former township", "zh": "（a）按原乡镇"},
    "t_shares_band": {"en": "(b) By age band", "zh": "（b）按年龄组"},
    "t_queue": {"en": "Mean queue wait by hour and day", "zh": "各时段排队时间"},
    "t_util": {"en": "Facility utilisation", "zh": "服务设施利用率"},
    "t_lorenz": {"en": "Lorenz curves", "zh": "洛伦兹曲线"},
    "t_lines": {"en": "Transit line loads", "zh": "公共交通线路载客"},
    "t_sweep_curve": {"en": "{outcome} against {parameter}", "zh": "{outcome}随{parameter}的变化"},
    "t_sweep_heat": {"en": "{outcome} over two parameters", "zh": "{outcome}（双参数）"},
    "t_sens": {"en": "{method} indices: {outcome}", "zh": "{method}敏感性指数：{outcome}"},
    # sweeps
    "ci": {"en": "95% confidence interval", "zh": "95%置信区间"},
    "mean_seeds": {"en": "mean over {n} seeds", "zh": "{n}个随机种子的均值"},
    "held_at": {"en": "other parameters held at {values}", "zh": "其他参数固定为 {values}"},
    "index_value": {"en": "Index value (dimensionless)", "zh": "指数值（无量纲）"},
    "parameter": {"en": "Parameter", "zh": "参数"},
    "baseline_lever": {"en": "no lever", "zh": "无干预"},
    # facility kinds and services
    "kind_clinic": {"en": "Health centre", "zh": "卫生院"},
    "kind_hall": {"en": "Service hall", "zh": "便民服务中心"},
    "kind_service_point": {"en": "Service point", "zh": "便民服务点"},
    "kind_school": {"en": "School", "zh": "学校"},
    "service_clinic": {"en": "health care", "zh": "就医"},
    "service_admin_simple": {"en": "simple admin errand", "zh": "简单政务事项"},
    "service_admin_complex": {"en": "complex admin errand", "zh": "复杂政务事项"},
    # report
    "r_title": {"en": "townsim run report: {run}", "zh": "townsim 运行报告：{run}"},
    "r_vs": {"en": "compared with {other}", "zh": "对比 {other}"},
    "r_headline": {"en": "Headline results", "zh": "主要结果"},
    "r_by_unit": {"en": "By former township", "zh": "按原乡镇"},
    "r_difference": {
        "en": "Difference between the runs ({run} minus {other})",
        "zh": "两次运行之差（{run} 减 {other}）",
    },
    "r_scenario": {"en": "Scenario difference", "zh": "情景差异"},
    "r_scenario_same": {"en": "The two resolved scenarios are identical.", "zh": "两个情景设置完全相同。"},
    "r_merger": {"en": "Merger in this scenario", "zh": "本情景的撤并方案"},
    "r_no_merger": {"en": "This scenario has no merger section.", "zh": "本情景没有撤并设置。"},
    "r_figures": {"en": "Figures", "zh": "图"},
    "r_skipped": {"en": "Not drawn", "zh": "未绘制"},
    "r_provenance": {"en": "Provenance", "zh": "运行信息"},
    "r_metric": {"en": "Metric", "zh": "指标"},
    "r_value": {"en": "Value", "zh": "数值"},
    "r_field": {"en": "Scenario field", "zh": "情景字段"},
    "r_absent": {"en": "(absent)", "zh": "（无）"},
    "r_note": {"en": "Note", "zh": "说明"},
    "r_run": {"en": "This run", "zh": "本次运行"},
    "r_other": {"en": "Comparison run", "zh": "对比运行"},
    "r_change": {"en": "Change", "zh": "变化"},
    "r_days": {"en": "{days} simulated days, seed {seed}", "zh": "模拟{days}天，随机种子{seed}"},
    "r_footer": {
        "en": "Written by townsim {version}; opens offline (figures are embedded).",
        "zh": "由 townsim {version} 生成；离线可打开（图已内嵌）。",
    },
    "m_errands_completed": {"en": "Errands completed", "zh": "已办结事项"},
    "m_errands_pending": {"en": "Errands pending at end", "zh": "期末未办结事项"},
    "m_burden_mean": {"en": "Burden per errand, mean (min)", "zh": "每件事耗时均值（分钟）"},
    "m_burden_median": {"en": "Burden per errand, median (min)", "zh": "每件事耗时中位数（分钟）"},
    "m_burden_p90": {"en": "Burden per errand, 90th percentile (min)", "zh": "每件事耗时第90百分位（分钟）"},
    "m_burden_over": {"en": "Errands over {t} min (%)", "zh": "耗时超过{t}分钟的事项（%）"},
    "m_trips": {"en": "Trips per completed errand", "zh": "每件事跑腿次数"},
    "m_distance": {"en": "Distance per errand (km)", "zh": "每件事出行距离（km）"},
    "m_money": {"en": "Money per errand (yuan)", "zh": "每件事花费（元）"},
    "m_access": {
        "en": "Travel time to nearest {service}, mean (min)",
        "zh": "至最近{service}出行时间均值（分钟）",
    },
    "m_access_over": {
        "en": "Residents over 30 min from {service} (%)",
        "zh": "距{service}超过30分钟的居民（%）",
    },
    "m_wait": {"en": "Mean queue wait, {kind} (min)", "zh": "平均排队时间：{kind}（分钟）"},
    "m_util": {"en": "Mean utilisation, {kind} (%)", "zh": "平均利用率：{kind}（%）"},
    "m_turned": {"en": "Visitors turned away, {kind}", "zh": "未办理即返回人次：{kind}"},
    "m_school": {"en": "School trip one way, mean (min)", "zh": "上学单程时间均值（分钟）"},
    "m_school_over": {"en": "Pupils over 40 min from school (%)", "zh": "上学超过40分钟的学生（%）"},
    "m_gini": {"en": "Gini of burden per resident", "zh": "居民耗时基尼系数"},
    "m_population": {"en": "Residents", "zh": "常住人口"},
    "m_unit": {"en": "Township after merger", "zh": "撤并后乡镇"},
    "skip_transit": {"en": "no transit in this run", "zh": "本次运行没有公交"},
    "skip_vs": {"en": "needs --vs OTHER_RUN", "zh": "需要 --vs 另一次运行"},
    "skip_sensitivity": {"en": "no sensitivity indices in this sweep", "zh": "本次扫描没有敏感性指数"},
    "skip_two_params": {"en": "fewer than two varied parameters", "zh": "变化的参数少于两个"},
}


class Labeller:
    """Strings in one language, plus zh/en names of townships and facilities from a run's places.

    Args:
        lang: "zh" or "en".
        places: a run's places table (id, kind, former_unit, zh, en); seats name former townships.
        extra_units: more names, id -> {"zh": ..., "en": ...} (e.g. merged units, transit lines).
    """

    def __init__(
        self,
        lang: str,
        *,
        places: pd.DataFrame | None = None,
        extra_units: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.lang = lang
        self._names: dict[str, str] = {}
        if places is not None and len(places):
            column = "zh" if lang == "zh" else "en"
            seats = places[places["kind"] == "seat"]
            self._names.update(zip(seats["former_unit"].astype(str), seats[column].astype(str), strict=True))
            others = places[~places["kind"].isin(["seat", "village"])]
            self._names.update(zip(others["id"].astype(str), others[column].astype(str), strict=True))
        for unit, names in (extra_units or {}).items():
            if isinstance(names, Mapping) and lang in names:
                self._names.setdefault(str(unit), str(names[lang]))

    def t(self, key: str, **fmt: object) -> str:
        """The fixed string ``key`` in this language, formatted with ``fmt``."""
        text = TEXT[key][self.lang]
        return text.format(**fmt) if fmt else text

    def name(self, ident: object) -> str:
        """Display name of a township or facility id (the id itself when unknown)."""
        return self._names.get(str(ident), str(ident))

    def kind(self, kind: object) -> str:
        """Display name of a facility kind."""
        key = f"kind_{kind}"
        return self.t(key) if key in TEXT else str(kind)

    def service(self, service: object) -> str:
        """Display name of a service."""
        key = f"service_{service}"
        return self.t(key) if key in TEXT else str(service).replace("_", " ")
