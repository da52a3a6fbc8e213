"""Benchmark of ``townsim app``: start-up, and a changed Pingtan plan (10 replications x 91 days).

Usage: .venv/bin/python benchmarks/bench_app.py [--repeat N] [--replications R] [--days D] [--workers W]

1. Start-up: from launching ``townsim app`` (a fresh process, default Pingtan scenario and
   candidates) until the page and its data (``/`` and ``/api/init``) have been served. Median of N.
   Also the CPU seconds the app process used (load-independent; wall time depends on the load).
2. Answer: in one fresh app, the time from pressing Run (POST /api/run) until the results are
   ready, for (a) a first changed plan (a candidate line on: base and plan runs, 2 x R runs) and
   (b) a second changed plan (2 more windows at the Tancheng hall; base runs cached, R runs);
   and the CPU seconds of both answers (app and worker processes), which divided by the cores is
   the wall time on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _start(folder: Path, workers: int | None) -> tuple[subprocess.Popen[str], str, float]:
    cmd = [sys.executable, "-m", "sim.cli", "app", "--port", "0", "--folder", str(folder)]
    if workers:
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = ""
    for line in proc.stdout:  # type: ignore[union-attr]
        hit = re.search(r"serving (http://\S+/)", line)
        if hit:
            url = hit.group(1)
            break
    if not url:
        raise SystemExit("townsim app did not start")
    urllib.request.urlopen(url).read()
    urllib.request.urlopen(url + "api/init").read()
    return proc, url, time.perf_counter() - t0


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    return json.loads(urllib.request.urlopen(req).read())


def _answer(url: str, edits: dict, reps: int, days: int) -> tuple[float, dict]:
    t0 = time.perf_counter()
    job = _post(url + "api/run", {"edits": edits, "replications": reps, "days": days})["job"]
    while True:
        time.sleep(0.2)
        status = json.loads(urllib.request.urlopen(f"{url}api/job/{job}").read())
        if status["state"] != "running":
            break
    if status["state"] != "done":
        raise SystemExit(f"run ended {status['state']}: {status['error']}")
    return time.perf_counter() - t0, status


def _cpu_children() -> float:
    """CPU seconds (user + system) of this process's finished children and their children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=60)
    proc.stdout.close()  # type: ignore[union-attr]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--days", type=int, default=91)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        starts, cpus = [], []
        for i in range(args.repeat):
            cpu0 = _cpu_children()
            proc, _, secs = _start(Path(tmp) / f"s{i}", args.workers)
            starts.append(secs)
            _stop(proc)
            cpus.append(_cpu_children() - cpu0)
        print(
            f"start-up (page and data served): median {statistics.median(starts):.2f} s wall of "
            f"{[round(x, 2) for x in starts]}; CPU of the app process (start and stop) "
            f"median {statistics.median(cpus):.2f} s",
            flush=True,
        )
        cpu0 = _cpu_children()
        proc, url, _ = _start(Path(tmp) / "answer", args.workers)
        time.sleep(5)  # let the worker processes finish importing, as after opening the page
        try:
            first, status = _answer(url, {"lines": ["cand_liushui_tancheng"]}, args.replications, args.days)
            county = next(
                r
                for r in status["results"]["by_unit"]
                if r["group"] == "ALL" and r["metric"] == "burden_mean_min"
            )
            print(
                f"first changed plan (line on; {2 * args.replications} runs of {args.days} days): "
                f"{first:.1f} s; county burden change {county['mean_diff']:+.2f} min, "
                f"95% CI {county['ci_low']:+.2f} .. {county['ci_high']:+.2f}",
                flush=True,
            )
            edits = {"facilities": {"hall_tancheng": {"action": "restaff", "servers": "19"}}}
            second, _ = _answer(url, edits, args.replications, args.days)
            print(f"second changed plan (base cached; {args.replications} runs): {second:.1f} s", flush=True)
        finally:
            _stop(proc)
        cpu = _cpu_children() - cpu0 - statistics.median(cpus)
        print(f"CPU of both answers (app and its workers, start-up CPU taken off): {cpu:.1f} s", flush=True)
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
