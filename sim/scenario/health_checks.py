"""Reference checks of health tiers (``health``, central health centres, health kinds) and ``elderly``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.errors import ScenarioError
from sim.scenario.health import HEALTH_TIERS

if TYPE_CHECKING:
    from sim.scenario.load import LoadedScenario

__all__ = ["check_health"]


def check_health(loaded: LoadedScenario) -> None:
    """Raise ScenarioError on the first health reference that does not resolve.

    Checked: ``health.levels`` and ``health.care_time`` name services of one group, distinct;
    ``central`` and the plan's ``central`` action only on health centres (kind clinic); village
    clinics and hospitals need the ``health`` block; every kind of care is treated somewhere.
    """
    sc = loaded.scenario

    def fail(field_path: str, expected: str) -> None:
        raise ScenarioError(loaded.origin(field_path), field_path, expected)

    for fid, fac in sc.facilities.items():
        if fac.central and fac.kind != "clinic":
            fail(
                f"facilities.{fid}.central",
                f"expected 'central' only on a health centre (kind clinic), got kind '{fac.kind}'",
            )
        if fac.kind in ("village_clinic", "hospital") and sc.health is None:
            fail(f"facilities.{fid}.kind", f"expected a 'health:' block for a facility of kind '{fac.kind}'")
    for fid, change in sc.merger.facilities.items():
        kind = sc.facilities[fid].kind if fid in sc.facilities else None
        if change.action == "central" and kind != "clinic":
            fail(
                f"merger.facilities.{fid}.action",
                f"expected 'central' only for a health centre, got kind '{kind}'",
            )
    _check_elderly(loaded)
    h = sc.health
    if h is None:
        return
    if len(set(h.levels)) != len(h.levels):
        fail("health.levels", f"expected distinct services, got {list(h.levels)}")
    groups = set()
    for svc in h.levels:
        if svc not in sc.services:
            fail("health.levels", f"expected services among {sorted(sc.services)}, got '{svc}'")
        groups.add(sc.services[svc].group)
    if len(groups) > 1:
        fail("health.levels", f"expected services of one group, got groups {sorted(groups)}")
    for svc in h.care_time:
        if svc not in sc.services:
            fail(f"health.care_time.{svc}", f"expected a service among {sorted(sc.services)}")
    for k, svc in enumerate(h.levels):
        tiers = HEALTH_TIERS[k:]
        treats = [
            fid
            for fid, fac in sc.facilities.items()
            if fac.kind in tiers and svc in (fac.services or _default_services(loaded, fac.kind))
        ]
        if not treats:
            fail(
                "health.levels",
                f"expected '{svc}' (level {k}) among the services of some facility of kind {list(tiers)}",
            )


def _default_services(loaded: LoadedScenario, kind: str) -> tuple[str, ...]:
    defaults = loaded.scenario.facility_defaults.get(kind)  # type: ignore[call-overload]
    return defaults.services if defaults else ()


def _check_elderly(loaded: LoadedScenario) -> None:
    """Bands of the ``elderly`` block exist."""
    sc = loaded.scenario
    e = sc.elderly
    if e is None:
        return
    bands = list(sc.age_bands)
    for name, shares in (("impaired_share", e.impaired_share), ("fare_discount", e.fare_discount)):
        for band in shares:
            if band not in bands:
                field_path = f"elderly.{name}.{band}"
                raise ScenarioError(loaded.origin(field_path), field_path, f"expected an age band of {bands}")
    if e.companion_band not in bands:
        field_path = "elderly.companion_band"
        raise ScenarioError(
            loaded.origin(field_path),
            field_path,
            f"expected an age band of {bands}, got '{e.companion_band}'",
        )
