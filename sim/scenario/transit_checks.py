"""Reference checks of a scenario's transit block (stops resolve, no clash with road modes, feed readable)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.errors import ScenarioError
from sim.scenario.gtfs_feed import check_gtfs_feed

if TYPE_CHECKING:
    from sim.scenario.load import LoadedScenario

__all__ = ["check_transit"]


def check_transit(loaded: LoadedScenario) -> None:
    """Raise ScenarioError on the first transit reference that does not resolve."""
    sc = loaded.scenario
    transit = sc.transit
    if transit is None:
        return

    def fail(field: str, expected: str) -> None:
        raise ScenarioError(loaded.origin(field), field, expected)

    if "bus" in sc.modes:
        fail(
            "modes.bus",
            "expected no road mode named 'bus' in a scenario with transit (the bus mode is built in)",
        )
    nodes = {v.id for v in sc.villages} | {f"seat:{u}" for u in sc.units} | set(sc.facilities)
    for lid, line in transit.lines.items():
        for i, stop in enumerate(line.stops):
            if isinstance(stop, str) and stop not in nodes:
                fail(
                    f"transit.lines.{lid}.stops[{i}]",
                    f"expected a village id, 'seat:<unit>', a facility id or [x_km, y_km], got '{stop}'",
                )
    if transit.gtfs is not None:
        check_gtfs_feed(loaded.data_path("transit.gtfs.path", transit.gtfs.path), transit.gtfs.date)
