"""Benchmark: cost of capacity boarding (``board_fifo``, ``CapacityDay.board``) in a run with full buses.

Runs the scenario (default: Pingtan health tiers + buses + elderly + capacity) with timing wrappers
around :func:`sim.transit.capacity.board_fifo` and :meth:`CapacityDay.board`, and prints their
total seconds and number of calls next to the run's wall time.

Usage: python benchmarks/bench_capacity.py [--days N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PINGTAN = ROOT / "scenarios" / "pingtan"


def _timed(fn: Callable[..., Any], spent: dict[str, float], name: str) -> Callable[..., Any]:
    """``fn`` adding its seconds to ``spent[name]`` and counting its calls in ``spent[name + ' calls']``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start
            spent[name + " calls"] += 1

    return wrapper


def main() -> None:
    from sim.runner import run_scenario
    from sim.transit import capacity

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.1f}")
    events = "compiled (sim/transit/_capacity.pyx)" if capacity._compiled else "the Python loop"
    print(f"boarding events: {events}")
    spent: dict[str, float] = dict.fromkeys(["board_fifo", "board_fifo calls", "board", "board calls"], 0.0)
    capacity.board_fifo = _timed(capacity.board_fifo, spent, "board_fifo")  # type: ignore[assignment]
    capacity.CapacityDay.board = _timed(capacity.CapacityDay.board, spent, "board")  # type: ignore[method-assign]
    overlays = [PINGTAN / "merged_2021_buses.yaml", PINGTAN / "elderly.yaml", PINGTAN / "capacity.yaml"]
    start = time.perf_counter()
    run_scenario(PINGTAN / "merged_2021_health.yaml", overlays=overlays, days=args.days, seed=args.seed)
    wall = time.perf_counter() - start
    print(f"run: {wall:.2f} s wall ({args.days or 'all'} days)")
    for name in ("board_fifo", "board"):
        print(f"{name}: {spent[name]:.3f} s over {int(spent[name + ' calls'])} calls")


if __name__ == "__main__":
    main()
