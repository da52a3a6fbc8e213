"""Summary blocks of the calendar and of families' school travel (present only when switched on)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.model.model import AccessModel
    from sim.results.result import RunResult

__all__ = ["FAMILY_HEADLINE", "calendar_summary", "families_summary"]

#: Metrics of the families and calendar blocks that ``townsim compare`` shows in its text table:
#: NAO-style school service radius, boarding share and weekly pupil-km per level, escort minutes,
#: days without ferries and errand-days held by them (csv and json hold every metric).
FAMILY_HEADLINE = (
    r"^(families\.school_levels\.[^.]+\.(service_radius_km|boarding_share|weekly_pupil_km)"
    r"|families\.escort\.escort_min|calendar\.(ferry_suspended_days|errands_held_by_ferry))$"
)


def calendar_summary(model: AccessModel) -> dict[str, Any] | None:
    """Measured days without ferries (all, by month), public holidays, errands held for want of a
    ferry and registered-but-absent residents; None without a calendar."""
    cal = model.calendar
    if cal is None:
        return None
    days = range(model.day)
    suspended = [d for d in days if cal.is_suspended(d)]
    by_month: dict[str, int] = {}
    for d in suspended:
        month = cal.date(d).strftime("%Y-%m")
        by_month[month] = by_month.get(month, 0) + 1
    return {
        "start_date": cal.date(0).isoformat(),
        "ferry_suspended_days": len(suspended),
        "ferry_suspended_days_by_month": by_month,
        "first_suspended_day": suspended[0] if suspended else None,
        "public_holidays": sum(cal.is_holiday(d) for d in days),
        "errands_held_by_ferry": sum(n for d, n in cal.held_by_ferry.items() if d >= 0),
        "registered_absent": int(cal.absent.sum()),
    }


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def families_summary(model: AccessModel, result: RunResult) -> dict[str, Any] | None:
    """Boarding, escorts, households and the NAO-style service radius per school level (mean km
    from pupils to their school); None without a families block."""
    fam = model.families
    if fam is None:
        return None
    schools, residents = result.schools, result.residents
    levels = list(model.loaded.scenario.schools.levels)
    placed = schools["school"].notna().to_numpy()
    level = schools["level"].cat.codes.to_numpy()
    km = schools["distance_km"].to_numpy()
    weight = model.sample_weight
    by_level: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(levels):
        rows = placed & (level == i)
        sub = schools[rows]
        by_level[name] = {
            "pupils": int(rows.sum()),
            "service_radius_km": _num(km[rows].mean()) if rows.any() else None,
            "boarders": int(sub["boarding"].sum()),
            "boarding_share": _num(sub["boarding"].mean()) if rows.any() else None,
            "escorted": int(sub["escort"].sum()),
            "bus_riders": int((sub["mode"] == "school_bus").sum()),
            "teaching_point": int(sub["teaching_point"].sum()),
            "weekly_pupil_km": _num(float(sub["weekly_km"].sum()) * weight),
            "boarding_yuan_per_term": _num(float(sub["boarding_yuan_per_term"].sum()) * weight),
        }
    out: dict[str, Any] = {"school_levels": by_level}
    if fam.spec.school_buses:
        rides = schools["school_bus"]
        out["school_buses"] = {
            name: {
                "riders": int((rides == name).sum()),
                "capacity": bus.capacity,
                "load_factor": _num(float((rides == name).sum()) / bus.capacity),
                "mean_one_way_min": _num(float(schools.loc[(rides == name).to_numpy(), "one_way_min"].mean()))
                if (rides == name).any()
                else None,
            }
            for name, bus in fam.spec.school_buses.items()
        }
    if fam.households is not None:
        h = fam.households
        kids = fam.age < 15
        kind_of_child = h.kind[h.household[kids]]
        band = residents["age_band"].astype(str).to_numpy()
        carer = residents["caregiver"].to_numpy()
        escort = residents["escort_min"].to_numpy()
        carers = np.flatnonzero(escort > 0)
        by_band: dict[str, dict[str, Any]] = {}
        for b in model.world.age_bands:
            rows = carers[band[carers] == b]
            by_band[b] = {
                "caregivers_escorting": len(rows),
                "escort_min": _num(float(escort[rows].sum()) * weight),
                "escort_min_per_caregiver": _num(float(escort[rows].mean())) if len(rows) else None,
            }
        out["households"] = {
            "households": len(h.kind),
            "mean_size": _num(float(h.size.mean())) if len(h.kind) else None,
            "left_behind_share_of_children": _num(float((kind_of_child == 1).mean())) if kids.any() else None,
            "children_without_caregiver": int((carer[kids] < 0).sum()),
            "max_fit_error": _num(float(h.fit_error.max(initial=0.0))),
        }
        out["escort"] = {
            "escort_min": _num(float(escort.sum()) * weight),
            "school_escort_min": _num(float(residents["escort_school_min"].sum()) * weight),
            "clinic_escort_min": _num(float(residents["escort_clinic_min"].sum()) * weight),
            "by_caregiver_age_band": by_band,
        }
    return out
