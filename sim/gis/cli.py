"""``townsim gis RUN``: a run folder's villages, facilities, seats and edges as GIS layers."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.errors import SimError

__all__ = ["register"]


def _cmd_gis(args: argparse.Namespace) -> int:
    from sim.gis.export import FORMATS, export_run
    from sim.results.folder import load_run_folder

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    if not formats or not set(formats) <= set(FORMATS):
        raise SimError(
            f"--format: expected a comma-separated list of {', '.join(FORMATS)}, got {args.format!r}"
        )
    load_run_folder(Path(args.run))  # a damaged folder stops here, naming the file and field
    out = export_run(Path(args.run), Path(args.out) if args.out else None, formats)
    print(f"wrote {out} ({', '.join(formats)})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``gis`` to the ``townsim`` subcommands."""
    p = sub.add_parser("gis", help="write a run folder's places, facilities and network as GIS layers")
    p.add_argument("run", help="run folder (townsim run --out)")
    p.add_argument("--out", help="folder to write (default RUN/gis)")
    p.add_argument("--format", default="parquet", help="comma-separated: parquet (GeoParquet), gpkg, geojson")
    p.set_defaults(handler=_cmd_gis)
