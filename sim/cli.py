"""townsim simulates how residents reach schools, clinics and service halls after township mergers.

The ``townsim`` command: ``validate``, ``run`` and ``compare`` are defined here; the other
commands are registered by their packages (``register(subparsers)`` in ``sim/<package>/cli.py``)
and listed by ``townsim --help`` in the groups of :data:`COMMAND_GROUPS`.

Only argparse and the error classes are imported up front: each command imports what it uses
when it runs, so ``townsim --help`` starts in a fraction of a second.

Exit codes: 0 done; 2 bad input or an output townsim may not write (one ``townsim: error:`` line);
130 interrupted (SIGINT), 143 terminated (SIGTERM), 129 hung up (SIGHUP); 141 output pipe
closed (e.g. ``| head``); 1 an internal error (a bug: traceback shown).
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from sim.argtypes import days, seed
from sim.calibration.cli import add_posterior_options, compare_posterior
from sim.cli_explain import add_answer_options
from sim.errors import ScenarioError, SimError, Terminated, note_stop
from sim.memory import one_allocator_arena
from sim.replications.cli import DEFAULT_REPLICATIONS, add_replication_options

if TYPE_CHECKING:
    from sim.scenario.load import LoadedScenario

__all__ = ["Terminated", "build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario.load import load_scenario
    from sim.scenario.no_effect import no_effect_warnings
    from sim.world.world import build_world

    for file in args.files:
        loaded = load_scenario(file, overlays=args.overlay)
        world = build_world(loaded)
        for warning in no_effect_warnings(loaded):
            if args.strict:
                raise ScenarioError(warning.file, warning.field, f"{warning.why} (--strict)")
            print(f"townsim validate: warning: {warning}", file=sys.stderr)
        print(
            f"{file}: OK ({loaded.scenario.name}: {len(world.unit_ids)} former units -> "
            f"{len(world.new_unit_ids)} units, {len(world.village_ids)} villages, "
            f"{int(world.village_pop.sum()):,} residents, {len(world.fac_ids)} facilities)"
        )
    return 0


_froze = False  # whether the running command froze objects out of the collector (_long_lived)


@contextmanager
def _long_lived() -> Iterator[None]:
    """Create what lives as long as the command (its imports, the loaded scenario) with the cyclic
    garbage collector paused, then freeze it out of the collections (``gc.freeze``; :func:`main`
    unfreezes it when the command ends): otherwise each full collection while modules load walks
    every object made so far (about 0.15 s of a ``townsim run``)."""
    global _froze
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:  # (a caller's own frozen objects stay as they are)
            gc.freeze()
            _froze = True
        if enabled:
            gc.enable()


def _cmd_run(args: argparse.Namespace) -> int:
    with _long_lived():
        from sim.results.io import check_run_out, writing_run
        from sim.runner import run_loaded
        from sim.scenario.checks import unreachable_warnings
        from sim.scenario.load import load_scenario, scenario_digest
        from sim.scenario.no_effect import no_effect_warnings

        loaded = load_scenario(args.scenario, overlays=args.overlay, name=args.name)
    for warning in no_effect_warnings(loaded):
        print(f"townsim run: warning: {warning}", file=sys.stderr)
    seed_value = args.seed if args.seed is not None else loaded.scenario.simulation.seed
    if args.replications > 1 or args.precision is not None or args.max_replications is not None:
        return _run_replicated(args, loaded, seed_value)
    out = Path(args.out) if args.out else Path("runs") / f"{loaded.run_name}_seed{seed_value}"
    digest = scenario_digest(loaded)
    check_run_out(out, digest, force=args.force)  # before the run, not after
    progress = not args.quiet and sys.stderr.isatty()
    with writing_run(
        out, csv=args.csv, scenario_raw=loaded.raw, scenario_hash=digest, force=args.force
    ) as writer:  # trips.parquet is written during the run, the other tables with the summary
        result = run_loaded(
            loaded,
            days=args.days,
            seed=args.seed,
            progress=progress,
            tables_ready=writer.start,
            trips=writer.stream("trips"),
        )
    for unreachable in unreachable_warnings(result.residents):
        print(f"townsim: warning: {unreachable}", file=sys.stderr)
    s = result.checked_summary()
    burden = s.burden_min
    print(
        f"{s.scenario}: {s.days} days, {s.population or 0:,.0f} residents, "
        f"{s.errands.completed:,} errands completed in {s.errands.trips:,} trips; "
        f"burden per errand mean {burden.mean} min, median {burden.median}, p90 {burden.p90}"
    )
    print(f"wrote {out} in {result.provenance['wall_time_s']} s")
    return 0


def _run_replicated(args: argparse.Namespace, loaded: LoadedScenario, seed: int) -> int:
    """``run --replications N``: a replicated run folder (full tables of the first seed, or all)."""
    import shutil

    from sim.ownership import check_replaceable, output_lock, staged_dir
    from sim.replications import REPLICATIONS_KIND, run_replications, write_replications
    from sim.replications.cli import OptionError, progress_callback, target_from_args

    if args.csv:
        raise OptionError("--csv: replicated runs write Parquet only; drop --csv or --replications")
    target, n, max_n = target_from_args(args)
    out = Path(args.out) if args.out else Path("runs") / f"{loaded.run_name}_seed{seed}_reps"
    with output_lock(out, nested=True):  # held for the whole run: one writer, checked before the work
        check_replaceable(out, REPLICATIONS_KIND)
        with staged_dir(out) as staging:
            try:
                with progress_callback(
                    not args.quiet and sys.stderr.isatty(), loaded.scenario.name
                ) as progress:
                    rset = run_replications(
                        loaded,
                        n=n,
                        seed=seed,
                        days=args.days,
                        workers=args.workers,
                        progress=progress,
                        target=target,
                        max_n=max_n,
                        keep_tables="all" if args.keep_tables else "first",
                        tables_dir=staging,
                    )
                write_replications(rset, out, scenario_raw=loaded.raw, tables_from=staging / "a")
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    count, mean, low, high = rset.interval("burden_min.mean")
    print(
        f"{rset.scenario}: {rset.n} replications of {rset.days} days (seeds {rset.seeds[0]}, …); "
        f"burden per errand mean {mean:.2f} min, 95% CI [{low:.2f}, {high:.2f}] over {count} runs"
    )
    print(f"wrote {out} in {rset.provenance['wall_time_s_all_runs']} s")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    """Two run folders (replicated or single), or two scenario files run here with paired seeds."""
    if args.posterior is not None:
        return compare_posterior(args)
    if args.out is not None:
        raise SimError("--out writes a posterior comparison; give --posterior DIR too (or drop --out)")
    from sim.cli_explain import compare_output, load_pair
    from sim.metrics.pairing import check_pairing, welch_difference
    from sim.replications import paired_difference

    unpaired = check_pairing(args.run_a, args.run_b, allow_unpaired=args.allow_unpaired)
    if unpaired and args.by:
        raise SimError("--by: crossed groups are paired by seed; drop --by or --allow-unpaired")
    pair = load_pair(args, "compare")
    if unpaired:  # the table only: the sentences and crossed groups are paired by seed
        from sim.metrics.compare import render_paired

        table = welch_difference(pair.a, pair.b)
        labels = {"label_a": pair.label_a, "label_b": pair.label_b}
        print(render_paired(table, pair.a, pair.b, args.format, **labels), end="")
        return 0
    table = paired_difference(pair.a, pair.b)
    print(compare_output(table, pair, args), end="")
    return 0


class _VersionAction(argparse.Action):
    """``--version``: looks the version up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the townsim version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        from sim.version import package_version

        print(f"townsim {package_version()}")
        parser.exit()


#: Command groups of ``townsim --help`` (a command registered elsewhere and not listed goes under "Other").
COMMAND_GROUPS = {
    "Run and compare": ("validate", "run", "compare", "explain"),
    "Plan": ("plan-facilities", "rank-lines", "access", "app", "export-gtfs"),
    "Research": ("sweep", "sweep-status", "analyze", "merger-effect", "calibrate", "validate-patterns"),
    "Maps and reports": ("figures", "report", "gis"),
    "Data": ("build", "observe", "check-records"),
}

_EXAMPLES = """\
Examples:
  townsim run scenarios/pingtan/merged_2021.yaml --days 91
  townsim compare scenarios/pingtan/baseline.yaml scenarios/pingtan/merged_2021.yaml --days 91
  townsim report runs/pingtan_merged_2021_seed2021 --out report.html

'townsim COMMAND --help' shows a command's options. Exit codes: 0 done, 2 bad input or an
output townsim may not replace, 130 interrupted, 1 an internal error (a bug)."""


def _command_list(sub: argparse._SubParsersAction) -> str:
    """The subcommands with their one-line help, in :data:`COMMAND_GROUPS` order."""
    helps = {action.dest: (action.help or "").replace("%%", "%") for action in sub._choices_actions}
    listed = {name for names in COMMAND_GROUPS.values() for name in names}
    groups = {**COMMAND_GROUPS, "Other": tuple(n for n in helps if n not in listed)}
    width = max(len(n) for n in helps) + 2
    lines = []
    for title, names in groups.items():
        present = [n for n in names if n in helps]
        if present:
            lines += [f"{title}:", *(f"  {n:<{width}}{helps[n]}".rstrip() for n in present), ""]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The ``townsim`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="townsim",
        usage="townsim [--version] COMMAND [options]",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help=argparse.SUPPRESS, prog="townsim"
    )

    p = sub.add_parser("validate", help="check scenario files")
    p.add_argument("files", nargs="+")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged on top (repeatable)")
    p.add_argument(
        "--strict", action="store_true", help="settings that can have no effect are errors, not warnings"
    )
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser("run", help="run a scenario and write a run folder")
    p.add_argument("scenario")
    p.add_argument("--days", type=days, default=None, help="days to simulate, >= 1 (default: scenario's)")
    p.add_argument("--seed", type=seed, default=None, help="random seed, 0..2**32-1 (default: scenario's)")
    p.add_argument("--out", default=None, help="run folder (default: runs/<name>_seed<seed>)")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged on top (repeatable)")
    p.add_argument(
        "--name", default=None, help="run name (default: the scenario's name, then '+<overlay>' per overlay)"
    )
    p.add_argument("--force", action="store_true", help="replace a run folder of a different scenario")
    p.add_argument("--csv", action="store_true", help="write CSV instead of Parquet")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_replication_options(p, default=1)
    p.add_argument("--keep-tables", action="store_true", help="with --replications: full tables of every run")
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("compare", help="B - A with 95%% CIs, paired by seed, overall and by group")
    p.add_argument("run_a", help="run folder (replicated or single), or a scenario file")
    p.add_argument("run_b", help="run folder, or a scenario file (both files: run here with paired seeds)")
    p.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output (default table)"
    )
    p.add_argument("--days", type=days, default=None, help="scenario files: days to simulate, >= 1")
    p.add_argument("--seed", type=seed, default=None, help="scenario files: base seed (default: A's)")
    p.add_argument("--overlay", action="append", default=[], help="scenario files: YAML merged on both")
    p.add_argument(
        "--allow-unpaired",
        action="store_true",
        help="run folders that cannot be paired by seed (other places, days, warm-up, or no seed in common): "
        "report B - A with unpaired Welch intervals instead of refusing",
    )
    add_answer_options(p)
    add_replication_options(p, default=DEFAULT_REPLICATIONS)
    add_posterior_options(p)
    p.set_defaults(handler=_cmd_compare)

    for register in _extra_commands():
        register(sub)
    parser.epilog = f"{_command_list(sub)}\n{_EXAMPLES}"
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    """``register(subparsers)`` functions of commands defined in other modules (light imports only)."""
    from sim.app.cli import register as register_app
    from sim.build.cli import register as register_build
    from sim.calibration.cli import register as register_calibration
    from sim.cli_explain import register as register_explain
    from sim.figures.cli import register as register_figures
    from sim.gis.cli import register as register_gis
    from sim.observed.cli import register as register_observed
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
        register_explain,
        register_observed,
        register_calibration,
    ]


def _terminated_handler() -> Callable[[int, FrameType | None], None]:
    """A signal handler raising :class:`Terminated` (``KeyboardInterrupt`` for SIGINT) in this
    process, and remembering the signal (:func:`sim.errors.raise_if_stopped`). A process forked from
    it that has not set its own handlers yet (a pool worker starting up when the pool is stopped)
    ends at once, quietly, with the signal's usual exit status."""
    owner = os.getpid()

    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:
            os._exit(128 + signum)
        note_stop(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signum)

    return handler


@contextmanager
def _stop_signals() -> Iterator[None]:
    """While a command runs, SIGTERM and SIGHUP raise :class:`Terminated` and SIGINT
    ``KeyboardInterrupt``, and the signal is remembered until the command ends."""
    caught = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    handler = _terminated_handler()
    note_stop(None)
    previous = {s: signal.signal(s, handler) for s in caught}
    try:
        yield
    finally:
        for s, before in previous.items():
            signal.signal(s, before)
        note_stop(None)


def _error(message: str) -> int:
    print(f"townsim: error: {message}", file=sys.stderr)
    return 2


def _quiet_broken_pipe() -> int:
    """The reader of stdout went away (``| head``): stop quietly, like other Unix tools."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``townsim`` console script; returns the exit code."""
    global _froze
    one_allocator_arena()  # threads share freed memory (sim/memory.py)
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        with _stop_signals():
            code = handler(args)
            sys.stdout.flush()
            return code
    except SimError as exc:
        return _error(str(exc))
    except Terminated as exc:
        print("townsim: terminated", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("townsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except RecursionError:
        return _error("input nested too deeply (recursion limit); expected a flatter file")
    except MemoryError:
        return _error("out of memory; expected a smaller scenario (see the bounds in docs/commands.md)")
    except UnicodeError as exc:
        return _error(f"expected UTF-8 text ({exc})")
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _error(f"{where}{exc.strerror or exc}")
    finally:
        if _froze:  # what the command froze (_long_lived) is collected as usual again
            gc.unfreeze()
            _froze = False


def console_main() -> int:
    """The ``townsim`` console script: :func:`main`, then every object frozen out of the garbage
    collector (``gc.freeze``), so that the interpreter's exit does not walk them again (about 0.15 s
    of each command). Objects are still freed and exit handlers still run."""
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(console_main())
