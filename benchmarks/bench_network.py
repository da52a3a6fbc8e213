"""Benchmark of a county-sized road network (target: >= 200k road nodes, build + travel
tables <= 60 s).

Usage: .venv/bin/python benchmarks/bench_network.py [--side 450] [--repeat 3] [--days 1]

No real extract of that size ships, so the network is synthetic and seeded: a square grid of
``side`` x ``side`` road nodes 100 m apart (450 -> 202,500 nodes, a 45 km x 45 km county), every
50th row and column a trunk road, one row in four one-way (alternating direction), 2 % of the
segments doubled by a slower parallel track; 15 units (5 x 3 blocks), 600 villages at random
nodes, per unit a hall, a clinic and two schools (60 facilities). The scenario is written as a
built scenario folder (road_nodes.csv, roads.csv, villages.csv, scenario.yaml) and then, in a fresh
process per repeat:

1. load + world: ``load_scenario`` and ``build_world`` (reads 200k nodes and 420k edges);
2. travel tables: ``build_travel_tables`` (3 modes, both directions where one-way streets bind);
3. a ``--days`` run of the whole model on that world and those tables (``run_loaded``: residents,
   schools, the warm-up and the measured days, result tables).

Wall and CPU seconds (user + sys of the process) of each phase: median, min and max of
``--repeat`` runs, printed as JSON with the machine and the 1-minute load average at the end of
each run (CPU seconds are the figure to read on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHASES = r"""
import json, os, resource, sys, time

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

w0, c0 = time.perf_counter(), cpu()
from sim.scenario.load import load_scenario
from sim.world.world import build_world
from sim.routing.tables import build_travel_tables
loaded = load_scenario(sys.argv[1])
world = build_world(loaded)
w1, c1 = time.perf_counter(), cpu()
tables = build_travel_tables(world, loaded.scenario.modes)
w2, c2 = time.perf_counter(), cpu()
from sim.runner import run_loaded
result = run_loaded(loaded, days=int(sys.argv[2]), world=world, tables=tables)
w3, c3 = time.perf_counter(), cpu()
print(json.dumps({"load_world_s": w1 - w0, "tables_s": w2 - w1, "run_s": w3 - w2,
                  "load_world_cpu_s": c1 - c0, "tables_cpu_s": c2 - c1, "run_cpu_s": c3 - c2,
                  "build_plus_tables_s": w2 - w0, "build_plus_tables_cpu_s": c2 - c0,
                  "total_s": w3 - w0, "total_cpu_s": c3 - c0,
                  "nodes": len(world.nodes), "edges": len(world.edges), "trips": len(result.trips),
                  "load_average": os.getloadavg()[0],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_county(folder: Path, side: int, seed: int = 1) -> None:
    """Write the synthetic county as a scenario folder."""
    rng = np.random.default_rng(seed)
    spacing = 0.1
    ids = np.arange(side * side)
    row, col = ids // side, ids % side
    nodes = pd.DataFrame({"id": [f"n{i}" for i in ids], "x_km": col * spacing, "y_km": row * spacing})
    u_h, v_h = ids[col < side - 1], ids[col < side - 1] + 1  # east-west segments
    u_v, v_v = ids[row < side - 1], ids[row < side - 1] + side  # north-south segments
    u = np.concatenate([u_h, u_v])
    v = np.concatenate([v_h, v_v])
    horizontal = np.concatenate([np.ones(len(u_h), bool), np.zeros(len(u_v), bool)])
    trunk = np.where(horizontal, row[u] % 50 == 0, col[u] % 50 == 0)
    oneway_row = horizontal & (row[u] % 4 == 1) & ~trunk
    west = oneway_row & (row[u] % 8 == 5)
    u, v = np.where(west, v, u), np.where(west, u, v)
    edges = pd.DataFrame(
        {
            "u": [f"n{i}" for i in u],
            "v": [f"n{i}" for i in v],
            "length_km": spacing,
            "road_class": np.where(trunk, "trunk", "rural"),
            "oneway": np.where(oneway_row, "yes", ""),
        }
    )
    extra = edges.sample(frac=0.02, random_state=seed).assign(road_class="track", length_km=spacing * 1.3)
    units, seats = {}, []
    vill_nodes = rng.choice(ids, size=600, replace=False)
    bx, by = 5, 3
    unit_of = lambda r, c: f"u{(r * by // side) * bx + (c * bx // side)}"  # noqa: E731
    for k in range(bx * by):
        cx = ((k % bx) + 0.5) * side / bx
        cy = ((k // bx) + 0.5) * side / by
        units[f"u{k}"] = {
            "zh": f"乡{k}",
            "en": f"Unit {k}",
            "seat": [cx * spacing, cy * spacing],
            "island": "main",
        }
        seats.append({"id": f"seat:u{k}", "x_km": cx * spacing, "y_km": cy * spacing})
    villages = pd.DataFrame(
        {
            "id": [f"v{i}" for i in range(len(vill_nodes))],
            "unit": [unit_of(row[n], col[n]) for n in vill_nodes],
            "x_km": col[vill_nodes] * spacing + 0.01,
            "y_km": row[vill_nodes] * spacing + 0.01,
        }
    )
    bands = ["0-2", "3-5", "6-11", "12-14", "15-59", "60+"]
    shares = [0.0359, 0.0359, 0.0718, 0.0359, 0.6335, 0.1870]
    total = rng.integers(200, 2000, len(villages))
    for band, share in zip(bands, shares, strict=True):
        villages[f"pop_{band}"] = np.rint(total * share).astype(int)
    links = pd.concat([villages[["id", "x_km", "y_km"]], pd.DataFrame(seats)])
    node_of = np.rint(links["y_km"] / spacing).astype(int) * side + np.rint(links["x_km"] / spacing).astype(
        int
    )
    connectors = pd.DataFrame(
        {
            "u": links["id"],
            "v": [f"n{i}" for i in node_of],
            "length_km": 0.02,
            "road_class": "rural",
            "oneway": "",
        }
    )
    template = yaml.safe_load((ROOT / "sim" / "build" / "template.yaml").read_text(encoding="utf-8"))
    facilities = {}
    for k, seat in enumerate(seats):
        at = [seat["x_km"], seat["y_km"]]
        facilities[f"hall_{k}"] = {"kind": "hall", "unit": f"u{k}", "at": at, "servers": 3}
        facilities[f"clinic_{k}"] = {
            "kind": "clinic",
            "unit": f"u{k}",
            "at": [at[0] + 0.5, at[1]],
            "servers": 3,
        }
        for j, dx in enumerate((-1.5, 1.5)):
            facilities[f"school_{k}_{j}"] = {
                "kind": "school",
                "unit": f"u{k}",
                "at": [at[0] + dx, at[1] + 1.0],
                "level": "primary",
                "seats": 2000,
            }
    modes = {
        "walk": {"speed_kph": {"trunk": 4.5, "rural": 4.5, "track": 4.0}},
        "ebike": {**template["modes"]["ebike"], "speed_kph": {"trunk": 25, "rural": 18, "track": 12}},
        "car": {**template["modes"]["car"], "speed_kph": {"trunk": 70, "rural": 35, "track": 15}},
    }
    scenario = {
        "name": f"synthetic_grid_{side}",
        "description": "Synthetic county-sized grid for the network benchmark (seeded).",
        "age_bands": bands,
        "units": units,
        "villages": {"file": "villages.csv"},
        "roads": {"file": "roads.csv", "nodes": "road_nodes.csv"},
        "modes": modes,
        "services": template["services"],
        "facility_defaults": template["facility_defaults"],
        "facilities": facilities,
        "schools": {"levels": {"primary": {"attendance": {"6-11": 1.0}}}},
        "simulation": {"days": 30, "seed": seed, "sample_fraction": 1.0},
    }
    folder.mkdir(parents=True, exist_ok=True)
    nodes.to_csv(folder / "road_nodes.csv", index=False)
    pd.concat([edges, extra, connectors]).to_csv(folder / "roads.csv", index=False)
    villages.to_csv(folder / "villages.csv", index=False)
    (folder / "scenario.yaml").write_text(
        yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=450, help="grid side (nodes = side^2)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, default=1, help="measured days of the model run (plus warm-up)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "county"
        write_county(folder, args.side)
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run(
                [sys.executable, "-c", PHASES, str(folder / "scenario.yaml"), str(args.days)],
                check=False,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if out.returncode != 0:
                sys.exit(f"benchmark run failed (exit {out.returncode}):\n{out.stderr}")
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), file=sys.stderr)
    summary: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "nodes": runs[0]["nodes"],
        "edges": runs[0]["edges"],
        "trips": runs[0]["trips"],
        "repeats": len(runs),
        "days": args.days,
    }
    for key in (
        "load_world_s", "tables_s", "build_plus_tables_s", "run_s", "total_s",
        "load_world_cpu_s", "tables_cpu_s", "build_plus_tables_cpu_s", "run_cpu_s", "total_cpu_s",
        "peak_mb", "load_average",
    ):  # fmt: skip
        values = [float(r[key]) for r in runs]
        summary[key] = {
            "median": round(statistics.median(values), 2),
            "min": round(min(values), 2),
            "max": round(max(values), 2),
        }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
