"""Benchmark: 10 paired replications of a full Pingtan year for two scenarios (20 runs) plus the comparison.

Each repeat runs in a fresh Python process and times what ``townsim compare A.yaml B.yaml
--replications 10`` does: imports, loading both scenarios, building each world and its travel
tables once, 20 runs of 365 days in worker processes forked after that (the runs' tables,
summaries and per-place tables), and the paired comparison of every headline metric. Prints the
median wall time over repeats (target: <= 30 s on 2 cores), and the run-to-run spread of
mean burden per errand that the default replication count rests on.

Usage: python benchmarks/bench_replications.py [--a FILE] [--b FILE] [--n 10] [--days 365]
                                               [--repeats 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINGTAN = ROOT / "scenarios" / "pingtan"


def one(a: str, b: str, n: int, days: int, workers: int) -> dict[str, float]:
    """One repeat in this process; phase times in s, spread of burden per errand in min."""
    t0 = time.perf_counter()
    import numpy as np

    from sim.metrics.answer import group_answers, namer
    from sim.replications import paired_difference, run_paired
    from sim.scenario.load import load_scenario

    t1 = time.perf_counter()
    la, lb = load_scenario(a), load_scenario(b)
    # as `townsim compare A.yaml B.yaml` does: the county's cells, the table and its sentence
    sa, sb = run_paired(la, lb, n=n, days=days, workers=workers, cell_groups=())
    t2 = time.perf_counter()
    diff = paired_difference(sa, sb)
    cells = [{"cells": s.cells, "facility_cells": s.facility_cells} for s in (sa, sb)]
    group_answers(*cells, [], namer("en", lb.raw, la.raw))
    t3 = time.perf_counter()
    row = diff[(diff["metric"] == "burden_min.mean") & (diff["group_kind"] == "overall")].iloc[0]
    burden_a = np.array([s.burden_min.mean for s in sa.summaries], dtype=float)
    burden_b = np.array([s.burden_min.mean for s in sb.summaries], dtype=float)
    return {
        "imports_s": t1 - t0,
        "runs_s": t2 - t1,
        "compare_s": t3 - t2,
        "in_process_s": t3 - t0,
        "run_median_s": statistics.median(sa.wall_time_s + sb.wall_time_s),
        "peak_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "cpu_s": sum(
            getattr(resource.getrusage(who), f)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for f in ("ru_utime", "ru_stime")
        ),
        "rows": len(diff),
        "mean_a": float(burden_a.mean()),
        "mean_b": float(burden_b.mean()),
        "sd_a": float(burden_a.std(ddof=1)),
        "sd_b": float(burden_b.std(ddof=1)),
        "diff": float(row["mean_diff"]),
        "sd_diff": float(np.std(burden_b - burden_a, ddof=1)),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", default=str(PINGTAN / "merged_2021.yaml"))
    parser.add_argument("--b", default=str(PINGTAN / "merged_2021_sized.yaml"))
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one(args.a, args.b, args.n, args.days, args.workers)))
        return
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(
        f"A = {args.a}\nB = {args.b}\n{args.n} paired replications x {args.days} days, {args.workers} workers"
    )
    runs = []
    for i in range(args.repeats):
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--a",
                args.a,
                "--b",
                args.b,
                "--n",
                str(args.n),
                "--days",
                str(args.days),
                "--workers",
                str(args.workers),
                "--child",
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        wall = time.perf_counter() - start
        rec = json.loads(out.stdout.strip().splitlines()[-1]) | {"wall_s": wall, "load_before": load_before}
        runs.append(rec)
        print(
            f"repeat {i + 1}: {wall:.1f} s wall (imports {rec['imports_s']:.1f}, runs {rec['runs_s']:.1f}, "
            f"comparison {rec['compare_s']:.2f}; median run {rec['run_median_s']:.1f} s in its worker; "
            f"CPU time {rec['cpu_s']:.0f} s in all processes; "
            f"peak worker {rec['peak_worker_mb']:.0f} MB; load average before {load_before:.1f})"
        )
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"\nmedian wall, {2 * args.n} runs + comparison: {med['wall_s']:.1f} s (target <= 30 s)")
    print(
        f"median CPU time {med['cpu_s']:.0f} s: {med['cpu_s'] / args.workers:.1f} s of wall if the "
        f"{args.workers} cores did nothing else (an estimate, not a measurement)"
    )
    last = runs[-1]
    half = (last["ci_high"] - last["ci_low"]) / 2
    print(
        "spread of mean burden per errand (min) over seeds: "
        f"A mean {last['mean_a']:.2f} sd {last['sd_a']:.3f}; "
        f"B mean {last['mean_b']:.2f} sd {last['sd_b']:.3f}; "
        f"B-A {last['diff']:.2f} sd {last['sd_diff']:.3f}, "
        f"95% CI [{last['ci_low']:.2f}, {last['ci_high']:.2f}] "
        f"(half-width {half:.2f} at n={args.n})"
    )
    for width in (1.0, 0.5, 0.25):
        need = math.ceil((1.96 * last["sd_diff"] / width) ** 2)
        print(f"  seeds for a B-A half-width of {width} min: about {max(need, 2)}")


if __name__ == "__main__":
    main()
