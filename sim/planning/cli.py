"""Planning commands: ``plan-facilities``, ``rank-lines``, ``access``, ``merger-effect`` (lazy imports)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sim.argtypes import check_days, days, seed
from sim.errors import SimError
from sim.replications.cli import DEFAULT_REPLICATIONS, add_replication_options

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["register"]


def _cmd_plan(args: argparse.Namespace) -> int:
    from sim.ownership import check_replaceable
    from sim.planning.plan import PLAN_KIND, PlanRequest, plan_facilities, write_overlay

    req = PlanRequest(
        scenario=Path(args.scenario),
        kind=args.kind,
        p=args.p,
        overlays=tuple(Path(o) for o in args.overlay),
        candidates=Path(args.candidates) if args.candidates else None,
        method=args.method,
        radius_min=args.radius,
        wait_target_min=args.wait_target,
        keep=tuple(args.keep),
        check_days=args.check_days,
        refine=args.refine,
        seed=args.seed,
    )
    out = Path(args.out)
    if out.is_dir():
        raise SimError(f"{out}: is a folder; give a YAML file path for --out")
    check_replaceable(out, PLAN_KIND)  # fail before the work, and again (locked) when writing
    result = plan_facilities(req)
    write_overlay(result, out)
    print(result.headline())
    print(result.table())
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {out}; run it with: townsim run {req.scenario} --overlay {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``plan-facilities``, ``rank-lines``, ``access`` and ``merger-effect`` to the subcommands."""
    p = sub.add_parser(
        "plan-facilities",
        help="keep/open p sites (p-median or maximal covering) and size their windows (Erlang C, simulation)",
    )
    p.add_argument("scenario")
    p.add_argument("--kind", required=True, help="hall, clinic or service_point")
    p.add_argument("--p", type=int, required=True, help="number of sites to keep or open (the budget)")
    p.add_argument("--candidates", default=None, help="YAML with a 'facilities' mapping of candidate sites")
    p.add_argument(
        "--method", default="pmedian", help="pmedian (least travel) or mclp (most demand within --radius)"
    )
    p.add_argument("--radius", type=float, default=15.0, help="coverage radius, one-way minutes (default 15)")
    p.add_argument(
        "--wait-target", type=float, default=10.0, help="mean queue wait target, minutes (default 10)"
    )
    p.add_argument("--keep", action="append", default=[], help="site that must stay (repeatable)")
    p.add_argument(
        "--check-days", type=check_days, default=28, help="days simulated to check the windows (0 = skip)"
    )
    p.add_argument(
        "--refine", type=int, default=3, help="rounds adding a window where the simulation misses the target"
    )
    p.add_argument("--seed", type=seed, default=None, help="random seed, 0..2**32-1 (default: scenario's)")
    p.add_argument(
        "--overlay", action="append", default=[], help="YAML merged on the scenario first (repeatable)"
    )
    p.add_argument(
        "--out", required=True, help="overlay YAML to write (never replaces a file townsim did not write)"
    )
    p.set_defaults(handler=_cmd_plan)

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

    p = sub.add_parser(
        "merger-effect",
        help="difference in differences of distance and accessibility by age band, merged vs unmerged",
    )
    p.add_argument("--before", nargs="+", required=True, help="run folders of the pre-merger scenario")
    p.add_argument(
        "--after", nargs="+", required=True, help="run folders of the merger plan, same seeds in order"
    )
    p.add_argument(
        "--csv",
        default=None,
        help="also write the table as CSV (never replaces a file townsim did not write)",
    )
    p.set_defaults(handler=_cmd_effect)

    p = sub.add_parser(
        "access",
        help="accessibility indices of a plan without simulating it (waits expected by the M(t)/M/c chain)",
    )
    p.add_argument("scenario")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged on the scenario (repeatable)")
    p.add_argument(
        "--seed", type=seed, default=None, help="seed of the synthetic population (default: scenario's)"
    )
    p.add_argument("--out", default=None, help="also write the access block as JSON (never overwritten)")
    p.set_defaults(handler=_cmd_access)


def _cmd_access(args: argparse.Namespace) -> int:
    import json

    from sim.metrics.access import access_summary, resident_cells
    from sim.model.model import AccessModel
    from sim.ownership import check_replaceable, write_error
    from sim.planning.errors import PlanInputError
    from sim.scenario.load import load_scenario

    out = Path(args.out) if args.out else None
    if out is not None:
        if out.exists():
            raise PlanInputError(
                f"{out}: exists; choose another --out (an existing file is never overwritten)"
            )
        check_replaceable(out, "access")  # a folder townsim can write, checked before any work
    loaded = load_scenario(Path(args.scenario), overlays=tuple(Path(o) for o in args.overlay))
    from sim.planning.waits import planned_waits

    model = AccessModel(loaded, seed=args.seed)
    cells = resident_cells(model)
    block = access_summary(model, None, planned=planned_waits(model, cells), cells=cells)
    print(
        f"{loaded.scenario.name}: accessibility without simulation; "
        f"waits {block['parameters']['wait_source']}"
    )
    print(
        f"{'service':<16}{'2SFCA':>8}{'E2SFCA':>8}{'gravity':>9}{'E2SFCA+q':>9}{'near+q min':>11}"
        f"{'own 15 min':>11}{'own 30 min':>11}"
    )
    for name, e in block["services"].items():
        ix = e["index_per_1000"]
        life = e["life_circle_share"]["own_mode"]
        cols = [ix[m]["mean"] for m in ("2sfca", "e2sfca", "gravity", "e2sfca_queue")]
        print(
            f"{name:<16}"
            + "".join(f"{_fmt(x, 3):>{wd}}" for x, wd in zip(cols, (8, 8, 9, 9), strict=True))
            + f"{_fmt(e['queue_aware_nearest_min']['mean'], 1):>11}"
            + "".join(f"{_fmt(None if life[t] is None else 100 * life[t], 1):>11}" for t in ("15", "30"))
        )
    print(f"\n{'facility':<24}{'visits/day':>11}{'util':>6}{'wait min':>9}{'Erlang C day mean':>18}")
    for fid, x in block["facility_expected_wait"].items():
        print(
            f"{fid:<24}{_fmt(x['visits_per_open_day'], 1):>11}{_fmt(x['utilisation'], 2):>6}"
            f"{_fmt(x['wait_min'], 1):>9}{_fmt(x['erlang_c_day_mean_min'], 1):>18}"
        )
    if out is not None:
        import os
        import tempfile

        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(block, fh, ensure_ascii=False, indent=1, allow_nan=False)
            os.replace(tmp, out)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)  # no hidden leftover, whatever stopped the write
            if isinstance(exc, OSError):
                raise write_error(out, exc) from None
            raise
        print(f"wrote {out}")
    return 0


def _fmt(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _cmd_effect(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.metrics.effect import PUBLISHED, merger_effect
    from sim.ownership import check_replaceable, write_file_owned
    from sim.results.folder import load_run_folder

    for run in [*args.before, *args.after]:
        load_run_folder(run)  # a damaged folder stops here, naming the file and field
    if args.csv:
        if Path(args.csv).is_dir():
            raise SimError(f"{args.csv}: is a folder; give a CSV file path for --csv")
        check_replaceable(Path(args.csv), "effect", option="--csv")  # before the work
    table = merger_effect(args.before, args.after)
    if args.csv:
        flat = table.copy()
        flat.columns = pd.Index([".".join(map(str, col)) for col in flat.columns])
        write_file_owned(Path(args.csv), "effect", lambda tmp: flat.to_csv(tmp), option="--csv")
    print(f"before: {' '.join(args.before)}\nafter:  {' '.join(args.after)}  ({len(args.before)} seed pairs)")
    print(
        "rows: age band; change = after - before; did = change of the group - change of unmerged; ci: 95% t\n"
    )
    for measure in table.columns.get_level_values(0).unique():
        m = table[measure]
        block = pd.DataFrame(
            {
                "change_merged": m.loc["change_merged", "mean"],
                "change_unmerged": m.loc["change_unmerged", "mean"],
                "did_merged": m.loc["did_merged", "mean"],
                "ci_low": m.loc["did_merged", "ci_low"],
                "ci_high": m.loc["did_merged", "ci_high"],
                "did_absorbed": m.loc["did_absorbed", "mean"],
            }
        )
        print(f"== {measure} ==")
        if measure in PUBLISHED:
            print(f"published: {PUBLISHED[measure]}")
        print(block.dropna(how="all").round(3).to_string())
        print()
    return 0


def _ranking_text(table: pd.DataFrame) -> str:
    """The ranking as a narrow text table: each estimate with its 95% interval in one column,
    rounded to the interval's precision (every column and digit: ``--out FILE.csv``)."""
    import pandas as pd

    from sim.metrics.answer import decimals, fmt

    def with_ci(value: float, low: float, high: float) -> str:
        places = decimals((high - low) / 2)
        return f"{fmt(value, places, sign=True)} [{fmt(low, places)}, {fmt(high, places)}]"

    rows = []
    for r in table.to_dict("records"):
        rows.append(
            {
                "rank": r["rank"],
                "line": r["line"],
                "bus h/day": f"{r['bus_hours_per_day']:.1f}",
                "n": r["n"],
                "burden fall, min [95% CI]": with_ci(
                    r["burden_fall_min"], r["burden_fall_ci_low"], r["burden_fall_ci_high"]
                ),
                "person-h saved per bus-h [95% CI]": with_ci(
                    r["person_hours_per_bus_hour"],
                    r["person_hours_per_bus_hour_ci_low"],
                    r["person_hours_per_bus_hour_ci_high"],
                ),
                "Gini change [95% CI]": with_ci(
                    r["gini_change"], r["gini_change_ci_low"], r["gini_change_ci_high"]
                ),
                "tied with": r["tied_with"] or "",
            }
        )
    return pd.DataFrame(rows).to_string(index=False)


def _no_float_noise(table: pd.DataFrame) -> pd.DataFrame:
    """Float columns rounded to 9 decimals (5.55e-18 written as 0.0; -0.0 as 0.0)."""
    floats = table.select_dtypes("float").columns
    return table.assign(**{c: table[c].round(9) + 0.0 for c in floats})


def _cmd_rank_lines(args: argparse.Namespace) -> int:
    import sys

    from sim.ownership import check_replaceable, write_file_owned
    from sim.planning.rank_lines import rank_lines
    from sim.replications.cli import progress_callback

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
    print(_ranking_text(table))
    if out is not None:  # every column; float noise (5.55e-18) rounded away, not the precision
        write_file_owned(out, "ranking", lambda tmp: _no_float_noise(table).to_csv(tmp, index=False))
        print(f"wrote {out}")
    return 0
