"""Ctrl-C on a sweep: the terminal sends SIGINT to the whole process group; one line, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, SCENARIOS

SWEEP = [sys.executable, "-m", "sim.cli", "sweep"]


def test_ctrl_c_on_a_sweep_prints_one_line(tmp_path: Path) -> None:
    text = (ROOT / "experiments" / "tiny_grid.yaml").read_text(encoding="utf-8")
    exp = tmp_path / "exp.yaml"
    exp.write_text(text.replace("../scenarios/", f"{SCENARIOS}/").replace("days: 14", "days: 3000"), "utf-8")
    proc = subprocess.Popen(
        [*SWEEP, str(exp), "--out", str(tmp_path / "out"), "--workers", "2", "--quiet"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, as a shell job: SIGINT goes to the workers too
    )
    deadline = time.monotonic() + 60
    while not list((tmp_path / "out").glob("plan.parquet")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3.0)  # runs are under way on the workers
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["townsim: interrupted"], err
