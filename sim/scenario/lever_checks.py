"""Reference checks of a scenario's ``levers`` block (errand types, bands, villages, modes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.errors import ScenarioError

if TYPE_CHECKING:
    from sim.scenario.load import LoadedScenario

__all__ = ["check_levers"]


def check_levers(loaded: LoadedScenario) -> None:
    """Raise ScenarioError on the first lever reference that does not resolve."""
    sc = loaded.scenario
    lv = sc.levers

    def fail(field_path: str, expected: str) -> None:
        raise ScenarioError(loaded.origin(field_path), field_path, expected)

    services, bands = set(sc.services), set(sc.age_bands)
    villages = {v.id for v in sc.villages}
    for name, online in lv.online.items():
        if name not in services:
            fail(f"levers.online.{name}", f"expected an errand type of {sorted(services)}")
        for band in online.share:
            if band not in bands:
                fail(f"levers.online.{name}.share.{band}", f"expected an age band of {list(sc.age_bands)}")
    if lv.proxy is not None:
        p = lv.proxy
        for svc in p.services:
            if svc not in services:
                fail("levers.proxy.services", f"expected errand types of {sorted(services)}, got '{svc}'")
        for band in p.uptake:
            if band not in bands:
                fail(f"levers.proxy.uptake.{band}", f"expected an age band of {list(sc.age_bands)}")
        for v in p.villages or ():
            if v not in villages:
                fail("levers.proxy.villages", f"expected village ids, got '{v}'")
        if p.mode not in sc.modes:
            fail("levers.proxy.mode", f"expected a road mode of {sorted(sc.modes)}, got '{p.mode}'")
    for mid, mobile in lv.mobile.items():
        for svc in mobile.services:
            if svc not in services:
                fail(
                    f"levers.mobile.{mid}.services",
                    f"expected errand types of {sorted(services)}, got '{svc}'",
                )
        for i, stop in enumerate(mobile.stops):
            if stop.village not in villages:
                fail(
                    f"levers.mobile.{mid}.stops[{i}].village", f"expected a village id, got '{stop.village}'"
                )
