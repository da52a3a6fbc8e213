"""The Mesa model: residents, facilities, needs, choice, queues."""

from sim.model.agents import FacilityAgent, Resident
from sim.model.model import OUTCOMES, TRIP_COLUMNS, AccessModel

__all__ = ["OUTCOMES", "TRIP_COLUMNS", "AccessModel", "FacilityAgent", "Resident"]
