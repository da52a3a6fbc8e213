"""Exception family of townsim: every user-facing failure is a ``SimError``."""

from __future__ import annotations

__all__ = ["ScenarioError", "SimError", "Terminated"]


class SimError(Exception):
    """Base class of all errors townsim raises on purpose."""

    exit_code = 1


class ScenarioError(SimError, ValueError):
    """A scenario (or data file beside it) is malformed or inconsistent.

    The message names the file, the field path and what was expected.
    """

    exit_code = 2

    def __init__(self, file: str, field: str, expected: str) -> None:
        self.file = file
        self.field = field
        self.expected = expected
        super().__init__(f"{file}: field '{field}': {expected}")


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: stop like Ctrl-C (cleanup runs, nothing half-written stays).

    ``townsim`` exits with 128 + ``signum``.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
