"""Subcommand ``townsim app``: serve the planner's page on 127.0.0.1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]

DEFAULT_SCENARIO = "scenarios/pingtan/merged_2021_buses.yaml"
CANDIDATES_NAME = "candidate_lines.yaml"


def _cmd_app(args: argparse.Namespace) -> int:
    import logging
    import signal

    from werkzeug.serving import make_server

    from sim.app.server import AppState, create_app
    from sim.scenario.load import load_scenario

    loaded = load_scenario(args.scenario)
    candidates = Path(args.candidates) if args.candidates else None
    if candidates is None and (loaded.base_dir / CANDIDATES_NAME).is_file():
        candidates = loaded.base_dir / CANDIDATES_NAME
    state = AppState(
        loaded,
        scenario_label=args.scenario,
        candidates=candidates,
        folder=Path(args.folder),
        workers=args.workers,
    )
    server = make_server(args.host, args.port, create_app(state), threaded=True)
    print(
        f"townsim app: {loaded.scenario.name}"
        + (f", candidate lines from {candidates}" if candidates else "")
        + f"; writing to {Path(args.folder)}/",
        flush=True,
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"townsim app: serving http://{args.host}:{server.server_port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("townsim app: stopped", file=sys.stderr)
    finally:
        server.server_close()
        state.close()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


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
    p.add_argument("--port", type=int, default=8050, help="port (default 8050; 0 = any free port)")
    p.add_argument(
        "--folder",
        default="townsim_app",
        help="working folder for plans, runs, reports (default townsim_app)",
    )
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per CPU)")
    p.set_defaults(handler=_cmd_app)
