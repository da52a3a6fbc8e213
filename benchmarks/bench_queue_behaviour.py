"""Speed of the queue with balking and reneging against the plain FIFO queue (docs/performance.md).

Serves 2,000 facility-days of 120 visitors each (3 windows, 10-min exponential service, open
08:30-17:00, utilisation about 0.8) with ``serve_fifo_days`` and with ``serve_impatient_days``
(exponential patience of mean 90 min; then also balking beyond 30 waiting) and prints the median
of 7 timings of each.

Usage: python benchmarks/bench_queue_behaviour.py
"""

from __future__ import annotations

import os
import time

import numpy as np

from sim.model.queue import NO_BALKING, Impatience, serve_fifo_days, serve_impatient_days

QUEUES, PER_QUEUE, REPEATS = 2000, 120, 7


def main() -> None:
    rng = np.random.default_rng(1)
    n = QUEUES * PER_QUEUE
    arrival = np.concatenate([np.sort(rng.uniform(480, 1000, PER_QUEUE)) for _ in range(QUEUES)])
    service = rng.exponential(10.0, n)
    bounds = np.arange(0, n + 1, PER_QUEUE)
    hours = {
        "servers": np.full(QUEUES, 3),
        "open_min": np.full(QUEUES, 510.0),
        "close_min": np.full(QUEUES, 1020.0),
    }
    patience = rng.exponential(90.0, n)
    both = Impatience(np.full(n, 30, np.int64), patience, np.full(QUEUES, 10.0))
    reneging = Impatience(np.full(n, NO_BALKING, np.int64), patience, np.full(QUEUES, 10.0))
    runs = {
        "plain FIFO (serve_fifo_days)": lambda: serve_fifo_days(arrival, service, bounds, **hours),
        "reneging only (serve_impatient_days)": lambda: serve_impatient_days(
            arrival, service, bounds, reneging, **hours
        ),
        "balking + reneging (serve_impatient_days)": lambda: serve_impatient_days(
            arrival, service, bounds, both, **hours
        ),
    }
    print(f"{n:,} visitors in {QUEUES:,} queues; load average {os.getloadavg()[0]:.1f}")
    for name, run in runs.items():
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        median = float(np.median(times))
        print(f"{name}: median {median:.3f} s ({1e6 * median / n:.2f} µs per visitor)")


if __name__ == "__main__":
    main()
