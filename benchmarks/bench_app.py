"""Benchmark of ``townsim app``: start-up, and answers to changed Pingtan plans (10 replications x 91 days).

Usage: .venv/bin/python benchmarks/bench_app.py [--repeat N] [--answer-repeat M] [--replications R]
       [--days D] [--workers W] [--skip-answers]

1. Start-up: from launching ``townsim app`` (a fresh process, default Pingtan scenario and
   candidates, a fresh working folder) until the page and its data (``/`` and ``/api/init``) have
   been served: wall seconds, and CPU seconds of the app process up to then (user + system).
2. Answers, in each of M (default N) fresh apps: the time from pressing Run (POST /api/run) until the results
   are ready, for (a) a first changed plan (a candidate line on: base and plan, 2 x R runs) and
   (b) a second changed plan (more windows at the Tancheng hall; the base is reused, R runs).
   The app makes the base's replications with the page's defaults from the moment the page is
   served; ``--think S`` presses the first Run S seconds after that (the planner's first edit).
   CPU seconds of each answer are those of the app and its worker processes (from /proc), so
   CPU / cores is the wall time the answer needs on an otherwise idle machine.

Every figure is printed as median, min and max over the N repetitions, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
FIRST_PLAN = {"lines": ["cand_liushui_tancheng"]}
SECOND_PLAN = {"facilities": {"hall_tancheng": {"action": "restaff", "servers": "19"}}}


def _cpu(pid: int) -> float:
    """CPU seconds of a process and of its children it has waited for (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK  # utime stime cutime cstime


#: Headers of every API request: the token the app printed at start.
HEADERS: dict[str, str] = {}


def _start(folder: Path, workers: int | None) -> tuple[subprocess.Popen[str], str, float, float]:
    """A fresh app; returns it, its URL, wall and CPU seconds until page and data were served."""
    cmd = [sys.executable, "-m", "sim.cli", "app", "--port", "0", "--folder", str(folder)]
    if workers:
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = ""
    for line in proc.stdout:  # type: ignore[union-attr]
        hit = re.search(r"serving (http://\S+/)\?token=(\S+)", line)
        if hit:
            url = hit.group(1)
            HEADERS["X-Townsim-Token"] = hit.group(2)  # the page's per-start token
            break
    if not url:
        raise SystemExit("townsim app did not start")
    urllib.request.urlopen(url).read()
    urllib.request.urlopen(urllib.request.Request(url + "api/init", headers=HEADERS)).read()
    wall = time.perf_counter() - t0
    return proc, url, wall, _cpu(proc.pid)


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **HEADERS}
    )
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def _answer(url: str, pid: int, edits: dict, reps: int, days: int) -> tuple[float, float, dict]:
    """Wall and CPU seconds (app and workers) from pressing Run to the results; the job's status."""
    cpu0, t0 = _cpu(pid), time.perf_counter()
    job = _post(url + "api/run", {"edits": edits, "replications": reps, "days": days})["job"]
    while True:
        time.sleep(0.2)
        with urllib.request.urlopen(urllib.request.Request(f"{url}api/job/{job}", headers=HEADERS)) as resp:
            status = json.loads(resp.read())
        if status["state"] != "running":
            break
    wall = time.perf_counter() - t0
    if status["state"] != "done":
        raise SystemExit(f"run ended {status['state']}: {status['error']}")
    time.sleep(0.5)  # the pool has joined its workers: their CPU is in the app's children's
    return wall, _cpu(pid) - cpu0, status


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=60)
    proc.stdout.close()  # type: ignore[union-attr]


def _line(label: str, values: list[float], unit: str = "s") -> str:
    return (
        f"{label}: median {statistics.median(values):.2f} {unit} "
        f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"
    )


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="start-ups (and answers) to take the median of")
    ap.add_argument("--answer-repeat", type=int, default=None, help="answer repetitions (default --repeat)")
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--days", type=int, default=91)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--skip-answers", action="store_true", help="measure start-up only")
    ap.add_argument(
        "--think",
        type=float,
        default=3.0,
        help="seconds between the page being served and pressing Run, the planner's first edit "
        "(the app makes the base's replications meanwhile); default 3",
    )
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(
        f"machine: {cores} cores, Python {platform.python_version()}, {_load()} at start",
        flush=True,
    )
    r, d = args.replications, args.days
    with tempfile.TemporaryDirectory() as tmp:
        walls, cpus = [], []
        for i in range(args.repeat):
            proc, _, wall, cpu = _start(Path(tmp) / f"s{i}", args.workers)
            _stop(proc)
            walls.append(wall)
            cpus.append(cpu)
        print(_line("start-up (page and data served), wall", walls), flush=True)
        print(_line("start-up, CPU of the app process", cpus), flush=True)
        print(_load(), flush=True)
        if args.skip_answers:
            return
        got: dict[str, list[float]] = {k: [] for k in ("w1", "c1", "w2", "c2")}
        for i in range(args.answer_repeat or args.repeat):
            proc, url, _, _ = _start(Path(tmp) / f"a{i}", args.workers)
            try:
                time.sleep(args.think)  # the planner edits; the app warms its runner and the base
                w1, c1, status = _answer(url, proc.pid, FIRST_PLAN, r, d)
                w2, c2, _ = _answer(url, proc.pid, SECOND_PLAN, r, d)
            finally:
                _stop(proc)
            for k, v in (("w1", w1), ("c1", c1), ("w2", w2), ("c2", c2)):
                got[k].append(v)
            county = next(
                x
                for x in status["results"]["by_unit"]
                if x["group"] == "ALL" and x["metric"] == "burden_mean_min"
            )
            print(
                f"  repetition {i + 1}: first {w1:.1f} s wall / {c1:.1f} s CPU, "
                f"second {w2:.1f} s / {c2:.1f} s; "
                f"county burden change (line) {county['mean_diff']:+.2f} min, "
                f"95% CI {county['ci_low']:+.2f} .. {county['ci_high']:+.2f}; {_load()}",
                flush=True,
            )
        print(f"first changed plan pressed {args.think:g} s after the page was served")
        print(_line(f"first changed plan ({2 * r} runs of {d} days), wall", got["w1"]))
        print(_line("first changed plan, CPU (app + workers)", got["c1"]))
        print(_line(f"first changed plan, CPU / {cores} cores", [c / cores for c in got["c1"]]))
        print(_line(f"second changed plan (base reused; {r} runs), wall", got["w2"]))
        print(_line("second changed plan, CPU (app + workers)", got["c2"]))
        print(_line(f"second changed plan, CPU / {cores} cores", [c / cores for c in got["c2"]]))
    print(f"{_load()} at end")


if __name__ == "__main__":
    main()
