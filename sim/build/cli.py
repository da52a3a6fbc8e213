"""``townsim build``: a scenario folder from OpenStreetMap and the user's tables."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def _cmd_build(args: argparse.Namespace) -> int:
    from sim.build.build import TEMPLATE, BuildInputs, build_scenario

    inputs = BuildInputs(
        osm=Path(args.osm),
        villages=_path(args.villages),
        units=_path(args.units),
        gtfs=_path(args.gtfs),
        gtfs_date=args.gtfs_date,
        facilities=_path(args.facilities),
        template=Path(args.template) if args.template else TEMPLATE,
        crs=args.crs,
        name=args.name,
    )
    report = build_scenario(inputs, Path(args.out_dir))
    c = report["counts"]
    print(
        f"wrote {args.out_dir}: {c['villages']} villages ({c['residents']} residents), {c['units']} units, "
        f"{sum(c['facilities'].values())} facilities, {c['road_nodes']} road nodes, "
        f"{c['road_edges']} road edges ({c['one_way_edges']} one-way), {c['ferries']} ferries; "
        f"CRS {report['crs']}"
    )
    for note in report["notes"]:
        print(f"  note: {note}")
    for warning in report["warnings"]:
        print(f"townsim build: warning: {warning}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``build`` to the ``townsim`` subcommands."""
    p = sub.add_parser("build", help="build a scenario folder from an OpenStreetMap extract and tables")
    p.add_argument("out_dir", help="scenario folder to write (replaced only if townsim build wrote it)")
    p.add_argument("--osm", required=True, help="OpenStreetMap extract, .osm.pbf")
    p.add_argument(
        "--villages", help="CSV (id, lon, lat, population or pop_<band>) or point GeoJSON/GeoPackage"
    )
    p.add_argument("--units", help="unit boundaries, GeoJSON or GeoPackage (id/code/name property)")
    p.add_argument("--gtfs", help="GTFS feed (zip or folder) copied into the scenario")
    p.add_argument("--gtfs-date", help="service date YYYYMMDD of the feed")
    p.add_argument(
        "--facilities", help="facilities table: CSV (id, kind, lon, lat, servers, level, seats, name)"
    )
    p.add_argument("--template", help="build template YAML (speeds, OSM tag mapping, age shares, services)")
    p.add_argument("--crs", help="projected CRS in metres (default: the extract's UTM zone), e.g. EPSG:4547")
    p.add_argument("--name", help="scenario name (default: the folder name)")
    p.set_defaults(handler=_cmd_build)
