"""Subcommands ``townsim calibrate`` (and ``calibrate --apply``) and ``townsim validate-patterns``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sim.argtypes import positive_int

if TYPE_CHECKING:
    from pathlib import Path

    from sim.calibration.posterior_compare import PosteriorComparison
    from sim.sweep.runner import SweepProgress

__all__ = ["register"]


@contextmanager
def _wave_bars(*, enabled: bool) -> Iterator[Callable[[str, SweepProgress], None] | None]:
    """One tqdm bar per stage (replicate runs, each wave, the predictive check) on stderr."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(stage: str, state: SweepProgress) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = tqdm(total=state.total, unit="run", desc=stage, file=sys.stderr, dynamic_ncols=True)
        bar = bars[stage]
        bar.set_postfix_str(f"failed {state.failed}", refresh=False)
        bar.update(state.done - bar.n)

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.errors import SimError

    if args.apply is not None:
        if args.calibration is not None:
            raise SimError("give either CALIBRATION.yaml or --apply DIR, not both")
        from sim.calibration.apply import write_overlay

        path = write_overlay(args.apply, args.out)
        print(f"wrote {path}: posterior medians of {args.apply}")
        return 0
    if args.calibration is None:
        raise SimError("expected a calibration YAML file (or --apply DIR)")
    from sim.calibration.engine import calibrate
    from sim.calibration.tables import parameter_table
    from sim.sweep.cli import _security

    security = _security(args)
    with _wave_bars(enabled=not args.quiet and sys.stderr.isatty()) as progress:
        state = calibrate(
            args.calibration,
            out=args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            security=security,
            progress=progress,
        )
    table = parameter_table(state)
    runs = sum(int(w["runs"]) for w in state.wave_rows)
    print(
        f"{args.out}: {len(state.wave_rows)} waves, {runs:,} design runs, "
        f"{len(state.observed.names)} statistics; {state.wall_time_s:,.1f} s"
    )
    for row in table.to_dict("records"):
        print(
            f"  {row['parameter']}: median {row['posterior_median']:.4g}, 90% interval "
            f"[{row['posterior_q05']:.4g}, {row['posterior_q95']:.4g}] "
            f"(prior [{row['prior_low']:.4g}, {row['prior_high']:.4g}]; width {row['width_vs_prior_90']:.0%} "
            "of the prior's 90%)"
        )
    for note in state.notes:
        print(f"note: {note}")
    return 0


def _cmd_patterns(args: argparse.Namespace) -> int:
    from sim.calibration.patterns import format_patterns, validate_patterns

    table = validate_patterns(
        posterior=args.posterior,
        draws=args.draws,
        days=args.days,
        out=args.out,
        seeds=args.seeds,
        sample_fraction=args.sample_fraction,
    )
    print(format_patterns(table))
    print(f"wrote {args.out}")
    return 0


def add_posterior_options(p: argparse.ArgumentParser) -> None:
    """``--posterior DIR`` and ``--draws K`` of ``townsim compare``."""
    p.add_argument(
        "--posterior",
        default=None,
        metavar="DIR",
        help="scenario files: run both at --draws parameter draws of a calibration's posterior "
        "(interval includes parameter uncertainty; variance split parameter/stochastic)",
    )
    p.add_argument(
        "--draws", type=positive_int, default=8, metavar="K", help="with --posterior: draws (default 8)"
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="FOLDER",
        help="with --posterior: also write the comparison as a folder (table CSV, draws and per-draw "
        "Parquet, inputs JSON) for townsim report FOLDER",
    )


def compare_posterior(args: argparse.Namespace) -> int:
    """``townsim compare A B --posterior DIR``: B - A over posterior draws x paired seeds."""
    from pathlib import Path

    from sim.calibration.posterior_compare import compare_under_posterior, format_posterior_comparison
    from sim.errors import SimError

    if not (Path(args.run_a).is_file() and Path(args.run_b).is_file()):
        raise SimError("--posterior: expected two scenario files (the runs are made here at posterior draws)")
    out = Path(args.out) if args.out is not None else None
    if out is not None:
        from sim.calibration.posterior_report import POSTERIOR_COMPARE_KIND
        from sim.ownership import check_replaceable

        check_replaceable(out, POSTERIOR_COMPARE_KIND)  # before the runs; checked again when written
    result = compare_under_posterior(
        args.run_a,
        args.run_b,
        args.posterior,
        draws=args.draws,
        replications=args.replications,
        seed=args.seed,
        days=args.days,
        workers=args.workers,
        overlays=args.overlay,
        overlays_b=getattr(args, "overlay_b", []) or [],
    )
    if out is not None:
        _write_folder(result, out, args)
    if args.format == "csv":
        print(result.table.to_csv(index=False), end="")
    elif args.format == "json":
        print(result.table.to_json(orient="records", indent=1))
    else:
        print(format_posterior_comparison(result, Path(args.run_a).stem, Path(args.run_b).stem), end="")
    return 0


def _write_folder(result: PosteriorComparison, out: Path, args: argparse.Namespace) -> None:
    """Write ``compare --posterior --out FOLDER`` with the inputs (seed and days as run)."""
    from sim.calibration.posterior_report import write_posterior_comparison
    from sim.scenario.load import load_scenario

    simulation = load_scenario(args.run_a, overlays=args.overlay).scenario.simulation
    inputs = {
        "scenario_a": str(args.run_a),
        "scenario_b": str(args.run_b),
        "overlays": [str(o) for o in args.overlay],
        "overlays_b": [str(o) for o in getattr(args, "overlay_b", []) or []],
        "posterior": str(args.posterior),
        "draws": args.draws,
        "seed": args.seed if args.seed is not None else simulation.seed,
        "days": args.days if args.days is not None else simulation.days,
    }
    write_posterior_comparison(result, out, inputs=inputs)
    print(f"wrote {out}", file=sys.stderr)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected a share in (0, 1], got {text}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``calibrate`` and ``validate-patterns`` to the ``townsim`` subparsers."""
    p = sub.add_parser(
        "calibrate",
        help="calibrate parameters to records (history matching + ABC-SMC); resumes where it stopped",
    )
    p.add_argument(
        "calibration", nargs="?", default=None, help="calibration YAML file (see docs/calibration.md)"
    )
    p.add_argument(
        "--out", required=True, help="calibration folder (with --apply: the overlay YAML to write)"
    )
    p.add_argument("--apply", default=None, metavar="DIR", help="write an overlay of DIR's posterior medians")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, default=None, help="local worker processes")
    where.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    for option, what in [
        ("--tls-ca-file", "CA certificate that signed the scheduler's and workers' certificates"),
        ("--tls-cert", "this client's certificate"),
        ("--tls-key", "this client's private key"),
    ]:
        p.add_argument(option, default=None, metavar="PEM", help=f"with --scheduler tls://...: {what}")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=_cmd_calibrate)

    p = sub.add_parser(
        "validate-patterns",
        help="published empirical patterns beside the model's values, with intervals and agreement",
    )
    p.add_argument(
        "--posterior", default=None, metavar="DIR", help="a calibration folder: draw parameters from it"
    )
    p.add_argument("--draws", type=positive_int, default=4, help="posterior draws (with --posterior)")
    p.add_argument("--days", type=positive_int, default=56, help="simulated days per run")
    p.add_argument("--seeds", type=positive_int, default=2, help="paired seeds per draw (default 2)")
    p.add_argument(
        "--sample-fraction",
        type=_fraction,
        default=None,
        help="resident sample of the runs (default: scenario's)",
    )
    p.add_argument("--out", default="patterns.csv", help="CSV table to write (default patterns.csv)")
    p.set_defaults(handler=_cmd_patterns)
