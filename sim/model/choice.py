"""Destination + mode choice rules over generalised cost (swappable strategy objects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.scenario.schema import Behaviour

__all__ = ["ChoiceRule", "LogitChoice", "NearestChoice", "make_choice_rule"]


class ChoiceRule(Protocol):
    """Picks one (facility, mode) alternative per row of a generalised-cost array."""

    def choose(self, cost_min: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Flat index into the last two axes of ``cost_min`` (rows, F, M); -1 if all are inf."""
        ...


@dataclass(frozen=True)
class NearestChoice:
    """Least generalised cost (ties to the lowest index)."""

    def choose(self, cost_min: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flat = cost_min.reshape(len(cost_min), -1)
        pick = np.argmin(flat, axis=1)
        return np.where(np.isfinite(flat[np.arange(len(flat)), pick]), pick, -1)


@dataclass(frozen=True)
class LogitChoice:
    """Multinomial logit: utility = -scale * cost + Gumbel noise (scale in 1/min)."""

    scale_per_min: float

    def choose(self, cost_min: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flat = cost_min.reshape(len(cost_min), -1)
        utility = -self.scale_per_min * flat + rng.gumbel(size=flat.shape)
        pick = np.argmax(utility, axis=1)
        return np.where(np.isfinite(flat[np.arange(len(flat)), pick]), pick, -1)


def make_choice_rule(behaviour: Behaviour) -> ChoiceRule:
    """The rule a scenario's ``behaviour.choice`` names."""
    if behaviour.choice == "nearest":
        return NearestChoice()
    return LogitChoice(scale_per_min=behaviour.logit_scale_per_min)
