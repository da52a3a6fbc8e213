"""Reference checks of a scenario's queue behaviour (``behaviour.balking``, ``reneging``, ``day_choice``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.errors import ScenarioError

if TYPE_CHECKING:
    from sim.scenario.load import LoadedScenario

__all__ = ["check_queue_behaviour"]


def check_queue_behaviour(loaded: LoadedScenario) -> None:
    """Raise ScenarioError if ``day_choice.urgent_share`` names an unknown service, or balking or
    reneging is combined with appointments or proxy agents (booked slots and agents' batches do
    not balk or renege: not modelled together)."""
    sc = loaded.scenario
    b = sc.behaviour

    def fail(field: str, expected: str) -> None:
        raise ScenarioError(loaded.origin(field), field, expected)

    impatient = "behaviour.balking" if b.balking is not None else "behaviour.reneging" if b.reneging else None
    if impatient is not None and (sc.levers.appointments is not None or sc.levers.proxy is not None):
        fail(
            impatient,
            "expected no levers.appointments or levers.proxy with balking or reneging "
            "(booked slots and agents' batches do not balk or renege; not modelled together)",
        )
    for service in b.day_choice.urgent_share if b.day_choice is not None else {}:
        if service not in sc.services:
            fail(
                f"behaviour.day_choice.urgent_share.{service}", f"expected a service of {sorted(sc.services)}"
            )
