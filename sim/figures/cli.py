"""Subcommands ``townsim figures`` (run or sweep folder) and ``townsim report`` (self-contained HTML)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.errors import SimError
from sim.figures.fonts import LANGS, Language, choose_language

__all__ = ["register"]

_DEFAULT_OUT = Path("figures_out")


def _language(lang: str) -> Language:
    language = choose_language(lang)
    if language.note:
        print(f"townsim: warning: {language.note}", file=sys.stderr)
    return language


def _stem(source: Path, vs: str | None) -> str:
    return f"{source.resolve().name}_vs_{Path(vs).resolve().name}" if vs else source.resolve().name


def _cmd_figures(args: argparse.Namespace) -> int:
    from sim.figures.figset import parse_formats, write_figures
    from sim.figures.runset import run_figures
    from sim.figures.sweep import is_sweep_dir, sweep_figures
    from sim.replications import is_replications_dir
    from sim.results.folder import load_any_folder
    from sim.results.io import is_run_dir

    source = Path(args.folder)
    formats = parse_formats(args.format)
    language = _language(args.lang)
    if is_sweep_dir(source):
        if args.vs:
            raise SimError("--vs compares two run folders; it does not apply to a sweep folder")
        figset = sweep_figures(source, language=language)
    elif is_run_dir(source) or is_replications_dir(source):
        for folder in [source, *([Path(args.vs)] if args.vs else [])]:
            load_any_folder(folder)  # a damaged folder stops here, naming the file and field
        figset = run_figures(source, language=language, vs=args.vs)
    else:
        raise SimError(
            f"{source}: neither a run folder (summary.json, provenance.json), a replicated run folder "
            "(replications.json), nor an analysed sweep folder "
            "(experiment.yaml, analysis/points); run `townsim run`, or `townsim sweep` and `townsim analyze`"
        )
    out = Path(args.out) if args.out else _DEFAULT_OUT / f"{_stem(source, args.vs)}_{language.lang}"
    write_figures(figset, out, formats=formats)
    for name, reason in figset.skipped.items():
        print(f"skipped {name}: {reason}")
    print(f"wrote {len(figset.figures)} figures x {len(formats)} formats ({','.join(formats)}) to {out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from sim.calibration.posterior_report import is_posterior_compare_dir
    from sim.calibration.report import is_calibration_dir
    from sim.figures.report import write_report
    from sim.figures.runset import primary_dir
    from sim.figures.sweep import is_sweep_dir
    from sim.results.folder import load_any_folder

    special = is_calibration_dir(args.run_dir) or is_posterior_compare_dir(args.run_dir)
    if not is_sweep_dir(Path(args.run_dir)) and not special:
        primary_dir(args.run_dir)  # fail early, before fonts are looked for
        for folder in [Path(args.run_dir), *([Path(args.vs)] if args.vs else [])]:
            load_any_folder(folder)  # a damaged folder stops here, naming the file and field
    language = _language(args.lang)
    out = (
        Path(args.out)
        if args.out
        else _DEFAULT_OUT / f"{_stem(Path(args.run_dir), args.vs)}_{language.lang}.html"
    )
    write_report(args.run_dir, out, language=language, vs=args.vs)
    print(f"wrote {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``figures`` and ``report`` to the ``townsim`` subparsers."""
    p = sub.add_parser("figures", help="publication figures of a run folder (or a sweep folder)")
    p.add_argument(
        "folder", help="run folder (townsim run) or analysed sweep folder (townsim sweep, analyze)"
    )
    p.add_argument(
        "--vs",
        default=None,
        metavar="OTHER_RUN",
        help="run folder to compare with: before/after in every figure, difference map and bars",
    )
    p.add_argument("--lang", default="en", help=f"label language: {' or '.join(LANGS)} (default en)")
    p.add_argument("--format", default="png,pdf,svg", help="comma-separated: png,pdf,svg (default all three)")
    p.add_argument(
        "--out", default=None, help="figures folder (default figures_out/<folder>[_vs_<other>]_<lang>)"
    )
    p.set_defaults(handler=_cmd_figures)

    p = sub.add_parser(
        "report", help="one self-contained HTML report of a run or an analysed sweep (figures embedded)"
    )
    p.add_argument(
        "run_dir",
        metavar="FOLDER",
        help="run folder, analysed sweep folder, calibration folder, or compare --posterior --out folder",
    )
    p.add_argument("--vs", default=None, metavar="OTHER_RUN", help="run folder to compare with")
    p.add_argument("--lang", default="en", help=f"language: {' or '.join(LANGS)} (default en)")
    p.add_argument(
        "--out", default=None, help="HTML file (default figures_out/<run>[_vs_<other>]_<lang>.html)"
    )
    p.set_defaults(handler=_cmd_report)
