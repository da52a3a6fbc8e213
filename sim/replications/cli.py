"""Command-line options shared by the commands that run replications (run, compare, rank-lines)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sim.argtypes import replications, workers
from sim.errors import SimError

if TYPE_CHECKING:
    from sim.replications.stats import PrecisionTarget

__all__ = [
    "DEFAULT_REPLICATIONS",
    "OptionError",
    "add_replication_options",
    "progress_callback",
    "target_from_args",
]

DEFAULT_REPLICATIONS = 10
"""Default for compare and rank-lines on scenario files; docs/replications.md gives the measured spread."""


class OptionError(SimError):
    """A command-line option is inconsistent with the others (exit code 2, like argparse)."""

    exit_code = 2


def _target(text: str) -> PrecisionTarget:
    from sim.replications.stats import PrecisionTarget

    try:
        return PrecisionTarget.parse(text)
    except SimError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--precision: ")) from None


def add_replication_options(p: argparse.ArgumentParser, *, default: int, precision: bool = True) -> None:
    """``--replications``, ``--workers`` and (with ``precision``) ``--precision``, ``--max-replications``."""
    p.add_argument(
        "--replications",
        type=replications,
        default=default,
        metavar="N",
        help=f"runs with seeds derived from --seed (default {default})",
    )
    p.add_argument(
        "--workers", type=workers, default=None, metavar="W", help="worker processes (default: one per CPU)"
    )
    if not precision:
        return
    p.add_argument(
        "--precision",
        type=_target,
        default=None,
        metavar="METRIC=HALF_WIDTH",
        help="add replications until the 95%% CI half-width of METRIC (summary.json path, e.g. "
        "burden_min.mean=0.5) is at most HALF_WIDTH; starts from --replications (at least 3)",
    )
    p.add_argument(
        "--max-replications",
        type=replications,
        default=None,
        metavar="M",
        help="upper limit with --precision (default 4 x --replications)",
    )


def target_from_args(args: argparse.Namespace) -> tuple[PrecisionTarget | None, int, int]:
    """The precision target and ``(start n, max n)`` from parsed options."""
    if args.precision is None:
        if args.max_replications is not None:
            raise OptionError("--max-replications: only applies with --precision METRIC=HALF_WIDTH")
        return None, args.replications, args.replications
    target: PrecisionTarget = args.precision
    start = max(3, args.replications)
    top = args.max_replications if args.max_replications is not None else 4 * start
    if top < start:
        raise OptionError(
            f"--max-replications: expected at least the starting {start} replications, got {top}"
        )
    return target, start, top


@contextmanager
def progress_callback(enabled: bool, desc: str) -> Iterator[Callable[[int, int], None] | None]:
    """A ``progress(done, total)`` drawing a tqdm bar on stderr (None when disabled)."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=0, desc=desc, unit="run", file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
