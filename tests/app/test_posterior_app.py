"""``townsim app --posterior DIR --draws K``: a real Run over HTTP whose county answer carries the
parameter-inclusive interval and the variance split; a bad posterior folder stops the start (exit 2)."""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim.cli import main
from tests.calibration import conftest as calibration_fixtures
from tests.hostile.test_corpus_app import CANDIDATES, TINY_BUSES, _good, _request

APP = [sys.executable, "-m", "sim.cli", "app", str(TINY_BUSES), "--candidates", str(CANDIDATES)]
# the county records and tiny calibration fixtures, shared with tests/calibration
tiny_records = calibration_fixtures.tiny_records
tiny_posterior = calibration_fixtures.tiny_posterior


def _start(folder: Path, *extra: str) -> tuple[subprocess.Popen[str], int, str]:
    proc = subprocess.Popen(
        [*APP, "--port", "0", "--folder", str(folder / "work"), "--workers", "1", *extra],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:  # type: ignore[union-attr]
        hit = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]+)", line)
        if hit:
            return proc, int(hit.group(1)), hit.group(2)
    proc.wait(timeout=30)
    raise AssertionError(proc.stderr.read())  # type: ignore[union-attr]


def test_a_run_with_posterior_answers_with_the_parameter_inclusive_interval(
    tiny_posterior: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proc, port, token = _start(tmp_path, "--posterior", str(tiny_posterior), "--draws", "2")
    try:
        run = {"edits": {"lines": ["cand_w2_east"]}, "replications": 4, "days": 7}
        status, started = _request(port, "POST", "/api/run", json.dumps(run).encode(), _good(token))
        assert status == 200 and started is not None, started
        job: dict[str, Any] = {}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            path = f"/api/job/{started['job']}"
            status, got = _request(port, "GET", path, headers={"X-Townsim-Token": token})
            assert status == 200 and got is not None
            job = got
            if job["state"] != "running":
                break
            time.sleep(0.5)
        assert job["state"] == "done", job
        assert (job["done"], job["total"]) == (8, 8)  # 2 draws x 2 seeds x (base, plan)
        post = job["results"]["answer"]["posterior"]
        assert post["draws"] == 2 and post["replications_per_draw"] == 2
        burden = next(m for m in post["metrics"] if m["metric"] == "burden_min.mean")
        assert burden["ci_low"] <= burden["mean_diff"] <= burden["ci_high"]
        assert 0 <= burden["share_parameter"] <= 1
        en = post["sentences"]["en"][0]
        assert en.startswith("The plan would change mean burden per errand by ")
        assert "including parameter uncertainty" in en and "comes from the parameters" in en
        assert "含参数不确定性" in post["sentences"]["zh"][0]
        (command,) = job["commands"]
        assert "--posterior" in command and "--draws 2 --replications 2" in command
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            stream.close()  # type: ignore[union-attr]
    # the command the page shows gives the page's numbers (same draws, same seeds)
    plan = tmp_path / "work" / "plans" / f"{job['plan']}.yaml"
    argv = shlex.split(command.replace(f"--overlay-b {plan.name}", f"--overlay-b {plan}"))[1:]
    assert main([*argv, "--workers", "1", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("metric")
    assert table.loc["burden_min.mean", "mean_diff"] == pytest.approx(burden["mean_diff"])
    assert table.loc["burden_min.mean", "ci_high"] == pytest.approx(burden["ci_high"])


@pytest.mark.parametrize("damage", ["missing", "empty", "no_posterior"])
def test_a_bad_posterior_folder_stops_the_start(damage: str, tiny_posterior: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cal"
    if damage != "missing":
        bad.mkdir()
    if damage == "no_posterior":
        for name in ("calibration.json", "experiment.yaml"):
            (bad / name).write_bytes((tiny_posterior / name).read_bytes())
    done = subprocess.run(
        [*APP, "--port", "0", "--folder", str(tmp_path / "work"), "--posterior", str(bad)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "--posterior" in done.stderr and str(bad) in done.stderr
    assert "serving" not in done.stdout
