"""Every fixed string on the page, in English and Chinese (sent to the page as JSON).

Names of facility kinds and headline metrics come from :mod:`sim.figures.labels`, the one source
of the figures' and reports' labels, so the page and the reports name them alike.
"""

from __future__ import annotations

from sim.figures.labels import METRICS
from sim.figures.labels import TEXT as LABELS

__all__ = ["TEXT"]

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "townsim planner", "zh": "townsim 规划工具"},
    "lang": {"en": "中文", "zh": "English"},
    "map": {"en": "Map", "zh": "地图"},
    "zoom_in": {"en": "Zoom in", "zh": "放大"},
    "zoom_out": {"en": "Zoom out", "zh": "缩小"},
    "zoom_reset": {"en": "Whole county", "zh": "全县"},
    "map_note": {
        "en": "Scroll or use the buttons to zoom, drag to pan, hover for names. Lines drawn stop to stop.",
        "zh": "滚轮或按钮缩放，拖动平移，悬停查看名称。线路按站点直线连接绘制。",
    },
    "lines": {"en": "Candidate bus lines", "zh": "备选公交线路"},
    "no_candidates": {
        "en": "No candidates file given (--candidates).",
        "zh": "未提供备选线路文件（--candidates）。",
    },
    "facilities": {"en": "Service points, halls and health centres", "zh": "便民服务点、服务中心和卫生院"},
    "facility": {"en": "Facility", "zh": "设施"},
    "action": {"en": "Plan", "zh": "方案"},
    "windows": {"en": "Windows / doctors", "zh": "窗口/医生数"},
    "hours": {"en": "Opening hours (by kind)", "zh": "开放时间（按类型）"},
    "own_hours": {"en": "Own hours (empty: as its kind)", "zh": "本设施开放时间（空：按类型）"},
    "opens": {"en": "opens", "zh": "开门"},
    "closes": {"en": "closes", "zh": "关门"},
    "a_keep": {"en": "keep", "zh": "保留"},
    "a_restaff": {"en": "restaff", "zh": "调整人员"},
    "a_downgrade": {"en": "downgrade to service point", "zh": "降为便民服务点"},
    "a_close": {"en": "close", "zh": "关闭"},
    "k_hall": LABELS["kind_hall"],
    "k_service_point": LABELS["kind_service_point"],
    "k_clinic": LABELS["kind_clinic"],
    "k_village": {"en": "Village", "zh": "村"},
    "settings": {"en": "Run settings", "zh": "运行设置"},
    "replications": {"en": "Replications", "zh": "重复次数"},
    "days": {"en": "Days", "zh": "天数"},
    "seed": {"en": "First seed", "zh": "起始随机种子"},
    "run": {"en": "Run", "zh": "运行"},
    "cancel": {"en": "Cancel", "zh": "取消"},
    "reset": {"en": "Back to the base plan", "zh": "恢复基准方案"},
    "running": {"en": "Running {done} of {total} runs…", "zh": "正在运行 {done}/{total}…"},
    "cancelled": {"en": "Cancelled.", "zh": "已取消。"},
    "finished": {
        "en": "Finished in {s} s ({n} replications × {d} days).",
        "zh": "用时 {s} 秒（{n} 次重复 × {d} 天）。",
    },
    "error": {"en": "Error", "zh": "错误"},
    "results": {"en": "Results: changed plan minus base", "zh": "结果：调整方案减基准方案"},
    "by_unit": {
        "en": "By former township (paired replications, 95% CI)",
        "zh": "按原乡镇（配对重复，95%置信区间）",
    },
    "group": {"en": "Former township", "zh": "原乡镇"},
    "base": {"en": "Base", "zh": "基准"},
    "plan": {"en": "Changed plan", "zh": "调整方案"},
    "change": {"en": "Change", "zh": "变化"},
    "ci": {"en": "95% CI", "zh": "95%置信区间"},
    "m_burden_mean_min": METRICS["burden_mean_min"],
    "m_burden_p90_min": METRICS["burden_p90_min"],
    "m_share_burden_over_60": METRICS["share_burden_over_60"],
    "m_trips_per_errand": METRICS["trips_per_errand"],
    "metric": {"en": "Metric", "zh": "指标"},
    "all": {"en": "County", "zh": "全县"},
    "per_seed": {"en": "Per seed (county mean burden, min)", "zh": "各随机种子（全县平均耗时，分钟）"},
    "diff_map": {"en": "Difference map", "zh": "差异地图"},
    "diff_legend": {
        "en": "Villages: change in burden per errand (blue shorter, red longer); hollow: 95% CI includes 0.",
        "zh": "村的颜色：每件事平均耗时变化（蓝色缩短，红色增加）；空心：95%置信区间包含0。",
    },
    "line_loads": {"en": "Line loads (mean over replications)", "zh": "线路载客（各次重复平均）"},
    "line": {"en": "Line", "zh": "线路"},
    "boardings": {"en": "Boardings/day", "zh": "日均上车人次"},
    "load_factor": {"en": "Mean load factor (%)", "zh": "平均满载率（%）"},
    "max_load": {"en": "Highest load factor (%)", "zh": "最高满载率（%）"},
    "left_behind": {"en": "Left behind/day", "zh": "日均滞留"},
    "queues": {"en": "Queue loads (mean over replications)", "zh": "排队负荷（各次重复平均）"},
    "arrivals": {"en": "Arrivals/open day", "zh": "开放日到访人次"},
    "wait": {"en": "Mean wait (min)", "zh": "平均等待（分钟）"},
    "util": {"en": "Utilisation (%)", "zh": "利用率（%）"},
    "turned": {"en": "Turned away/day", "zh": "日均未办理"},
    "downloads": {"en": "Download", "zh": "下载"},
    "dl_overlay": {"en": "Overlay YAML of this plan", "zh": "本方案的覆盖文件（YAML）"},
    "dl_report": {"en": "HTML report (first seed)", "zh": "HTML报告（第一个随机种子）"},
    "reproduce": {"en": "Reproduce with the command line", "zh": "用命令行复现"},
    "closed": {"en": "closed", "zh": "已关闭"},
    "none": {"en": "–", "zh": "–"},
    "pop": {"en": "residents", "zh": "人"},
    "answer": {"en": "Answer: who gains, by how much, how sure", "zh": "结论：谁受益、多少、有多确定"},
    "by_age": {
        "en": "By age band: change in mean burden per errand (min)",
        "zh": "按年龄组：每次办事平均耗时变化（分钟）",
    },
    "unit_age": {
        "en": "Former township × age band: change in mean burden per errand (min)",
        "zh": "原乡镇 × 年龄组：每次办事平均耗时变化（分钟）",
    },
    "heat_note": {
        "en": "Blue shorter, red longer; * the 95% CI excludes 0; hover a cell for its interval.",
        "zh": "蓝色缩短，红色增加；* 表示95%置信区间不含0；悬停查看区间。",
    },
    "age_band": {"en": "Age band", "zh": "年龄组"},
}
