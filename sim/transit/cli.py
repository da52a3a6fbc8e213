"""``townsim export-gtfs``: a scenario's bus and ferry lines as a GTFS feed."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.errors import SimError

__all__ = ["register"]


def _cmd_export_gtfs(args: argparse.Namespace) -> int:
    from sim.ownership import (
        check_replaceable,
        commit_dir,
        output_lock,
        staged_dir,
        write_file_owned,
        write_marker,
    )
    from sim.scenario.load import load_scenario
    from sim.transit.gtfs import write_gtfs
    from sim.transit.lines import build_timetable
    from sim.world.world import build_world

    loaded = load_scenario(args.scenario, overlays=args.overlay)
    transit = loaded.scenario.transit
    if transit is None:
        raise SimError(f"{args.scenario}: the scenario has no transit lines to export")
    out = Path(args.out)
    check_replaceable(out, "gtfs", option="feed path")
    world = build_world(loaded)
    tt = build_timetable(loaded, world)
    names = {lid: line.en or line.zh or lid for lid, line in transit.lines.items()}
    if out.suffix.lower() == ".zip":
        write_file_owned(
            out, "gtfs", lambda tmp: write_gtfs(tt, world, transit, tmp, names=names), option="feed path"
        )
    else:
        with output_lock(out):
            check_replaceable(out, "gtfs", option="feed path")
            with staged_dir(out) as tmp:
                write_gtfs(tt, world, transit, tmp / "feed", names=names)
                write_marker(tmp / "feed", "gtfs")
                commit_dir(tmp / "feed", out)
    print(f"wrote {out}: {len(tt.line_ids)} lines, {tt.n_trips} trips, {len(set(tt.st_stop.tolist()))} stops")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export-gtfs`` to the ``townsim`` subcommands."""
    p = sub.add_parser("export-gtfs", help="write a scenario's bus and ferry lines as a GTFS feed")
    p.add_argument("scenario")
    p.add_argument("out", help="feed path: a .zip file or a new folder")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged on top (repeatable)")
    p.set_defaults(handler=_cmd_export_gtfs)
