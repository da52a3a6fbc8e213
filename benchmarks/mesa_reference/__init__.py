"""Plain-Mesa reference implementation of townsim's errand model (agreement test and speed-up benchmark)."""

from benchmarks.mesa_reference.model import FacilityAgent, Headline, MesaReferenceModel, ResidentAgent

__all__ = ["FacilityAgent", "Headline", "MesaReferenceModel", "ResidentAgent"]
