"""Exception family of townsim: every user-facing failure is a ``SimError``; a stop signal raises
:class:`Terminated` (or ``KeyboardInterrupt``) and is remembered until the command ends."""

from __future__ import annotations

import signal

__all__ = ["ScenarioError", "SimError", "Terminated", "note_stop", "raise_if_stopped"]

#: The stop signal received while a CLI command runs (None: none), kept because Python only prints
#: an exception raised inside a garbage-collector callback or a ``__del__`` and then goes on.
_stop_signal: int | None = None


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


def note_stop(signum: int | None) -> None:
    """Remember the stop signal ``signum`` (set by the CLI's signal handlers; None forgets it)."""
    global _stop_signal
    _stop_signal = signum


def raise_if_stopped() -> None:
    """Raise the stop a signal asked for, again: called between units of long work (sweep runs), so
    that a Ctrl-C or SIGTERM whose exception was swallowed (raised inside a garbage-collector callback,
    e.g. Dask's GC diagnosis) still stops the command."""
    if _stop_signal is None:
        return
    if _stop_signal == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(_stop_signal)
