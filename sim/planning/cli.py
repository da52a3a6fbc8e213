"""``townsim plan-facilities`` and ``townsim merger-effect`` (merger plans); heavy imports only when run."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def _cmd_plan(args: argparse.Namespace) -> int:
    from sim.planning.errors import PlanInputError
    from sim.planning.plan import PlanRequest, plan_facilities, write_overlay

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
    if out.exists():  # fail before the work, and again (atomically) when writing
        raise PlanInputError(f"{out}: exists; choose another --out (an existing file is never overwritten)")
    result = plan_facilities(req)
    write_overlay(result, out)
    print(result.headline())
    print(result.table())
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {out}; run it with: townsim run {req.scenario} --overlay {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``plan-facilities`` to the ``townsim`` subcommands."""
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
        "--check-days", type=int, default=28, help="days simulated to check the windows (0 = skip)"
    )
    p.add_argument(
        "--refine", type=int, default=3, help="rounds adding a window where the simulation misses the target"
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default: scenario's)")
    p.add_argument(
        "--overlay", action="append", default=[], help="YAML merged on the scenario first (repeatable)"
    )
    p.add_argument("--out", required=True, help="overlay YAML to write (never overwritten)")
    p.set_defaults(handler=_cmd_plan)

    p = sub.add_parser(
        "merger-effect",
        help="difference in differences of distance and accessibility by age band, merged vs unmerged",
    )
    p.add_argument("--before", nargs="+", required=True, help="run folders of the pre-merger scenario")
    p.add_argument(
        "--after", nargs="+", required=True, help="run folders of the merger plan, same seeds in order"
    )
    p.add_argument("--csv", default=None, help="also write the table as CSV (never overwritten)")
    p.set_defaults(handler=_cmd_effect)


def _cmd_effect(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.metrics.effect import merger_effect

    table = merger_effect(args.before, args.after)
    if args.csv:
        out = Path(args.csv)
        if out.exists():
            from sim.planning.errors import PlanInputError

            raise PlanInputError(
                f"{out}: exists; choose another --csv (an existing file is never overwritten)"
            )
        flat = table.copy()
        flat.columns = pd.Index([".".join(map(str, col)) for col in flat.columns])
        flat.to_csv(out)
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
        print(block.dropna(how="all").round(3).to_string())
        print()
    return 0
