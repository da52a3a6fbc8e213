"""Transit commands: ``townsim export-gtfs`` and ``townsim rank-lines``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.argtypes import days, seed
from sim.cli_replications import DEFAULT_REPLICATIONS, add_replication_options
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


def _cmd_rank_lines(args: argparse.Namespace) -> int:
    import sys

    from sim.cli_replications import progress_callback
    from sim.ownership import check_replaceable, write_file_owned
    from sim.rank_lines import rank_lines

    out = Path(args.out) if args.out else None
    if out is not None:
        if out.is_dir():
            raise SimError(f"{out}: is a folder; give a CSV file path for --out")
        check_replaceable(out, "ranking")  # fail before the runs; checked again when written
    with progress_callback(sys.stderr.isatty(), "rank-lines") as progress:
        table, base = rank_lines(
            args.base,
            args.candidates,
            overlays=args.overlay,
            days=args.days,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            progress=progress,
        )
    print(
        f"base: mean burden {base['burden_mean_min']:.2f} min per errand, Gini {base['gini_burden']:.4f}, "
        f"{base['person_hours_per_day']:.1f} person-hours per day; means of {int(base['replications'])} "
        "paired runs, 95% t intervals; falls and savings = base - candidate"
    )
    print(table.round(4).to_string(index=False))
    if out is not None:
        write_file_owned(out, "ranking", lambda tmp: table.to_csv(tmp, index=False))
        print(f"wrote {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export-gtfs`` and ``rank-lines`` to the ``townsim`` subcommands."""
    p = sub.add_parser("export-gtfs", help="write a scenario's bus and ferry lines as a GTFS feed")
    p.add_argument("scenario")
    p.add_argument("out", help="feed path: a .zip file or a new folder")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged on top (repeatable)")
    p.set_defaults(handler=_cmd_export_gtfs)

    p = sub.add_parser("rank-lines", help="add each candidate line on its own to BASE and rank them")
    p.add_argument("base", help="base scenario")
    p.add_argument("candidates", help="YAML with 'lines: {id: line}'")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged on BASE (repeatable)")
    p.add_argument("--days", type=days, default=None, help="days to simulate (default: scenario's)")
    p.add_argument(
        "--seed", type=seed, default=None, help="base seed of the replications (default: scenario's)"
    )
    p.add_argument("--out", default=None, help="write the ranking as CSV here")
    add_replication_options(p, default=DEFAULT_REPLICATIONS, precision=False)
    p.set_defaults(handler=_cmd_rank_lines)
