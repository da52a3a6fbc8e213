"""Cross-field consistency checks of a validated scenario (references, bands, classes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.errors import ScenarioError
from sim.scenario.family_checks import check_calendar, check_families
from sim.scenario.health_checks import check_health
from sim.scenario.lever_checks import check_levers
from sim.scenario.queue_checks import check_queue_behaviour
from sim.scenario.transit_checks import check_transit

if TYPE_CHECKING:
    import pandas as pd

    from sim.scenario.load import LoadedScenario

__all__ = ["GENERATED_ROAD_CLASSES", "MAX_RESIDENTS", "check_consistency", "unreachable_warnings"]

GENERATED_ROAD_CLASSES = ("trunk", "rural")
#: Most residents a scenario may hold (memory grows with residents; Pingtan's 386,000 take about 1 GB).
MAX_RESIDENTS = 20_000_000


def check_consistency(loaded: LoadedScenario) -> None:
    """Raise ``ScenarioError`` on the first reference that does not resolve."""
    sc = loaded.scenario

    def fail(field: str, expected: str) -> None:
        raise ScenarioError(loaded.origin(field), field, expected)

    bands = set(sc.age_bands)
    units = set(sc.units)
    village_ids: set[str] = set()
    for i, village in enumerate(sc.villages):
        if village.id in village_ids:
            fail(f"villages[{i}].id", f"expected a unique village id, '{village.id}' appears twice")
        village_ids.add(village.id)
        if village.unit not in units:
            fail(f"villages[{i}].unit", f"expected one of the units {sorted(units)}, got '{village.unit}'")
        if set(village.population) != bands:
            fail(
                f"villages[{i}].population", f"expected counts for exactly the age bands {list(sc.age_bands)}"
            )
    if not sc.villages:
        fail("villages", "expected at least one village")
    for i, village in enumerate(sc.villages):
        if village.id.startswith("seat:"):
            fail(
                f"villages[{i}].id",
                f"expected a village id not starting with 'seat:' (the seat nodes), got '{village.id}'",
            )
    total = sum(sum(v.population.values()) for v in sc.villages)
    if total > MAX_RESIDENTS:
        fail("villages", f"expected at most {MAX_RESIDENTS:,} residents in all, got {total:,}")
    fraction = sc.simulation.sample_fraction
    if total * fraction < 1:
        fail(
            "simulation.sample_fraction",
            f"expected a fraction sampling one of {total:,} residents, got {fraction}",
        )
    nodes = village_ids | {f"seat:{u}" for u in units}

    for fid, ferry in sc.roads.ferries.items():
        for end in ("from_node", "to_node"):
            node = getattr(ferry, end)
            if node not in nodes:
                fail(f"roads.ferries.{fid}.{end}", f"expected a village id or 'seat:<unit>', got '{node}'")

    road_classes = set(GENERATED_ROAD_CLASSES) if sc.roads.generate else set()
    if "walk" not in sc.modes:
        fail("modes.walk", "expected a 'walk' mode (everyone can walk)")
    for name, mode in sc.modes.items():
        missing = road_classes - set(mode.speed_kph)
        if missing:
            fail(f"modes.{name}.speed_kph", f"expected a speed for road classes {sorted(missing)}")
        for band in mode.ownership or {}:
            if band not in bands:
                fail(f"modes.{name}.ownership.{band}", f"expected an age band of {list(sc.age_bands)}")

    for name, service in sc.services.items():
        for band in service.rate_per_person_year:
            if band not in bands:
                fail(
                    f"services.{name}.rate_per_person_year.{band}",
                    f"expected an age band of {list(sc.age_bands)}",
                )
    for level, spec in sc.schools.levels.items():
        for band in spec.attendance:
            if band not in bands:
                fail(
                    f"schools.levels.{level}.attendance.{band}",
                    f"expected an age band of {list(sc.age_bands)}",
                )
    for i, (first, last) in enumerate(sc.schools.holidays):
        if last < first:
            fail(f"schools.holidays[{i}]", f"expected first <= last day, got [{first}, {last}]")

    for fid, fac in sc.facilities.items():
        at = f"facilities.{fid}"
        if fac.unit not in units:
            fail(f"{at}.unit", f"expected one of the units {sorted(units)}, got '{fac.unit}'")
        if isinstance(fac.at, str) and fac.at not in nodes:
            fail(f"{at}.at", f"expected a village id, 'seat:<unit>' or [x_km, y_km], got '{fac.at}'")
        defaults = sc.facility_defaults.get(fac.kind)
        for svc in fac.services or (defaults.services if defaults else ()):
            if svc not in sc.services:
                fail(f"{at}.services", f"expected services among {sorted(sc.services)}, got '{svc}'")
        if fac.kind == "school":
            if fac.level not in sc.schools.levels:
                fail(f"{at}.level", f"expected a level of {sorted(sc.schools.levels)}, got '{fac.level}'")
            continue
        if fac.service_time is None and (defaults is None or defaults.service_time is None):
            fail(f"{at}.service_time", f"expected a service time here or in facility_defaults.{fac.kind}")
        if fac.hours is None and (defaults is None or defaults.hours is None):
            fail(f"{at}.hours", f"expected opening hours here or in facility_defaults.{fac.kind}")

    seen: dict[str, str] = {}
    for nid, new in sc.merger.units.items():
        for member in new.members:
            if member not in units:
                fail(f"merger.units.{nid}.members", f"expected existing units, got '{member}'")
            if member in seen:
                fail(
                    f"merger.units.{nid}.members",
                    f"expected '{member}' in one new unit only, also in '{seen[member]}'",
                )
            seen[member] = nid
    for fid, change in sc.merger.facilities.items():
        if fid not in sc.facilities:
            fail(f"merger.facilities.{fid}", "expected the id of an existing facility")
        for svc in change.services or ():
            if svc not in sc.services:
                fail(
                    f"merger.facilities.{fid}.services",
                    f"expected services among {sorted(sc.services)}, got '{svc}'",
                )

    check_transit(loaded)
    check_levers(loaded)
    check_health(loaded)
    check_calendar(loaded)
    check_families(loaded)
    check_queue_behaviour(loaded)


def unreachable_warnings(residents: pd.DataFrame) -> list[str]:
    """One line per former unit and service whose residents can reach no facility completing it.

    Uses the residents table's uncongested access columns (``access_<service>_min``: infinite when
    no facility able to complete the errand, within the resident's unit for jurisdiction services,
    is reachable by any of the resident's modes); such errands can only stay pending.
    """
    import numpy as np

    lines = []
    for column in [c for c in residents.columns if c.startswith("access_") and c.endswith("_min")]:
        cut_off = ~np.isfinite(residents[column].to_numpy(dtype=float))
        if not cut_off.any():
            continue
        service = column[len("access_") : -len("_min")]
        counts = residents.loc[cut_off, "former_unit"].astype(str).value_counts().sort_index()
        for unit, n in counts.items():
            lines.append(
                f"{n:,} residents of former unit '{unit}' cannot reach any facility able to complete "
                f"'{service}' (its errands stay pending); check roads, ferries and the merger plan"
            )
    return lines
