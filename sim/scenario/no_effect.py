"""Settings that provably do nothing in the scenario given: warnings naming the field.

A lever or option that cannot act (a proxy on days no office offering its services opens, a
mobile van with no services, appointment windows no facility has, a facility open on no day)
would run as if it did something and report an effect of zero for a reason the user never
sees. :func:`no_effect_warnings` lists them; ``townsim validate`` and ``townsim run`` print
them, and ``townsim validate --strict`` refuses the scenario (exit code 2) on the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.scenario.load import LoadedScenario
    from sim.scenario.schema import Hours

__all__ = ["NoEffect", "no_effect_warnings"]


@dataclass(frozen=True)
class NoEffect:
    """One setting without effect: the file it comes from, its field path and why."""

    file: str
    field: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}: field '{self.field}': {self.why}"


def _open_days(hours: Hours | None) -> set[str]:
    """Weekdays a facility with these hours is open (None: no hours given, open every day)."""
    if hours is None:
        return {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    return set(hours.days) | set(hours.by_day)


def no_effect_warnings(loaded: LoadedScenario) -> list[NoEffect]:
    """Every setting of ``loaded`` that can have no effect on its runs, in field order."""
    sc = loaded.scenario
    out: list[NoEffect] = []

    def warn(field: str, why: str) -> None:
        out.append(NoEffect(loaded.origin(field), field, why))

    closed = {fid for fid, change in sc.merger.facilities.items() if change.action == "close"}
    services: dict[str, tuple[str, ...]] = {}
    days: dict[str, set[str]] = {}
    for fid, fac in sc.facilities.items():
        defaults = sc.facility_defaults.get(fac.kind)
        services[fid] = fac.services or (defaults.services if defaults is not None else ())
        hours = fac.hours or (defaults.hours if defaults is not None else None)
        days[fid] = _open_days(hours)
        if fac.kind != "school" and fid not in closed and not days[fid]:
            where = (
                f"facilities.{fid}.hours" if fac.hours is not None else f"facility_defaults.{fac.kind}.hours"
            )
            warn(where, f"facility '{fid}' is open on no weekday: no errand is ever served there")
    serving = [f for f in sc.facilities if f not in closed and sc.facilities[f].kind != "school"]
    lv = sc.levers
    for name, online in lv.online.items():
        if not any(share > 0 for share in online.share.values()):
            warn(f"levers.online.{name}.share", "every share is 0: no errand is done online")
    if lv.proxy is not None:
        p = lv.proxy
        if not any(share > 0 for share in p.uptake.values()):
            warn("levers.proxy.uptake", "every uptake is 0: no errand is carried by a proxy")
        offices = [f for f in serving if set(services[f]) & set(p.services)]
        if p.days and not any(set(p.days) & days[f] for f in offices):
            warn(
                "levers.proxy.days",
                f"no facility offering {list(p.services)} opens on {list(p.days)}: the proxy never travels",
            )
    for mid, mobile in lv.mobile.items():
        if not mobile.services:
            warn(f"levers.mobile.{mid}.services", "no services: the van serves no errand")
        if not any(stop.days for stop in mobile.stops):
            warn(f"levers.mobile.{mid}.stops", "no stop has a visiting day: the van never comes")
    if lv.appointments is not None:
        ap = lv.appointments
        targets = [f for f in serving if sc.facilities[f].kind in ap.kinds]
        if not targets:
            warn("levers.appointments.kinds", f"no open facility of kinds {list(ap.kinds)}: nobody books")
        elif ap.share == 0:
            warn("levers.appointments.share", "share is 0: nobody books a slot")
        else:
            most = max(sc.facilities[f].servers for f in targets)
            if ap.windows > most:
                warn(
                    "levers.appointments.windows",
                    f"{ap.windows} reserved windows, more than any facility of kinds {list(ap.kinds)} has "
                    f"(at most {most}): expected at most {most}",
                )
    if sc.transit is not None and not sc.transit.runs:
        warn(
            "transit.lines",
            "no lines and no GTFS feed: no bus or ferry runs, so the transit block (capacity, no way "
            "home) has no effect",
        )
    return out
