"""Benchmark: townsim's speed-up over the plain-Mesa reference (benchmarks/mesa_reference), one run.

Both models run the same scenario for the same days in fresh processes, one after the other in
the same invocation (so under the same machine load):

- townsim end to end: ``townsim run SCENARIO --quiet`` (imports, load, world and travel tables,
  daily steps, all tables, summary, Parquet folder), wall time and peak RSS;
- townsim daily loop: the daily steps alone, timed in process;
- Mesa reference end to end: imports, load, world and travel tables, one Mesa agent per
  resident, daily steps with ``shuffle_do``, headline numbers; and its daily loop alone.

The Mesa reference does less than townsim end to end (no schools, no tables, no Parquet), so the
end-to-end ratio understates townsim's lead. Goal: >= 100x end to end for a year.

Usage: python benchmarks/bench_mesa.py [--scenario FILE] [--days 365] [--sample-fraction 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_year import _machine, cli_run  # noqa: E402


def mesa_run(scenario: str, days: int, overlay: str | None) -> dict[str, float]:
    """The Mesa reference in this process: phase times (s), peak RSS (MB) and headline numbers."""
    t0, c0 = time.perf_counter(), time.process_time()
    from benchmarks.mesa_reference import MesaReferenceModel
    from sim.scenario import load_scenario

    loaded = load_scenario(scenario, overlays=[overlay] if overlay else ())
    model = MesaReferenceModel(loaded)
    t1, c1 = time.perf_counter(), time.process_time()
    for _ in range(days):
        model.step()
    t2, c2 = time.perf_counter(), time.process_time()
    head = model.headline()
    return {
        "agents": len(model.agents),
        "setup_s": t1 - t0,
        "days_s": t2 - t1,
        "days_cpu_s": c2 - c1,
        "total_s": time.perf_counter() - t0,
        "total_cpu_s": time.process_time() - c0,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "burden_mean_min": head.burden_mean_min,
        "errands_completed": head.errands_completed,
    }


def townsim_days(scenario: str, days: int, overlay: str | None) -> dict[str, float]:
    """townsim's daily loop alone, in this process."""
    from sim.model import AccessModel
    from sim.scenario import load_scenario

    model = AccessModel(load_scenario(scenario, overlays=[overlay] if overlay else ()))
    t0, c0 = time.perf_counter(), time.process_time()
    model.run(days)
    return {
        "days_s": time.perf_counter() - t0,
        "days_cpu_s": time.process_time() - c0,
        "residents": len(model.residents),
    }


def _child(kind: str, scenario: str, days: int, overlay: str | None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, "--scenario", scenario, "--days", str(days)]
    if overlay:
        cmd += ["--overlay", overlay]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios/pingtan/merged_2021.yaml"))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sample-fraction", type=float, default=1.0)
    parser.add_argument("--child", choices=["mesa", "townsim_days"], help=argparse.SUPPRESS)
    parser.add_argument("--overlay", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "mesa":
        print(json.dumps(mesa_run(args.scenario, args.days, args.overlay)))
        return
    if args.child == "townsim_days":
        print(json.dumps(townsim_days(args.scenario, args.days, args.overlay)))
        return
    print(_machine())
    with tempfile.TemporaryDirectory() as tmp:
        overlay = None
        if args.sample_fraction < 1.0:
            overlay = str(Path(tmp) / "sample.yaml")
            Path(overlay).write_text(
                yaml.safe_dump({"simulation": {"sample_fraction": args.sample_fraction}})
            )
        print(f"scenario: {args.scenario}, {args.days} days, sample fraction {args.sample_fraction:g}")
        town = cli_run(Path(args.scenario), args.days, overlay=overlay)
        loop = _child("townsim_days", args.scenario, args.days, overlay)
        mesa = _child("mesa", args.scenario, args.days, overlay)
    print(
        f"townsim end to end (CLI): {town['wall_s']:.1f} s wall, {town['cpu_s']:.1f} s CPU, peak "
        f"{town['peak_mb']:.0f} MB; daily loop {loop['days_s']:.2f} s wall, {loop['days_cpu_s']:.2f} s CPU "
        f"({loop['residents']:,} residents)"
    )
    print(
        f"Mesa reference end to end: {mesa['total_s']:.1f} s wall, {mesa['total_cpu_s']:.1f} s CPU (setup "
        f"{mesa['setup_s']:.1f} s, daily loop {mesa['days_s']:.1f} s wall, {mesa['days_cpu_s']:.1f} s CPU), "
        f"peak {mesa['peak_mb']:.0f} MB, {mesa['agents']:,} agents; "
        f"burden {mesa['burden_mean_min']:.1f} min per errand"
    )
    print(
        f"speed-up of townsim, wall (CPU): end to end x{mesa['total_s'] / town['wall_s']:.0f} "
        f"(x{mesa['total_cpu_s'] / town['cpu_s']:.0f}), daily loop x{mesa['days_s'] / loop['days_s']:.0f} "
        f"(x{mesa['days_cpu_s'] / loop['days_cpu_s']:.0f}); goal >= 100x end to end for a year; "
        f"load average now {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
