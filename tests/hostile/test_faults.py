"""Faults with real signals and real processes: kills at random moments, concurrent writers, umask.

After SIGINT, SIGTERM or SIGKILL at any moment, ``--out`` is either absent, or the previous
complete output, or the new complete output; never a partial folder that looks complete. Hidden
staging leftovers (only after SIGKILL) are removed by the next writer.
"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.ownership import check_replaceable, output_lock, read_marker
from sim.replications import read_replications
from sim.results.io import read_run
from tests.conftest import ROOT, TINY

KINDS = {"run": "run", "figures": "figures", "report": "report", "replications": "replications"}


def _restore_sigint() -> None:
    """Undo SIG_IGN inherited from a non-interactive shell (CI), as a terminal user would have it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "sim.cli", *argv],
            stdout=subprocess.DEVNULL,
            stderr=handle,
            cwd=ROOT,
            preexec_fn=_restore_sigint,
        )


def _argv(command: str, out: Path, run: Path) -> list[str]:
    if command == "run":
        return ["run", str(TINY), "--days", "20", "--out", str(out), "--quiet"]
    if command == "replications":
        return [
            "run",
            str(TINY),
            "--days",
            "8",
            "--replications",
            "3",
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
        ]
    if command == "figures":
        return ["figures", str(run), "--format", "png", "--out", str(out)]
    return ["report", str(run), "--out", str(out)]


def _assert_absent_or_complete(out: Path, command: str) -> None:
    if not out.exists():
        return
    marker = read_marker(out)
    assert marker is not None, f"{out} exists without a complete marker"
    check_replaceable(out, KINDS[command])  # listed files all there, sizes as written
    if command == "run":
        read_run(out)
    if command == "replications":
        assert read_replications(out).n == 3


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.townsim-"))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "tiny"
    assert main(["run", str(TINY), "--days", "5", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.parametrize("command", ["run", "replications", "figures", "report"])
def test_signals_at_random_moments_never_leave_a_partial_output(
    command: str, tmp_path: Path, finished_run: Path
) -> None:
    out = tmp_path / ("report.html" if command == "report" else "out")
    started = time.monotonic()
    assert _spawn(_argv(command, out, finished_run), tmp_path / "first.log").wait(timeout=300) == 0
    lifetime = time.monotonic() - started
    _assert_absent_or_complete(out, command)
    rng = random.Random(f"faults-{command}")  # seeded: the same moments on every run of the test
    # caught signals first (each must clean up after itself), then SIGKILL (leaves hidden staging)
    for trial, sig in enumerate(
        [signal.SIGINT, signal.SIGTERM, signal.SIGTERM, signal.SIGKILL, signal.SIGKILL]
    ):
        proc = _spawn(_argv(command, out, finished_run), tmp_path / f"trial{trial}.log")
        time.sleep(rng.uniform(0.0, lifetime))
        proc.send_signal(sig)
        code = proc.wait(timeout=300)
        err = (tmp_path / f"trial{trial}.log").read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in err, err
        assert code in (0, 128 + sig, -sig), (code, err)
        _assert_absent_or_complete(out, command)
        if sig != signal.SIGKILL:
            assert _leftovers(out) == [], "a caught signal must clean up"
    # the next writer removes whatever a SIGKILL left behind
    assert _spawn(_argv(command, out, finished_run), tmp_path / "last.log").wait(timeout=300) == 0
    _assert_absent_or_complete(out, command)
    assert out.exists() and _leftovers(out) == []


def _children(pid: int) -> set[int]:
    """Process ids of ``pid``'s children (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_workers_of_a_killed_replicated_run_stop_at_once(tmp_path: Path) -> None:
    """SIGKILL to ``run --replications`` leaves no orphaned worker running on (and later printing
    a broken-pipe traceback): each worker exits within a second of its parent."""
    argv = ["run", str(TINY), "--days", "200", "--replications", "4", "--workers", "2"]
    proc = _spawn([*argv, "--out", str(tmp_path / "out"), "--quiet"], tmp_path / "kill.log")
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while not workers and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = _children(proc.pid)
    assert workers, "the replicated run started no worker processes"
    proc.kill()
    proc.wait(timeout=30)
    time.sleep(1.5)
    running = sorted(pid for pid in workers if _alive(pid))
    assert running == [], f"workers {running} kept running after their parent was killed"
    assert "Traceback" not in (tmp_path / "kill.log").read_text(encoding="utf-8", errors="replace")


def test_concurrent_writers_give_one_complete_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["run", str(TINY), "--days", "30", "--out", str(out), "--quiet"]
    procs = [_spawn(argv, tmp_path / f"w{i}.log") for i in range(3)]
    codes = [p.wait(timeout=300) for p in procs]
    logs = [(tmp_path / f"w{i}.log").read_text(encoding="utf-8") for i in range(3)]
    assert 0 in codes and set(codes) <= {0, 2}, (codes, logs)
    for code, log in zip(codes, logs, strict=True):
        if code == 2:
            assert "another townsim process" in log and "is writing this output" in log
    _assert_absent_or_complete(out, "run")
    assert _leftovers(out) == []


def test_a_locked_output_is_refused_with_a_clear_message(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    with output_lock(out):
        assert main(["run", str(TINY), "--days", "1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"pid {os.getpid()}" in err and "wait for it to finish or choose another --out" in err
    assert not out.exists()
    assert main(["run", str(TINY), "--days", "1", "--out", str(out), "--quiet"]) == 0


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_follow_the_users_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        out = tmp_path / "run"
        assert main(["run", str(TINY), "--days", "1", "--out", str(out), "--quiet"]) == 0
        report = tmp_path / "r.html"
        assert main(["report", str(out), "--out", str(report)]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    for path in [*out.iterdir(), report]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_a_sweep_removes_what_a_killed_sweep_left(tmp_path: Path) -> None:
    from sim.sweep.store import SweepStore

    store = SweepStore(tmp_path / "sweep")
    store.acquire()
    store.release()
    (store.results).mkdir()
    leftovers = [store.root / ".experiment.yaml.0a1b.tmp", store.results / ".part-x.parquet.0a1b.tmp"]
    for path in leftovers:
        path.write_bytes(b"half")
    (store.root / ".sweep.lock").write_text(f"{os.uname().nodename} 999999999", encoding="utf-8")  # killed
    store.acquire()
    store.release()
    assert not any(p.exists() for p in leftovers)
    assert read_marker(store.root) is not None


def test_an_old_sweep_folder_is_adopted_only_when_it_holds_nothing_else(tmp_path: Path) -> None:
    from sim.errors import SimError
    from sim.sweep.store import SweepStore

    root = tmp_path / "study"
    (root / "results").mkdir(parents=True)
    (root / "analysis").mkdir()
    files = ["experiment.yaml", "plan.parquet", "results/part-20240101T000000-0a1b2c3d.parquet"]
    files += ["analysis/points.csv", "analysis/points.parquet"]
    for name in files:
        (root / name).write_bytes(b"old townsim")
    (root / "notes.md").write_text("mine", encoding="utf-8")
    store = SweepStore(root)
    with pytest.raises(SimError, match=r"older townsim.*--adopt"):
        store.acquire()
    with pytest.raises(SimError, match=r"'notes\.md'.*not adopted"):
        store.acquire(adopt=True)
    assert read_marker(root) is None and (root / "notes.md").read_text(encoding="utf-8") == "mine"
    (root / "notes.md").unlink()
    store.acquire(adopt=True)
    store.release()
    marker = read_marker(root)
    assert marker is not None and marker["kind"] == "sweep"
    assert all((root / name).read_bytes() == b"old townsim" for name in files)
