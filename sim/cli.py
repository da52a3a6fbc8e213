"""Command line: ``townsim run | validate | compare`` (and the commands other modules register)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.errors import SimError

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario.load import load_scenario
    from sim.world.world import build_world

    for file in args.files:
        loaded = load_scenario(file, overlays=args.overlay)
        world = build_world(loaded)
        print(
            f"{file}: OK ({loaded.scenario.name}: {len(world.unit_ids)} former units -> "
            f"{len(world.new_unit_ids)} units, {len(world.village_ids)} villages, "
            f"{int(world.village_pop.sum()):,} residents, {len(world.fac_ids)} facilities)"
        )
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.results.io import write_run
    from sim.runner import run_loaded
    from sim.scenario.load import load_scenario

    loaded = load_scenario(args.scenario, overlays=args.overlay)
    seed = args.seed if args.seed is not None else loaded.scenario.simulation.seed
    out = Path(args.out) if args.out else Path("runs") / f"{loaded.scenario.name}_seed{seed}"
    progress = not args.quiet and sys.stderr.isatty()
    result = run_loaded(loaded, days=args.days, seed=args.seed, progress=progress)
    write_run(result, out, csv=args.csv, scenario_raw=loaded.raw)
    s = result.summary
    burden = s["burden_min"]
    print(
        f"{s['scenario']}: {s['days']} days, {s['population']:,.0f} residents, "
        f"{s['errands']['completed']:,} errands completed in {s['errands']['trips']:,} trips; "
        f"burden per errand mean {burden['mean']} min, median {burden['median']}, p90 {burden['p90']}"
    )
    print(f"wrote {out} in {result.provenance['wall_time_s']} s")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from sim.metrics.compare import compare_runs, format_comparison

    table = compare_runs(args.run_a, args.run_b)
    print(format_comparison(table, args.run_a, args.run_b))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``townsim`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="townsim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check scenario files")
    p.add_argument("files", nargs="+")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged on top (repeatable)")
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser("run", help="run a scenario and write a run folder")
    p.add_argument("scenario")
    p.add_argument("--days", type=int, default=None, help="days to simulate (default: scenario's)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: scenario's)")
    p.add_argument("--out", default=None, help="run folder (default: runs/<scenario>_seed<seed>)")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged on top (repeatable)")
    p.add_argument("--csv", action="store_true", help="write CSV instead of Parquet")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("compare", help="differences between two runs by former township")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.set_defaults(handler=_cmd_compare)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    """``register(subparsers)`` functions of commands defined in other modules."""
    from sim.app.cli import register as register_app
    from sim.build.cli import register as register_build
    from sim.figures.cli import register as register_figures
    from sim.gis.cli import register as register_gis
    from sim.planning.cli import register as register_planning
    from sim.sweep.cli import register as register_sweep
    from sim.transit.cli import register as register_transit

    return [
        register_sweep,
        register_figures,
        register_transit,
        register_app,
        register_planning,
        register_build,
        register_gis,
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``townsim`` console script."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except SimError as exc:
        print(f"townsim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("townsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
