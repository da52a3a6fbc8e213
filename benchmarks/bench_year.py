"""Benchmark: a full Pingtan year end to end from the CLI, and growth with population.

``cli``: ``townsim run SCENARIO --quiet --out TMP`` in a fresh process, the
whole job a user waits for (imports, load, world and travel tables, 365 daily steps, tables,
summary, Parquet folder); wall time and the child's peak RSS; median, min and max over repeats.
Targets: <= 5 s and <= 1 GB (merged_2021), <= 7 s with buses (merged_2021_buses); with
``--all-on`` also merged_2021_schools with households, escorts, boarding and the calendar
(``families/all_on.yaml``): <= 7 s and <= 1.2 GB; with ``--health-on`` also merged_2021_health with
the frail elderly and the capacity rule (a year without timetabled lines: the rule has nothing to act
on): <= 7 s and <= 1.2 GB; with ``--health-transit`` also that with the buses and ferries, where
vehicles fill up: the same targets.

``scale``: one fresh process per population scale, timing each phase (setup,
daily steps, tables, summary, access (the access and levers blocks of summary.json), write) and
peak RSS, with each phase's growth against the first scale. Target: 10x population (3.9 M
residents) <= 50 s and <= 6 GB; tables and summary O(n).

Usage:
    python benchmarks/bench_year.py cli [--repeats 3] [--scenarios merged_2021,merged_2021_buses] [--all-on]
        [--health-on] [--health-transit]
    python benchmarks/bench_year.py scale [--scales 1,10] [--repeats 1] [--days 365]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINGTAN = ROOT / "scenarios" / "pingtan"
#: The all-on variant: a scenario name, then '+' and an overlay under scenarios/pingtan/ per overlay.
ALL_ON = "merged_2021_schools+families/all_on"
#: Health tiers (village clinics, central health centres, hospital), the frail elderly and the capacity rule.
HEALTH_ON = "merged_2021_health+elderly+capacity"
#: Health tiers and the frail elderly with the buses and ferries, vehicle capacity enforced.
HEALTH_TRANSIT = "merged_2021_health+merged_2021_buses+elderly+capacity"
TARGETS_S = {"merged_2021": 5.0, "merged_2021_buses": 7.0, ALL_ON: 7.0, HEALTH_ON: 7.0, HEALTH_TRANSIT: 7.0}
TARGET_MB = 1024
#: Peak memory targets other than TARGET_MB (households, escorts, boarding and the calendar on; health on).
TARGETS_MB = {ALL_ON: 1229, HEALTH_ON: 1229, HEALTH_TRANSIT: 1229}


def _machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}; "
        f"load average (1/5/15 min) at start: {load}"
    )


def _townsim() -> list[str]:
    script = Path(sys.executable).parent / "townsim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sim.cli"]


def cli_run(scenario: Path, days: int | None, *, overlays: tuple[str, ...] = ()) -> dict[str, float]:
    """One ``townsim run`` in a fresh process: wall seconds and the child's peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [*_townsim(), "run", str(scenario), "--quiet", "--out", str(Path(tmp) / "run")]
        if days is not None:
            cmd += ["--days", str(days)]
        for overlay in overlays:
            cmd += ["--overlay", overlay]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"townsim run {scenario.name} failed ({proc.returncode}): {err[-2000:]}")
        if not (Path(tmp) / "run" / "trips.parquet").is_file():
            raise SystemExit(f"townsim run {scenario.name} wrote no trips.parquet")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def _stats(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def cmd_cli(args: argparse.Namespace) -> None:
    print(_machine())
    names = (
        args.scenarios.split(",")
        + ([ALL_ON] if args.all_on else [])
        + ([HEALTH_ON] if args.health_on else [])
        + ([HEALTH_TRANSIT] if args.health_transit else [])
    )
    for name in names:
        base, *overlays = name.split("+")
        extra = tuple(str(PINGTAN / f"{overlay}.yaml") for overlay in overlays)
        runs = [cli_run(PINGTAN / f"{base}.yaml", args.days, overlays=extra) for _ in range(args.repeats)]
        wall = [r["wall_s"] for r in runs]
        cpu = [r["cpu_s"] for r in runs]
        peak = [r["peak_mb"] for r in runs]
        target = TARGETS_S.get(name)
        target_mb = TARGETS_MB.get(name, TARGET_MB)
        verdict = (
            ""
            if target is None or args.days is not None
            else (
                f" | target <= {target:g} s, <= {target_mb} MB: "
                f"{'met' if statistics.median(wall) <= target and max(peak) <= target_mb else 'NOT met'}"
            )
        )
        print(
            f"townsim run {name} ({args.repeats} runs): wall s {_stats(wall)} | CPU s {_stats(cpu)} | "
            f"peak MB {_stats(peak)}{verdict}"
        )


def phase_run(scenario: str, days: int, scale: float) -> dict[str, float]:
    """One run in this process: phase times (s) and peak RSS (MB)."""
    clock: list[tuple[float, float]] = [(time.perf_counter(), time.process_time())]

    def lap() -> None:
        clock.append((time.perf_counter(), time.process_time()))

    from sim.metrics.access import access_summary
    from sim.metrics.levers import lever_summary
    from sim.metrics.summary import summarise
    from sim.model import AccessModel
    from sim.results import build_result, write_run
    from sim.results.summary_model import RunSummary
    from sim.scenario import load_scenario

    lap()
    loaded = load_scenario(scenario)
    model = AccessModel(loaded, population_scale=scale)
    lap()
    model.run(days)
    lap()
    result = build_result(model)
    lap()
    summary = {
        "scenario": loaded.run_name,
        "seed": model.seed_value,
        "days": days,
        **summarise(
            trips=result.trips,
            errands=result.errands,
            facility_days=result.facility_days,
            residents=result.residents,
            schools=result.schools,
        ),
        "levers": lever_summary(result.errands, result.proxy_trips),
    }
    lap()
    summary["access"] = access_summary(model, result)
    result.summary = RunSummary.model_validate(summary)
    lap()
    with tempfile.TemporaryDirectory() as tmp:
        write_run(result, Path(tmp) / "run", scenario_raw=loaded.raw)
        lap()
    out: dict[str, float] = {"residents": len(model.residents), "trips": len(result.trips)}
    for i, name in enumerate(("imports", "setup", "days", "tables", "summary", "access", "write")):
        out[f"{name}_s"] = clock[i + 1][0] - clock[i][0]
        out[f"{name}_cpu_s"] = clock[i + 1][1] - clock[i][1]
    out["total_s"] = clock[-1][0] - clock[0][0]
    out["total_cpu_s"] = clock[-1][1] - clock[0][1]
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


PHASES = ("setup_s", "days_s", "tables_s", "summary_s", "access_s", "write_s", "total_s")


def cmd_scale(args: argparse.Namespace) -> None:
    print(_machine())
    print(
        f"scenario: {args.scenario}, {args.days} days, median of {args.repeats} run(s) per scale, "
        "fresh process each"
    )
    base: dict[str, float] | None = None
    base_scale = 1.0
    for scale in (float(s) for s in args.scales.split(",")):
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "phases",
                    "--scenario",
                    args.scenario,
                    "--days",
                    str(args.days),
                    "--scale",
                    str(scale),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        if base is None:
            base, base_scale = med, scale
        growth = " ".join(f"{p[:-2]} x{med[p] / base[p]:.1f}" for p in PHASES)
        cpu_growth = " ".join(
            f"{p[:-2]} x{med[p[:-2] + '_cpu_s'] / base[p[:-2] + '_cpu_s']:.1f}" for p in PHASES
        )
        print(
            f"scale {scale:g}x: {med['residents']:,.0f} residents, {med['trips']:,.0f} trips, "
            f"peak {med['peak_mb']:,.0f} MB\n"
            "  wall s: " + " ".join(f"{p[:-2]} {med[p]:.2f}" for p in ("imports_s", *PHASES)) + "\n"
            "  CPU s:  "
            + " ".join(f"{p[:-2]} {med[p[:-2] + '_cpu_s']:.2f}" for p in ("imports_s", *PHASES))
            + "\n"
            f"  growth vs {base_scale:g}x (population x{scale / base_scale:g}), wall: {growth}; "
            f"CPU: {cpu_growth}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("cli", help="full year from the CLI, fresh process per run")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--scenarios", default="merged_2021,merged_2021_buses", help="names in scenarios/pingtan/")
    p.add_argument("--days", type=int, default=None, help="override days (no target verdict then)")
    p.add_argument(
        "--all-on",
        action="store_true",
        help=f"also run {ALL_ON} (households, escorts, boarding, teaching points, calendar)",
    )
    p.add_argument(
        "--health-on",
        action="store_true",
        help=f"also run {HEALTH_ON} (health tiers, impairment and companions, capacity rule)",
    )
    p.add_argument(
        "--health-transit",
        action="store_true",
        help=f"also run {HEALTH_TRANSIT} (health tiers and the elderly with buses, capacity enforced)",
    )
    p.set_defaults(handler=cmd_cli)
    p = sub.add_parser("scale", help="phase times at several population scales")
    p.add_argument("--scenario", default=str(PINGTAN / "merged_2021.yaml"))
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--scales", default="1,10")
    p.set_defaults(handler=cmd_scale)
    p = sub.add_parser("phases", help="(internal) one in-process run, JSON phase times")
    p.add_argument("--scenario", required=True)
    p.add_argument("--days", type=int, required=True)
    p.add_argument("--scale", type=float, required=True)
    p.set_defaults(handler=lambda a: print(json.dumps(phase_run(a.scenario, a.days, a.scale))))
    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
