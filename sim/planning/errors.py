"""The error of a planning or evaluation option the command cannot use."""

from __future__ import annotations

from sim.errors import SimError

__all__ = ["PlanInputError"]


class PlanInputError(SimError):
    """A command-line option or input file the command cannot use (exit code 2, nothing written)."""

    exit_code = 2
