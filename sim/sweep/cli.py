"""Subcommands ``townsim sweep | sweep-status | analyze``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sim.argtypes import workers

if TYPE_CHECKING:
    from sim.sweep.runner import SweepProgress

__all__ = ["register"]


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Callable[[SweepProgress], None] | None]:
    """A tqdm bar on stderr showing runs done, failed and time left (None when disabled)."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar: tqdm[None] | None = None

    def update(state: SweepProgress) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=state.total, unit="run", desc="sweep", file=sys.stderr, dynamic_ncols=True)
        bar.set_postfix_str(f"failed {state.failed}", refresh=False)
        bar.update(state.done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def _security(args: argparse.Namespace) -> object | None:
    """A ``distributed.Security`` from the --tls-* options (None without them: Dask's own config applies)."""
    files = {"--tls-ca-file": args.tls_ca_file, "--tls-cert": args.tls_cert, "--tls-key": args.tls_key}
    if not any(files.values()):
        return None
    from pathlib import Path

    from distributed.security import Security

    from sim.errors import SimError

    if args.scheduler is None:
        raise SimError("--tls-* options secure a remote --scheduler; give --scheduler tls://HOST:PORT")
    for option, file in files.items():
        if file is None:
            raise SimError(f"{option}: expected a PEM file (all of --tls-ca-file, --tls-cert, --tls-key)")
        if not Path(file).is_file():
            raise SimError(f"{file}: {option}: expected an existing PEM file")
    return Security(
        tls_ca_file=args.tls_ca_file,
        tls_client_cert=args.tls_cert,
        tls_client_key=args.tls_key,
        require_encryption=True,
    )


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.sweep.runner import run_sweep

    security = _security(args)

    # SIGTERM (a batch system, `kill`) stops a sweep like Ctrl-C (sim.cli.main turns it into
    # KeyboardInterrupt): finished rows are flushed first.
    with _progress_bar(enabled=not args.quiet and sys.stderr.isatty()) as progress:
        report = run_sweep(
            args.experiment,
            out=args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            retry_failed=args.retry_failed,
            progress=progress,
            security=security,
            adopt=args.adopt,
        )
    state = report.progress
    print(
        f"{report.out}: {report.planned:,} runs planned, {report.skipped:,} already stored; "
        f"ran {state.done:,} ({state.failed:,} failed) in {report.wall_time_s:,.1f} s"
    )
    if state.lost:
        print(f"{state.lost:,} runs were lost with their workers and not stored; run the same command again")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from sim.sweep.status import format_status, sweep_status

    print(format_status(sweep_status(args.dir)))
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from sim.sweep.analyze import analyze_sweep, format_indices

    analysis = analyze_sweep(args.dir)
    if analysis.sensitivity is not None and len(analysis.sensitivity):
        print(format_indices(analysis.sensitivity))
    for note in analysis.notes:
        print(f"note: {note}")
    written = "points" if analysis.sensitivity is None else "points, sensitivity"
    print(f"{args.dir}/analysis: {written} (.parquet and .csv); {len(analysis.points):,} point rows")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sweep``, ``sweep-status`` and ``analyze`` to the ``townsim`` subparsers."""
    p = sub.add_parser("sweep", help="run an experiment's runs on Dask (resumes where it stopped)")
    p.add_argument("experiment", help="experiment YAML file (see experiments/)")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=workers, default=None, help="local worker processes (default: one per CPU)"
    )
    where.add_argument(
        "--scheduler", default=None, help="address of a running Dask scheduler, e.g. tcp://host:8786"
    )
    for option, what in [
        ("--tls-ca-file", "CA certificate that signed the scheduler's and workers' certificates"),
        ("--tls-cert", "this client's certificate"),
        ("--tls-key", "this client's private key"),
    ]:
        p.add_argument(option, default=None, metavar="PEM", help=f"with --scheduler tls://...: {what}")
    p.add_argument("--out", default=None, help="sweep folder (default: sweeps/<experiment name>)")
    p.add_argument("--retry-failed", action="store_true", help="re-run runs stored as failed")
    p.add_argument(
        "--adopt",
        action="store_true",
        help="continue a sweep folder of an older townsim (only if it holds nothing but a sweep's files)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_sweep)

    p = sub.add_parser("sweep-status", help="progress of a sweep folder")
    p.add_argument("dir")
    p.set_defaults(handler=_cmd_status)

    p = sub.add_parser("analyze", help="means, confidence intervals and sensitivity indices of a sweep")
    p.add_argument("dir")
    p.set_defaults(handler=_cmd_analyze)
