"""Argument types shared by every ``townsim`` command (argparse ``type=`` functions)."""

from __future__ import annotations

import argparse

__all__ = [
    "MAX_DAYS",
    "MAX_REPLICATIONS",
    "MAX_SEED",
    "MAX_WORKERS",
    "check_days",
    "days",
    "positive_int",
    "replications",
    "seed",
    "workers",
]

#: Seeds are 0..2**32-1, the range every numpy generator (legacy RandomState included) accepts.
MAX_SEED = 2**32 - 1
#: Longest run: 100 years of daily steps.
MAX_DAYS = 36_500
#: Most worker processes one command starts.
MAX_WORKERS = 256
#: Most replications one command runs (each is a full run; seeds base..base+N-1 stay <= MAX_SEED).
MAX_REPLICATIONS = 10_000


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def days(text: str) -> int:
    """Days to simulate: 1 to :data:`MAX_DAYS`."""
    value = _whole(text)
    if not 1 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to {MAX_DAYS}, got {text}")
    return value


def seed(text: str) -> int:
    """A random seed: 0 to :data:`MAX_SEED`."""
    value = _whole(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {MAX_SEED} (2**32-1), got {text}")
    return value


def replications(text: str) -> int:
    """A number of replications: 1 to :data:`MAX_REPLICATIONS`."""
    value = _whole(text)
    if not 1 <= value <= MAX_REPLICATIONS:
        raise argparse.ArgumentTypeError(
            f"expected a number of replications from 1 to {MAX_REPLICATIONS}, got {text}"
        )
    return value


def check_days(text: str) -> int:
    """Days of a check run: 0 (no check) to :data:`MAX_DAYS`."""
    value = _whole(text)
    if not 0 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"expected a number of days from 0 to {MAX_DAYS}, got {text}")
    return value


def workers(text: str) -> int:
    """A number of worker processes: 1 to :data:`MAX_WORKERS`."""
    value = _whole(text)
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_WORKERS} worker processes, got {text}")
    return value
