"""Report tables of the families and calendar blocks: school travel, escorts, the weather."""

from __future__ import annotations

from sim.figures.report_blocks import MetricValues
from sim.figures.report_cells import Cell, Table
from sim.results.summary_model import RunSummary

__all__ = ["TITLE", "families_tables", "metric_label"]

TITLE = {"en": "Families, schools and the calendar", "zh": "家庭、上学与日历"}
_TEXT = {
    "metric": {"en": "Measure", "zh": "指标"},
    "value": {"en": "This run", "zh": "本次运行"},
    "other": {"en": "Comparison", "zh": "对照"},
    "change": {"en": "Change", "zh": "变化"},
    "schools": {"en": "School travel by level", "zh": "分学段上学出行"},
    "escorts": {"en": "Caregivers' escort time", "zh": "照料人接送时间"},
    "weather": {"en": "Calendar and weather", "zh": "日历与天气"},
    "service_radius_km": {"en": "{level}: service radius (km)", "zh": "{level}：服务半径（公里）"},
    "boarding_share": {"en": "{level}: share boarding", "zh": "{level}：寄宿比例"},
    "weekly_pupil_km": {"en": "{level}: pupil-km a school week", "zh": "{level}：每周学生公里"},
    "escorted": {"en": "{level}: pupils escorted", "zh": "{level}：接送学生数"},
    "bus_riders": {"en": "{level}: school bus riders", "zh": "{level}：校车乘坐学生"},
    "teaching_point": {"en": "{level}: at teaching points", "zh": "{level}：教学点学生"},
    "escort_min": {"en": "Escort minutes, all", "zh": "接送分钟（全部）"},
    "school_escort_min": {"en": "to and from school", "zh": "上下学"},
    "clinic_escort_min": {"en": "at the clinic", "zh": "陪同就诊"},
    "band": {"en": "per caregiver aged {band}", "zh": "照料人{band}岁，人均"},
    "ferry_suspended_days": {"en": "Days without ferries", "zh": "渡轮停航天数"},
    "public_holidays": {"en": "Public holidays", "zh": "法定节假日"},
    "errands_held_by_ferry": {"en": "Errand-days held by the weather", "zh": "因停航延后的事项·日"},
    "registered_absent": {"en": "Registered residents away", "zh": "户籍在外人口"},
}


def _rows(summary: RunSummary, lang: str) -> dict[str, list[tuple[str, str]]]:
    """Per table: (label, dotted summary path) of each row, for the blocks the run has."""
    out: dict[str, list[tuple[str, str]]] = {}
    fam = summary.families
    if fam is not None:
        rows = []
        for level, entry in fam.school_levels.items():
            keys = ["service_radius_km", "boarding_share", "weekly_pupil_km"]
            keys += [k for k in ("escorted", "bus_riders", "teaching_point") if getattr(entry, k)]
            rows += [
                (_TEXT[k][lang].format(level=level), f"families.school_levels.{level}.{k}") for k in keys
            ]
        out["schools"] = rows
        if fam.escort is not None:
            rows = [(_TEXT[k][lang], f"families.escort.{k}") for k in ("escort_min", "school_escort_min")]
            rows.append((_TEXT["clinic_escort_min"][lang], "families.escort.clinic_escort_min"))
            for band, carers in fam.escort.by_caregiver_age_band.items():
                if carers.caregivers_escorting:
                    path = f"families.escort.by_caregiver_age_band.{band}.escort_min_per_caregiver"
                    rows.append((_TEXT["band"][lang].format(band=band), path))
            out["escorts"] = rows
    if summary.calendar is not None:
        weather = ("ferry_suspended_days", "public_holidays", "errands_held_by_ferry", "registered_absent")
        out["weather"] = [(_TEXT[k][lang], f"calendar.{k}") for k in weather]
    return out


def families_tables(summary: RunSummary, values: MetricValues, lang: str) -> list[tuple[str, Table]]:
    """(heading, table) for school travel, escorts and the calendar (empty without those blocks);
    with a comparison run, its value, this run's and the paired change per row."""
    paired = values.diffs is not None
    header = [_TEXT["metric"][lang]]
    header += [_TEXT[k][lang] for k in (("other", "value", "change") if paired else ("value",))]
    tables = []
    for key, rows in _rows(summary, lang).items():
        table = Table(list(header))
        for label, path in rows:
            cells = values.change(path) if paired else [values.cell(path)]
            table.rows.append([Cell(label, "text"), *cells])
        tables.append((_TEXT[key][lang], table))
    return tables


def metric_label(path: str, lang: str) -> str:
    """Display name of a families or calendar metric given by its dotted summary path."""
    parts = path.split(".")
    key = parts[-1]
    if parts[:2] == ["families", "school_levels"]:
        return _TEXT[key][lang].format(level=parts[2])
    if "by_caregiver_age_band" in parts:
        return _TEXT["band"][lang].format(band=parts[-2])
    return _TEXT[key][lang] if key in _TEXT else path
