"""Summary blocks of the calendar and of families' school travel (present only when switched on)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.model.model import AccessModel

__all__ = ["calendar_summary"]


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
