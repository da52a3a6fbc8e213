"""Start-up cost of the command line: ``townsim --help`` and each command's imports.

Each measurement is a fresh Python process running ``sim.cli.main``, timed from outside (wall
clock, and CPU seconds user + system, which a loaded machine inflates much less). A
command's import cost is measured by running it on a path that does not exist: the command
imports what it uses, then stops with exit code 2 at the first read, so the time is start-up
plus its imports plus one failed ``stat``. The heavy libraries each command loaded are listed.

    .venv/bin/python benchmarks/bench_cli.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "networkx", "mesa", "matplotlib", "distributed", "gtfs_kit")

#: command -> arguments naming a path that does not exist ({x} is a missing path).
COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "--version": ["--version"],
    "validate": ["validate", "{x}.yaml"],
    "run": ["run", "{x}.yaml", "--out", "{x}_out"],
    "compare": ["compare", "{x}_a", "{x}_b"],
    "figures": ["figures", "{x}_run", "--out", "{x}_out"],
    "report": ["report", "{x}_run", "--out", "{x}.html"],
    "sweep": ["sweep", "{x}.yaml", "--out", "{x}_out"],
    "sweep-status": ["sweep-status", "{x}_sweep"],
    "analyze": ["analyze", "{x}_sweep"],
    "export-gtfs": ["export-gtfs", "{x}.yaml", "{x}.zip"],
    "rank-lines": ["rank-lines", "{x}.yaml", "{x}_c.yaml"],
}

PROBE = """
import json, sys
from sim.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code or 0
heavy = [m for m in {heavy!r} if m in sys.modules]
json.dump({{"code": code, "heavy": heavy}}, open(sys.argv[1], "w"))
"""


def _timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _once(argv: list[str], missing: str) -> tuple[float, float, dict[str, object]]:
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        args = [a.format(x=missing) for a in argv]
        wall, cpu = _timed([sys.executable, "-c", PROBE.format(heavy=HEAVY), report.name, *args])
        info = json.loads(Path(report.name).read_text(encoding="utf-8"))
    return wall, cpu, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per command (default 5)")
    args = parser.parse_args()
    missing = str(Path(tempfile.gettempdir()) / f"townsim-bench-missing-{os.getpid()}")
    load = os.getloadavg()
    bare = [_timed([sys.executable, "-c", "pass"]) for _ in range(args.repeat)]
    print(
        f"# {args.repeat} fresh processes each; load average {load[0]:.1f}; python {sys.version.split()[0]}"
    )
    header = f"{'command':<14} {'median s':>9} {'min s':>7} {'max s':>7} {'cpu s':>6}"
    print(f"{header}  exit  heavy libraries loaded")
    walls = [w for w, _ in bare]
    cpus = [c for _, c in bare]
    print(
        f"{'(bare python)':<14} {statistics.median(walls):9.3f} {min(walls):7.3f} {max(walls):7.3f} "
        f"{statistics.median(cpus):6.3f}"
    )
    rows = {}
    for name, argv in COMMANDS.items():
        runs = [_once(argv, missing) for _ in range(args.repeat)]
        walls, cpus, info = [r[0] for r in runs], [r[1] for r in runs], runs[-1][2]
        rows[name] = {
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "cpu_s": statistics.median(cpus),
            **info,
        }
        print(
            f"{name:<14} {statistics.median(walls):9.3f} {min(walls):7.3f} {max(walls):7.3f} "
            f"{statistics.median(cpus):6.3f}  {info['code']!s:>4}  {', '.join(info['heavy']) or '-'}"
        )
    target = rows["--help"]["median_s"]
    print(f"\n--help median {target:.3f} s (target <= 0.5 s): {'met' if target <= 0.5 else 'NOT met'}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
