"""Subcommand ``townsim app``: serve the planner's page on 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sim.argtypes import positive_int, workers
from sim.errors import SimError

if TYPE_CHECKING:
    from sim.app.posterior import PosteriorRuns

__all__ = ["register"]

DEFAULT_SCENARIO = "scenarios/pingtan/merged_2021_sized_buses.yaml"
CANDIDATES_NAME = "candidate_lines.yaml"


def _cmd_app(args: argparse.Namespace) -> int:
    import logging

    from werkzeug.serving import make_server

    from sim.app.security import PageGuard
    from sim.app.server import AppState, create_app
    from sim.errors import Terminated
    from sim.scenario.load import load_scenario

    folder = _check_folder(Path(args.folder))
    _check_host(args.host)
    posterior = _posterior(args)
    loaded = load_scenario(args.scenario)
    candidates = Path(args.candidates) if args.candidates else None
    if candidates is None and (loaded.base_dir / CANDIDATES_NAME).is_file():
        candidates = loaded.base_dir / CANDIDATES_NAME
    state = AppState(
        loaded,
        scenario_label=args.scenario,
        candidates=candidates,
        folder=folder,
        workers=args.workers,
        posterior=posterior,
    )
    guard = PageGuard(args.host)
    with _bound(args.host, args.port) as sock:
        server = make_server(args.host, args.port, create_app(state, guard), threaded=True, fd=sock.fileno())
    guard.bind(server.socket.getsockname()[1])
    print(
        f"townsim app: {loaded.scenario.name}"
        + (f", candidate lines from {candidates}" if candidates else "")
        + (f"; each Run at {posterior.draws} draws of {args.posterior}" if posterior else "")
        + f"; writing to {Path(args.folder)}/",
        flush=True,
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    print(f"townsim app: serving {guard.url()} (Ctrl-C to stop)", flush=True)
    stopped: list[int] = []

    def stop(signum: int, frame: object) -> None:
        stopped.append(signum)
        raise KeyboardInterrupt  # werkzeug's serve_forever returns on it

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        server.serve_forever()  # returns on Ctrl-C too
    finally:
        server.server_close()
        state.close()
        print("townsim app: stopped", file=sys.stderr)
    if stopped:  # SIGTERM/SIGHUP: stopped from outside, exit 128 + signal
        raise Terminated(stopped[0])
    return 0


def _posterior(args: argparse.Namespace) -> PosteriorRuns | None:
    """The posterior draws of ``--posterior DIR`` (None without it), checked before the server starts.

    Raises:
        SimError: DIR is not a finished calibration folder (named in the message).
    """
    if args.posterior is None:
        if args.draws is not None:
            raise SimError("--draws: draws of a posterior; give --posterior DIR too (or drop --draws)")
        return None
    from sim.app.posterior import PosteriorRuns

    folder = Path(args.posterior)
    if not folder.is_dir():
        raise SimError(
            f"--posterior: {folder} is not a folder; expected a calibration folder (townsim calibrate)"
        )
    try:
        return PosteriorRuns(folder, args.draws or 8, workers=args.workers)
    except SimError as exc:
        text = str(exc)
        raise SimError(f"--posterior: {text if str(folder) in text else f'{folder}: {text}'}") from None
    except (OSError, ValueError, KeyError) as exc:  # a damaged posterior.parquet or experiment.yaml
        raise SimError(f"--posterior: {folder}: not a finished calibration folder ({exc})") from None


def _check_folder(folder: Path) -> Path:
    """The working folder, or SimError when it is a file or cannot be made or written."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise SimError(f"--folder: {existing} is not a folder; expected a folder (or a new name)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SimError(f"--folder: {existing} is not writable; expected a folder you can write to")
    return folder


@contextmanager
def _bound(host: str, port: int) -> Iterator[socket.socket]:
    """A listening socket on ``host:port`` (closed once the server holds its own copy).

    Raises:
        SimError: the port is in use or cannot be bound.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SimError(f"--port: cannot serve on {host}:{port} ({exc.strerror or exc})") from None
    with sock:
        yield sock


def _check_host(host: str) -> None:
    """SimError when ``--host`` names no address of this machine's resolver."""
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError) as exc:
        raise SimError(
            f"--host: cannot resolve {host!r} ({exc}); expected an address such as 127.0.0.1"
        ) from None


def _port(text: str) -> int:
    """A TCP port: 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``app`` to the ``townsim`` subparsers."""
    p = sub.add_parser(
        "app", help="local web page: toggle lines, service points, windows; run against the base"
    )
    p.add_argument(
        "scenario", nargs="?", default=DEFAULT_SCENARIO, help=f"base scenario (default {DEFAULT_SCENARIO})"
    )
    p.add_argument(
        "--candidates",
        default=None,
        help=f"candidate lines YAML as for rank-lines (default: {CANDIDATES_NAME} beside the scenario)",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=_port, default=8050, help="port (default 8050; 0 = any free port)")
    p.add_argument(
        "--folder",
        default="townsim_app",
        help="working folder for plans, runs, reports (default townsim_app)",
    )
    p.add_argument("--workers", type=workers, default=None, help="worker processes (default: one per CPU)")
    p.add_argument(
        "--posterior",
        default=None,
        metavar="DIR",
        help="calibration folder (townsim calibrate): each Run at --draws posterior draws, the page's "
        "replications split over them (at least 2 per draw); the county answer's interval includes "
        "parameter uncertainty",
    )
    p.add_argument(
        "--draws", type=positive_int, default=None, metavar="K", help="with --posterior: draws (default 8)"
    )
    p.set_defaults(handler=_cmd_app)
