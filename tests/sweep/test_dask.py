"""Sweeps on real Dask processes: a LocalCluster, a scheduler with two worker processes, a killed
worker, an interrupted sweep resumed, and identical outcomes whichever worker ran a seed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.cli import main
from sim.sweep.experiment import load_experiment
from sim.sweep.plan import build_plan
from sim.sweep.runner import SweepProgress, run_sweep
from sim.sweep.store import SweepStore
from sim.sweep.task import run_task
from tests.conftest import ROOT
from tests.sweep.conftest import DASK, WriteExperiment, free_port

OUTCOMES = ["burden_mean_min", "burden_gini"]


def _assert_each_planned_run_stored_once(out: Path, planned: int) -> None:
    rows = SweepStore(out).read_rows(latest=False)
    assert len(rows) == planned and rows["run_key"].is_unique


def test_local_cluster_two_workers_records_failures_and_resumes(
    write_experiment: WriteExperiment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # knows_service_scope 1.5 is out of range: those 8 runs raise inside the worker.
    parameters = {
        "behaviour.knows_service_scope": {"values": [0.5, 1.5]},
        "behaviour.logit_scale_per_min": {"values": [0.1, 0.3]},
    }
    path = write_experiment(parameters=parameters)
    out = tmp_path / "sweep"
    report = run_sweep(path, out=out, workers=2)
    assert (report.planned, report.skipped, report.progress.done, report.progress.failed) == (16, 0, 16, 8)
    rows = SweepStore(out).read_rows()
    _assert_each_planned_run_stored_once(out, 16)
    failed = rows[rows["status"] == "failed"]
    assert (failed["behaviour.knows_service_scope"] == 1.5).all()
    assert failed["error"].str.contains("knows_service_scope").all()
    ok = rows[rows["status"] == "ok"]
    assert ok[OUTCOMES].notna().all().all() and ok["wall_time_s"].gt(0).all()
    assert rows["worker"].nunique() == 2

    # Identical seeds give identical outcomes whichever process ran them.
    tasks = {t.run_key: t for t in build_plan(load_experiment(path)).tasks}
    for _, row in ok.iterrows():
        again = run_task(tasks[row["run_key"]])
        assert [again[o] for o in OUTCOMES] == [row[o] for o in OUTCOMES]

    # Running again skips everything stored (failed runs included) without starting a cluster.
    again = run_sweep(path, out=out, workers=2)
    assert (again.skipped, again.progress.done) == (16, 0)
    # --retry-failed re-runs only the failures; the store still holds each run once.
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--retry-failed", "--quiet"]) == 0
    assert "16 runs planned, 8 already stored; ran 8 (8 failed)" in capsys.readouterr().out
    _assert_each_planned_run_stored_once(out, 16)

    assert main(["sweep-status", str(out)]) == 0
    status = capsys.readouterr().out
    assert "16 of 16 runs done (100%): 8 ok, 8 failed, 0 pending" in status
    assert "knows_service_scope" in status
    assert main(["analyze", str(out)]) == 0
    import pandas as pd

    points = pd.read_parquet(out / "analysis" / "points.parquet")
    assert len(points) == 4 * 2 * 2  # design points x levers x outcomes
    assert sorted(points["n"].unique()) == [0, 2]
    assert (out / "analysis" / "points.csv").is_file() and (out / "experiment.yaml").is_file()

    # analysis/ follows the ownership rule: re-analysing replaces townsim's unchanged tables, but
    # never a table the user edited or a file of their own there.
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 0
    notes = out / "analysis" / "notes.md"
    notes.write_text("mine", encoding="utf-8")
    assert main(["analyze", str(out)]) == 2
    assert "notes.md" in capsys.readouterr().err
    assert notes.read_text(encoding="utf-8") == "mine"
    notes.unlink()
    edited = out / "analysis" / "points.csv"
    edited.write_text(edited.read_text(encoding="utf-8") + "my,row\n", encoding="utf-8")
    assert main(["analyze", str(out)]) == 2
    assert edited.read_text(encoding="utf-8").endswith("my,row\n")


def _restore_sigint() -> None:
    """Undo SIG_IGN inherited from a non-interactive shell (CI), as a terminal user would have it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            args,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
            preexec_fn=_restore_sigint,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 (stopped afterwards)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _spawn(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        tmp_path / "scheduler.log",
    )
    worker_args = ["--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"]
    workers = [
        _spawn([str(DASK), "worker", address, *worker_args, "--name", f"w{i}"], tmp_path / f"worker{i}.log")
        for i in range(2)
    ]
    try:
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address, workers
    finally:
        for proc in [*workers, scheduler]:
            _stop(proc)


def test_real_scheduler_survives_a_killed_worker(
    write_experiment: WriteExperiment, tmp_path: Path, dask_cluster: tuple[str, list[subprocess.Popen[bytes]]]
) -> None:
    address, workers = dask_cluster
    path = write_experiment(replications=3, days=14)  # 24 runs
    out = tmp_path / "sweep"
    victim = workers[0]

    def kill_one_worker(state: SweepProgress) -> None:
        if state.done == 2 and victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()

    report = run_sweep(path, out=out, scheduler=address, progress=kill_one_worker)
    assert victim.poll() is not None
    assert (report.planned, report.progress.done + report.progress.lost) == (24, 24)
    assert report.progress.failed == 0 and report.progress.lost == 0
    _assert_each_planned_run_stored_once(out, 24)
    rows = SweepStore(out).read_rows()
    # which worker finished the first runs before the kill is up to the scheduler; all must be ok
    assert (rows["status"] == "ok").all()

    # The same seeds on the same scenario give the same outcomes as an in-process run.
    tasks = {t.run_key: t for t in build_plan(load_experiment(path)).tasks}
    row = rows.iloc[-1]
    assert [run_task(tasks[row["run_key"]])[o] for o in OUTCOMES] == [row[o] for o in OUTCOMES]


def test_interrupted_sweep_resumes_without_duplicates(
    write_experiment: WriteExperiment, tmp_path: Path
) -> None:
    path = write_experiment(replications=4, days=14)  # 32 runs
    out = tmp_path / "sweep"
    log = tmp_path / "sweep.log"
    args = [
        sys.executable,
        "-m",
        "sim.cli",
        "sweep",
        str(path),
        "--out",
        str(out),
        "--workers",
        "2",
        "--quiet",
    ]
    proc = _spawn(args, log)
    store = SweepStore(out)
    try:
        deadline = time.monotonic() + 60
        while not store.parts() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, log.read_text()
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=60) == 130, log.read_text()
    finally:
        _stop(proc)
    stored = len(store.read_rows(latest=False))
    assert 0 < stored < 32
    assert "interrupted" in log.read_text()
    assert not (out / ".sweep.lock").exists()

    report = run_sweep(path, out=out, workers=2)
    assert report.skipped == stored and report.progress.done == 32 - stored
    _assert_each_planned_run_stored_once(out, 32)
