"""The Mesa model: residents, facilities, needs, choice, queues."""

from sim.model.agents import FacilityAgent, Resident
from sim.model.model import OUTCOMES, AccessModel, TripLog

__all__ = ["OUTCOMES", "AccessModel", "FacilityAgent", "Resident", "TripLog"]
