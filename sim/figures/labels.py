"""zh/en label tables and the Labeller that names axes, scenarios, townships, facilities, metrics and
sweep parameters (never a raw snake_case id where a name exists)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

__all__ = ["METRICS", "PARAMETER_WORDS", "SCENARIOS", "TEXT", "Labeller", "scenario_names"]

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
    "t_min": {"en": "{t} min", "zh": "{t}分钟"},
    "former_unit": {"en": "Former township", "zh": "原乡镇"},
    "unchanged": {"en": "Not merged", "zh": "未撤并"},
    "new_unit": {"en": "Township after merger", "zh": "撤并后乡镇"},
    "island": {"en": "Island", "zh": "海岛"},
    "age_band": {"en": "Age band (years)", "zh": "年龄组（岁）"},
    "all": {"en": "All residents", "zh": "全体居民"},
    "day": {"en": "Day of simulation", "zh": "模拟天数"},
    "weekday": {"en": "Day of week", "zh": "星期"},
    "hour": {"en": "Hour of arrival (h)", "zh": "到达时刻（时）"},
    "mean_wait": {"en": "Mean wait in queue (min)", "zh": "平均排队时间（分钟）"},
    "util_windows": {"en": "Window utilisation (%)", "zh": "窗口利用率（%）"},
    "util_doctors": {"en": "Doctor utilisation (%)", "zh": "医生利用率（%）"},
    "util_max": {"en": "Busiest day", "zh": "最忙一天"},
    "util_over": {
        "en": "Over 100%: service begun before closing runs past it (overtime)",
        "zh": "超过100%：关门前开始的办理延续到关门之后（加班）",
    },
    "pop_share": {"en": "Cumulative share of residents (%)", "zh": "累计人口占比（%）"},
    "minutes_share": {"en": "Cumulative share of minutes (%)", "zh": "累计时间占比（%）"},
    "equality": {"en": "Equality line", "zh": "绝对平等线"},
    "gini": {"en": "Gini {g:.3f}", "zh": "基尼系数 {g:.3f}"},
    "lorenz_burden": {"en": "Burden per errand", "zh": "每件事耗时"},
    "lorenz_access": {"en": "Travel time, {service}", "zh": "出行时间：{service}"},
    "departure_h": {"en": "Departure time (h)", "zh": "发车时刻（时）"},
    "load_pct": {"en": "Peak load (% of capacity)", "zh": "最大满载率（%）"},
    "load_pax": {"en": "Peak load (passengers)", "zh": "最大载客量（人）"},
    "left_behind": {"en": "Left behind per day (passengers)", "zh": "每日滞留乘客（人）"},
    "none_left": {"en": "Nobody was left behind on any line.", "zh": "各线路均无滞留乘客。"},
    "outbound": {"en": "Outbound", "zh": "去程"},
    "inbound": {"en": "Return", "zh": "返程"},
    "line": {"en": "Line", "zh": "线路"},
    "capacity": {"en": "Capacity", "zh": "额定载客量"},
    "villages_pop": {"en": "Villages (area: population)", "zh": "村（面积：人口）"},
    "load_key": {"en": "{n:,.0f} arrivals/day", "zh": "每日{n:,.0f}人次"},
    "no_data": {"en": "no completed errands", "zh": "无已完成事项"},
    "road_trunk": {"en": "Trunk road", "zh": "干线公路"},
    "road_rural": {"en": "Rural road", "zh": "农村公路"},
    "road_ferry": {"en": "Ferry crossing", "zh": "轮渡航线"},
    "road_major": {"en": "Major road", "zh": "主要道路"},
    "road_secondary": {"en": "Secondary road", "zh": "次要道路"},
    "road_minor": {"en": "Minor road or street", "zh": "支路、街道"},
    "bus_line": {"en": "Bus line", "zh": "公交线路"},
    "ferry_line": {"en": "Timetabled ferry", "zh": "定班轮渡"},
    "township_hull": {"en": "Former township (outline)", "zh": "原乡镇（范围）"},
    "land": {"en": "Land (county outline)", "zh": "陆地（县域轮廓）"},
    "ci_includes_0": {"en": "95% CI includes 0", "zh": "95%置信区间含0"},
    "single_run": {"en": "single run, no CI", "zh": "单次运行，无置信区间"},
    "replicated": {"en": "{n} paired replications, 95% CI", "zh": "{n}次配对重复，95%置信区间"},
    "diff_axis": {"en": "Change: {metric}", "zh": "变化：{metric}"},
    "panel_run": {"en": "{kind}: {run}", "zh": "{kind}：{run}"},
    "wait_note": {
        "en": "Longest mean wait {top:.0f} min ({kind}, {day} {hour}:00); visitors still queued at closing "
        "wait until closing and are turned away.",
        "zh": "最长平均等待{top:.0f}分钟（{kind}，{day}{hour}时）；关门时仍在排队者一直等到关门后被劝返。",
    },
    # weekdays (Monday first)
    "wd0": {"en": "Mon", "zh": "周一"},
    "wd1": {"en": "Tue", "zh": "周二"},
    "wd2": {"en": "Wed", "zh": "周三"},
    "wd3": {"en": "Thu", "zh": "周四"},
    "wd4": {"en": "Fri", "zh": "周五"},
    "wd5": {"en": "Sat", "zh": "周六"},
    "wd6": {"en": "Sun", "zh": "周日"},
    # titles
    "t_map": {"en": "Door-to-door burden: {run}", "zh": "门到门耗时：{run}"},
    "t_diff": {"en": "Change in burden: {run} minus {other}", "zh": "耗时变化：{run} 减 {other}"},
    "t_diff_bars": {
        "en": "Change by former township: {run} minus {other}",
        "zh": "各原乡镇变化：{run} 减 {other}",
    },
    "t_cdf": {"en": "Burden per errand by former township", "zh": "各原乡镇每件事耗时分布"},
    "t_shares_unit": {"en": "(a) By former township", "zh": "（a）按原乡镇"},
    "t_shares_band": {"en": "(b) By age band", "zh": "（b）按年龄组"},
    "t_queue": {"en": "Mean queue wait by weekday and hour", "zh": "按星期和时段的平均排队时间"},
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
    "sobol": {"en": "Sobol", "zh": "Sobol"},
    "morris": {"en": "Morris", "zh": "Morris"},
    "S1": {"en": "First order S1", "zh": "一阶指数 S1"},
    "ST": {"en": "Total ST", "zh": "总效应指数 ST"},
    "mu_star": {"en": "μ* (mean |effect|)", "zh": "μ*（平均绝对效应）"},
    "sigma": {"en": "σ (spread of effects)", "zh": "σ（效应离散度）"},
    "cap_curve": {
        "en": "{outcome} against {parameter}; mean over seeds with its 95% confidence interval.",
        "zh": "{outcome}随{parameter}的变化；随机种子均值及其95%置信区间。",
    },
    "cap_heat": {"en": "{outcome} over {x} and {y}.", "zh": "{outcome}随{x}和{y}的变化。"},
    "cap_sens": {
        "en": "{method} indices of {outcome}; error bars: 95% confidence.",
        "zh": "{outcome}的{method}敏感性指数；误差线为95%置信区间。",
    },
    # facility kinds and services
    "kind_clinic": {"en": "Health centre", "zh": "卫生院"},
    "kind_hall": {"en": "Service hall", "zh": "便民服务中心"},
    "kind_service_point": {"en": "Service point", "zh": "便民服务点"},
    "kind_school": {"en": "School", "zh": "学校"},
    "facility_name": {"en": "{unit} {kind}", "zh": "{unit}{kind}"},
    "service_clinic": {"en": "health care", "zh": "就医"},
    "service_admin_simple": {"en": "simple admin errand", "zh": "简单政务事项"},
    "service_admin_complex": {"en": "complex admin errand", "zh": "复杂政务事项"},
    "mode_walk": {"en": "walk", "zh": "步行"},
    "mode_ebike": {"en": "e-bike", "zh": "电动自行车"},
    "mode_car": {"en": "car", "zh": "小汽车"},
    "mode_bus": {"en": "bus", "zh": "公交"},
    # report
    "r_title": {"en": "townsim run report: {run}", "zh": "townsim 运行报告：{run}"},
    "r_sweep_title": {"en": "townsim sweep report: {name}", "zh": "townsim 参数扫描报告：{name}"},
    "r_vs": {"en": "compared with {other}", "zh": "对比 {other}"},
    "r_headline": {"en": "Headline results", "zh": "主要结果"},
    "r_transit": {"en": "Buses and ferries", "zh": "公交与轮渡"},
    "r_by_unit": {"en": "By former township", "zh": "按原乡镇"},
    "r_difference": {
        "en": "Difference between the runs ({run} minus {other})",
        "zh": "两次运行之差（{run} 减 {other}）",
    },
    "r_diff_note_ci": {
        "en": "Paired replications under common random numbers: mean difference and its 95% confidence "
        "interval; n = replications. Bold: the interval excludes 0.",
        "zh": "共同随机数下的配对重复：平均差及其95%置信区间；n为重复次数。粗体：区间不含0。",
    },
    "r_diff_note_single": {
        "en": "Single run, no CI: one run of each scenario, so the difference carries no noise estimate; "
        "rerun with --replications N for confidence intervals.",
        "zh": "单次运行，无置信区间：每个情景只运行一次，差值没有噪声估计；"
        "请用 --replications N 重新运行以得到置信区间。",
    },
    "r_scenario": {"en": "Scenario difference", "zh": "情景差异"},
    "r_scenario_same": {"en": "The two resolved scenarios are identical.", "zh": "两个情景设置完全相同。"},
    "r_merger": {"en": "Merger in this scenario", "zh": "本情景的撤并方案"},
    "r_no_merger": {"en": "This scenario has no merger section.", "zh": "本情景没有撤并设置。"},
    "r_figures": {"en": "Figures", "zh": "图"},
    "r_figure_n": {"en": "Figure {n}", "zh": "图{n}"},
    "r_skipped": {"en": "Not drawn", "zh": "未绘制"},
    "r_provenance": {"en": "Provenance", "zh": "运行信息"},
    "r_contents": {"en": "Contents", "zh": "目录"},
    "r_metric": {"en": "Metric", "zh": "指标"},
    "r_value": {"en": "Value", "zh": "数值"},
    "r_field": {"en": "Scenario field", "zh": "情景字段"},
    "r_absent": {"en": "(absent)", "zh": "（无）"},
    "r_note": {"en": "Note", "zh": "说明"},
    "r_run": {"en": "This run", "zh": "本次运行"},
    "r_other": {"en": "Comparison run", "zh": "对比运行"},
    "r_change": {"en": "Change", "zh": "变化"},
    "r_group": {"en": "Group", "zh": "分组"},
    "r_ci": {"en": "95% CI", "zh": "95%置信区间"},
    "r_n": {"en": "n", "zh": "n"},
    "r_days": {"en": "{days} simulated days, seed {seed}", "zh": "模拟{days}天，随机种子{seed}"},
    "r_sweep_about": {
        "en": "{runs} runs stored ({ok} ok, {failed} failed); {points} design points x {levers} lever(s).",
        "zh": "已存储{runs}次运行（成功{ok}，失败{failed}）；{points}个设计点 x {levers}个方案。",
    },
    "r_parameters": {"en": "Varied parameters", "zh": "变化的参数"},
    "r_range": {"en": "Values", "zh": "取值"},
    "r_path": {"en": "Scenario field", "zh": "情景字段"},
    "r_outcomes": {"en": "Outcomes by lever", "zh": "各方案的结果"},
    "r_sensitivity": {"en": "Sensitivity indices", "zh": "敏感性指数"},
    "r_lever": {"en": "Lever", "zh": "方案"},
    "r_outcome": {"en": "Outcome", "zh": "结果"},
    "r_mean_range": {"en": "Seed mean, range over design points", "zh": "种子均值在各设计点上的范围"},
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
    "m_bus_trips": {"en": "Bus trips", "zh": "公交出行次数"},
    "m_bus_share": {"en": "Bus share of trips (%)", "zh": "公交出行占比（%）"},
    "m_boardings": {"en": "Boardings, {line}", "zh": "上车人次：{line}"},
    "m_no_way_home": {"en": "Bus trips with no way home", "zh": "无法返程的公交出行"},
    "m_stop_wait": {"en": "Mean wait at the stop (min)", "zh": "平均候车时间（分钟）"},
    "m_transfer_wait": {"en": "Mean wait at changes (min)", "zh": "平均换乘等待（分钟）"},
    "m_bus_there": {"en": "Bus trip there, mean (min)", "zh": "公交去程均值（分钟）"},
    "m_bus_home": {"en": "Bus trip home, mean (min)", "zh": "公交返程均值（分钟）"},
    "m_mode_share": {"en": "Mode share, {mode} (%)", "zh": "出行方式占比：{mode}（%）"},
    "skip_transit": {"en": "no transit in this run", "zh": "本次运行没有公交"},
    "skip_vs": {"en": "needs --vs OTHER_RUN", "zh": "需要 --vs 另一次运行"},
    "skip_sensitivity": {"en": "no sensitivity indices in this sweep", "zh": "本次扫描没有敏感性指数"},
    "skip_two_params": {"en": "fewer than two varied parameters", "zh": "变化的参数少于两个"},
    "skip_not_numeric": {
        "en": "not numeric or a single value: nothing to draw against",
        "zh": "非数值或只有一个取值：无法作图",
    },
}

#: Display names of the built-in scenarios (a run's scenario name is looked up here; parts joined
#: by "+" are looked up one by one, so overlay names read "2021 merger + buses").
SCENARIOS: dict[str, dict[str, str]] = {
    "pingtan_baseline": {"en": "Pingtan before the 2021 merger", "zh": "平潭撤并前"},
    "pingtan_merged_2021": {"en": "Pingtan 2021 merger", "zh": "平潭2021年撤并"},
    "pingtan_merged_2021_buses": {"en": "Pingtan 2021 merger with buses", "zh": "平潭2021年撤并＋公交"},
    "pingtan_merged_2021_schools": {
        "en": "Pingtan 2021 merger, schools consolidated",
        "zh": "平潭2021年撤并＋学校合并",
    },
    "tiny_baseline": {"en": "Tiny county, baseline", "zh": "示例小县：撤并前"},
    "tiny_merged": {"en": "Tiny county, merged", "zh": "示例小县：撤并后"},
    "tiny_buses": {"en": "Tiny county, merged with a bus", "zh": "示例小县：撤并＋公交"},
    "buses": {"en": "buses", "zh": "公交"},
    "candidate_lines": {"en": "candidate lines", "zh": "候选线路"},
}

#: Headline metric keys (``townsim compare`` columns, sweep outcomes, replication metrics).
METRICS: dict[str, dict[str, str]] = {
    "burden_mean_min": {"en": "Burden per errand, mean (min)", "zh": "每件事耗时均值（分钟）"},
    "burden_median_min": {"en": "Burden per errand, median (min)", "zh": "每件事耗时中位数（分钟）"},
    "burden_p90_min": {"en": "Burden per errand, 90th pct. (min)", "zh": "每件事耗时第90百分位（分钟）"},
    "trips_per_errand": {"en": "Trips per errand", "zh": "每件事跑腿次数"},
    "distance_km": {"en": "Distance per errand (km)", "zh": "每件事出行距离（km）"},
    "money_yuan": {"en": "Money per errand (yuan)", "zh": "每件事花费（元）"},
    "share_burden_over_60": {"en": "Errands over 60 min (%)", "zh": "耗时超过60分钟的事项占比（%）"},
    "share_over_60_min": {"en": "Errands over 60 min (share)", "zh": "耗时超过60分钟的事项占比"},
    "burden_gini": {"en": "Gini of burden (dimensionless)", "zh": "耗时基尼系数（无量纲）"},
    "hall_wait_min": {"en": "Mean wait at halls (min)", "zh": "便民服务中心平均排队（分钟）"},
    "hall_turned_away": {"en": "Turned away at halls (visitors)", "zh": "便民服务中心劝返人次"},
    "bus_share": {"en": "Bus share of trips", "zh": "公交出行占比"},
    "school_one_way_min": {"en": "School trip one way (min)", "zh": "上学单程时间（分钟）"},
    "access_clinic_min": {"en": "Travel to nearest health care (min)", "zh": "至最近就医点出行时间（分钟）"},
    "access_admin_simple_min": {
        "en": "Travel to nearest simple-errand office (min)",
        "zh": "至最近简单政务办理点出行时间（分钟）",
    },
    "access_admin_complex_min": {
        "en": "Travel to nearest complex-errand office (min)",
        "zh": "至最近复杂政务办理点出行时间（分钟）",
    },
}

#: Words of dotted scenario paths, for human labels of sweep parameters.
PARAMETER_WORDS: dict[str, dict[str, str]] = {
    "rate_per_person_year": {"en": "visits per person-year", "zh": "人均年办事次数"},
    "service_time.mean_min": {"en": "mean service time (min)", "zh": "平均办理时间（分钟）"},
    "service_time.cv": {"en": "service time CV", "zh": "办理时间变异系数"},
    "speed_kph": {"en": "speed (km/h)", "zh": "速度（km/h）"},
    "servers": {"en": "windows/doctors", "zh": "窗口/医生数"},
    "headway.every_min": {"en": "headway (min)", "zh": "发车间隔（分钟）"},
    "logit_scale_per_min": {"en": "Choice sharpness (1/min)", "zh": "选择敏感度（1/分钟）"},
    "value_of_time_yuan_per_h": {"en": "Value of time (yuan/h)", "zh": "时间价值（元/小时）"},
    "knows_service_scope": {"en": "Knows service-point scope (share)", "zh": "了解便民服务点办理范围的比例"},
    "prior_wait_min": {"en": "Expected wait before any visit (min)", "zh": "初始预期等待（分钟）"},
    "wait_memory": {"en": "Weight of the last wait", "zh": "最近一次等待的权重"},
    "retry_after_days": {"en": "Days before retrying", "zh": "再次前往间隔（天）"},
    "sample_fraction": {"en": "Sample fraction", "zh": "抽样比例"},
    "fare_yuan": {"en": "fare (yuan)", "zh": "票价（元）"},
    "capacity": {"en": "capacity (passengers)", "zh": "载客量（人）"},
}


def scenario_names(raw: Mapping[str, object]) -> dict[str, dict[str, str]]:
    """id -> {"zh", "en"} of the units, merged units, facilities and transit lines of a raw scenario."""
    names: dict[str, dict[str, str]] = {}
    transit, merger = raw.get("transit"), raw.get("merger")
    for block in (
        raw.get("units"),
        raw.get("facilities"),
        transit.get("lines") if isinstance(transit, Mapping) else None,
        merger.get("units") if isinstance(merger, Mapping) else None,
    ):
        for ident, entry in (block or {}).items() if isinstance(block, Mapping) else ():
            if isinstance(entry, Mapping) and entry.get("zh") and entry.get("en"):
                names[str(ident)] = {"zh": str(entry["zh"]), "en": str(entry["en"])}
    return names


def _humanise(ident: str) -> str:
    return re.sub(r"[_.]+", " ", ident).strip()


class Labeller:
    """Strings in one language, plus zh/en names of townships, facilities and lines from a run's places.

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
            units = dict(zip(seats["former_unit"].astype(str), seats[column].astype(str), strict=True))
            short = {u: self._short(n) for u, n in units.items()}
            self._names.update(units)
            facilities = places[~places["kind"].isin(["seat", "village"])]
            counts = facilities.groupby(["former_unit", "kind"], observed=True)["id"].transform("size")
            for (_, row), n in zip(facilities.iterrows(), counts, strict=True):
                unit = str(row["former_unit"])
                if n == 1 and unit in short:  # kind after the merger: a downgraded hall reads "service point"
                    kind = self.kind(row["kind"])
                    kind = kind.lower() if lang == "en" else kind
                    self._names[str(row["id"])] = self.t("facility_name", unit=short[unit], kind=kind)
                else:
                    self._names[str(row["id"])] = str(row[column])
        for unit, names in (extra_units or {}).items():
            if isinstance(names, Mapping) and lang in names:
                self._names.setdefault(str(unit), str(names[lang]))

    def add_names(self, names: Mapping[str, Mapping[str, str]]) -> None:
        """Add display names, id -> {"zh": ..., "en": ...} (kept where a name exists)."""
        for ident, entry in names.items():
            self._names.setdefault(str(ident), str(entry[self.lang]))

    def _short(self, name: str) -> str:
        """A township name without its 镇/乡/街道 suffix when it is used before a facility kind."""
        return re.sub(r"(街道|镇|乡)$", "", name) if self.lang == "zh" and len(name) > 2 else name

    def t(self, key: str, **fmt: object) -> str:
        """The fixed string ``key`` in this language, formatted with ``fmt``."""
        text = TEXT[key][self.lang]
        return text.format(**fmt) if fmt else text

    def name(self, ident: object) -> str:
        """Display name of a township, facility or line id (the id itself when unknown)."""
        return self._names.get(str(ident), str(ident))

    def known(self, ident: object) -> bool:
        """Whether ``ident`` has a display name."""
        return str(ident) in self._names

    def kind(self, kind: object) -> str:
        """Display name of a facility kind."""
        key = f"kind_{kind}"
        return self.t(key) if key in TEXT else str(kind)

    def service(self, service: object) -> str:
        """Display name of a service."""
        key = f"service_{service}"
        return self.t(key) if key in TEXT else _humanise(str(service))

    def mode(self, mode: object) -> str:
        """Display name of a travel mode."""
        key = f"mode_{mode}"
        return self.t(key) if key in TEXT else _humanise(str(mode))

    def scenario(self, name: object, title: object = None) -> str:
        """Display name of a scenario: its ``title`` ({zh, en}, the scenario's own) when given, else
        from the label table, overlay parts ("a+b") named one by one."""
        if isinstance(title, Mapping) and title.get(self.lang):
            return str(title[self.lang])
        parts = [p for p in re.split(r"\s*\+\s*", str(name)) if p]
        shown = [SCENARIOS[p][self.lang] if p in SCENARIOS else _humanise(p) for p in parts]
        return " + ".join(shown) if shown else str(name)

    def metric(self, key: object) -> str:
        """Display name of a headline metric key (``burden_mean_min`` -> "Burden per errand, mean (min)")."""
        key = str(key)
        if key in METRICS:
            return METRICS[key][self.lang]
        match = re.fullmatch(r"access_(.+)_min", key)
        if match:
            return self.t("m_access", service=self.service(match.group(1)))
        return _humanise(key)

    def group(self, group_kind: str, group: object) -> str:
        """Display name of a group (former or new township, age band, island, "ALL")."""
        if str(group) in ("ALL", "all", ""):
            return self.t("all")
        if group_kind == "age_band":
            return str(group)
        return self.name(group)

    def parameter(self, path: str) -> str:
        """Human label of a dotted scenario path, e.g. ``services.clinic.rate_per_person_year.60+`` ->
        "Health care: visits per person-year, age 60+"; unknown words are kept, spaced."""
        parts = path.split(".")
        for words, names in sorted(PARAMETER_WORDS.items(), key=lambda kv: -len(kv[0])):
            key = words.split(".")
            at = next((i for i in range(len(parts) - len(key) + 1) if parts[i : i + len(key)] == key), None)
            if at is not None:
                head, what, tail = parts[:at], names[self.lang], parts[at + len(key) :]
                break
        else:
            head, what, tail = parts[:-1], _humanise(parts[-1]), []
        first = ("service_",) if head[:1] == ["services"] else ()
        owners = [o for o in (self._owner(p, first) for p in head[1:]) if o]
        qualifiers = [q for q in (self._owner(p) for p in tail) if q]
        comma = "，" if self.lang == "zh" else ", "
        text = comma.join([what, *qualifiers])
        if owners:
            text = ("：" if self.lang == "zh" else ": ").join([" ".join(owners), text])
        return text[:1].upper() + text[1:] if self.lang == "en" else text

    def _owner(self, part: str, first: tuple[str, ...] = ()) -> str:
        for prefix in (*first, "kind_", "service_", "mode_", "road_"):
            if f"{prefix}{part}" in TEXT:
                return self.t(f"{prefix}{part}")
        if re.fullmatch(r"[\d+\-]+", part):
            return f"age {part}" if self.lang == "en" else f"{part}岁"
        if part in (
            "behaviour",
            "simulation",
            "facilities",
            "lines",
            "transit",
            "merger",
            "services",
            "facility_defaults",
            "modes",
            "units",
        ):
            return ""
        return self.name(part) if self.known(part) else _humanise(part)
