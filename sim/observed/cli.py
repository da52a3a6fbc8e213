"""``townsim observe`` (a run's records) and ``townsim check-records`` (read a county's records)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.scenario.load import LoadedScenario

__all__ = ["iso_date", "register"]


def iso_date(text: str) -> dt.date:
    """A calendar date YYYY-MM-DD (argparse type)."""
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:  # False for NaN
        raise argparse.ArgumentTypeError(f"expected a share above 0 and at most 1, got {text!r}")
    return value


def _relative(path: str) -> str:
    """``path`` relative to the working folder when below it (commands to copy), else as given."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path


def _note(run: Path, out: Path, provenance: dict[str, Any], start: dt.date, share: float) -> str:
    """What a records folder written by ``observe`` is, and the two commands that made it."""
    overlays = "".join(f" --overlay {_relative(str(o['file']))}" for o in provenance.get("overlays") or [])
    run_cmd = (
        f"townsim run {_relative(str(provenance.get('scenario_file')))}{overlays} "
        f"--days {provenance.get('days')} --seed {provenance.get('seed')} --out {run}"
    )
    share_opt = "" if share == 1.0 else f" --survey-share {share:g}"
    observe_cmd = f"townsim observe {run} --out {out} --start-date {start.isoformat()}{share_opt}"
    return (
        "**Synthetic records, not observations.** These files hold the outputs of a townsim run "
        f"(scenario {provenance.get('scenario')}, {provenance.get('days')} days, "
        f"seed {provenance.get('seed')}) "
        f"written in the formats of the records a county keeps; simulated day 0 is {start.isoformat()}. "
        f"Made with:\n\n```\n{run_cmd}\n{observe_cmd}\n```"
    )


def _cmd_observe(args: argparse.Namespace) -> int:
    from sim.observed.observe import RECORDS_KIND, observe_run, write_records
    from sim.ownership import check_replaceable
    from sim.results.io import MARKER, read_json

    run, out = Path(args.run), Path(args.out)
    check_replaceable(out, RECORDS_KIND)  # before the work; again, locked, when writing
    records = observe_run(run, args.start_date, survey_share=args.survey_share)
    note = _note(run, out, read_json(run / MARKER), args.start_date, args.survey_share)
    write_records(records, out, note=note)
    counts = ", ".join(f"{kind} {len(frame):,}" for kind, frame in records.items())
    print(f"wrote {out}: {counts} rows")
    return 0


def _line_ids(loaded: LoadedScenario) -> list[str] | None:
    """Line ids of a scenario whose lines come (also) from a GTFS feed: its timetable's (the
    feed's route ids and the scenario's own lines); None when ``transit.lines`` holds them all."""
    transit = loaded.scenario.transit
    if transit is None or transit.gtfs is None:
        return None
    from sim.transit.lines import build_timetable
    from sim.world.world import build_world

    return list(build_timetable(loaded, build_world(loaded)).line_ids)


def _cmd_check_records(args: argparse.Namespace) -> int:
    from sim.errors import ScenarioError
    from sim.observed.records import KINDS, read_records
    from sim.scenario.load import load_scenario

    loaded = load_scenario(args.scenario, overlays=args.overlay)
    scenario = loaded.scenario
    files: list[tuple[str, Path]] = []
    for name in args.paths:
        path = Path(name)
        if path.is_dir():
            found = [(k, path / f"{k}.csv") for k in KINDS if (path / f"{k}.csv").is_file()]
            if not found:
                raise ScenarioError(
                    str(path), "(folder)", f"expected one of {', '.join(f'{k}.csv' for k in KINDS)}"
                )
            files += found
            continue
        kind = args.kind or path.stem
        if kind not in KINDS:
            raise ScenarioError(
                str(path),
                "(kind)",
                f"expected a file named <kind>.csv or --kind, kind one of {', '.join(KINDS)}",
            )
        files.append((kind, path))
    lines = _line_ids(loaded) if any(kind == "boardings" for kind, _ in files) else None
    for kind, path in files:
        frame = read_records(kind, path, scenario, lines=lines)
        time_col = "ticket_time" if kind == "hall_tickets" else "date" if "date" in frame else None
        span = f", {frame[time_col].min():%Y-%m-%d} to {frame[time_col].max():%Y-%m-%d}" if time_col else ""
        print(f"{path}: OK ({kind}, {len(frame):,} rows{span})")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``observe`` and ``check-records`` to the ``townsim`` subcommands."""
    p = sub.add_parser(
        "observe",
        help="write a run's outputs as a county's records (queue tickets, clinic visits, boardings, survey)",
    )
    p.add_argument("run", help="a run folder (townsim run --out)")
    p.add_argument("--out", required=True, help="records folder to write (<kind>.csv files and README.md)")
    p.add_argument("--start-date", required=True, type=iso_date, help="date of simulated day 0, YYYY-MM-DD")
    p.add_argument(
        "--survey-share",
        type=_share,
        default=1.0,
        help="share of errands surveyed, chosen by errand id (default 1: all)",
    )
    p.set_defaults(handler=_cmd_observe)

    c = sub.add_parser("check-records", help="read records files (or folders) and report what is wrong")
    c.add_argument("scenario", help="the scenario whose ids the records use")
    c.add_argument("paths", nargs="+", help="<kind>.csv files or folders holding them")
    c.add_argument("--kind", default=None, help="record kind of files not named <kind>.csv")
    c.add_argument("--overlay", action="append", default=[], help="overlay YAML merged onto the scenario")
    c.set_defaults(handler=_cmd_check_records)
