"""End-to-end calibrations on the tiny county through real local worker processes: outputs,
resuming (a second call and a Ctrl-C'd command lose and repeat nothing), and --apply."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.calibration.engine import calibrate
from sim.cli import main
from sim.scenario.load import load_scenario
from sim.sweep.store import SweepStore
from tests.calibration.conftest import WriteCalibration
from tests.conftest import ROOT, TINY
from tests.sweep.test_dask import dask_cluster  # noqa: F401 (fixture: a real scheduler and two workers)

PARAMETERS = [
    "services.clinic.rate_per_person_year",
    "facility_defaults.hall.service_time.mean_min",
    "behaviour.logit_scale_per_min",
]


def _stored(out: Path) -> pd.DataFrame:
    return SweepStore(out).read_rows(latest=False)


def test_calibrate_writes_posterior_summary_figures_and_resumes(
    write_calibration: WriteCalibration, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_calibration()
    out = tmp_path / "cal"
    assert main(["calibrate", str(path), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "90% interval" in printed and "2 waves" in printed
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == [*PARAMETERS, "weight"]
    assert posterior["weight"].sum() == pytest.approx(1.0) and len(posterior) == 100
    summary = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    for name in PARAMETERS:
        p = summary["parameters"][name]
        low, high = p["prior"]["range"]
        assert low <= p["posterior_q05"] <= p["posterior_median"] <= p["posterior_q95"] <= high
    assert [w["runs"] for w in summary["waves"]] == [8, 8]
    assert 0 < summary["waves"][0]["space_share_after"] <= 1
    assert summary["abc_smc"]["tolerances"][-1] == 1.0
    predictive = pd.read_csv(out / "predictive.csv")
    assert len(predictive) == summary["statistics"]["used"] and predictive["simulated_q05"].notna().any()
    for lang in ("en", "zh"):
        for fig in ("posterior_pairs", "implausibility_by_wave", "predictive_check"):
            assert (out / "figures" / lang / f"{fig}.png").stat().st_size > 1000
    report = tmp_path / "report.html"
    assert main(["report", str(out), "--out", str(report), "--lang", "en"]) == 0
    html = report.read_text(encoding="utf-8")
    assert "History-matching waves" in html and "services.clinic.rate_per_person_year" in html
    assert html.count("data:image/png;base64") == 3
    rows = _stored(out)
    # 4 replicate runs (3 + the design seed), 2 waves of 8, 2 predictive runs; each stored once
    assert len(rows) == 4 + 16 + 2 and rows["run_key"].is_unique and (rows["status"] == "ok").all()

    # A second call re-derives the same waves from the stored runs: nothing runs again.
    seen: list[str] = []
    again = calibrate(path, out=out, workers=2, progress=lambda stage, state: seen.append(stage))
    assert seen == [] and len(_stored(out)) == len(rows)
    assert pd.read_parquet(out / "posterior.parquet").equals(posterior)
    assert again.wave_rows[1]["runs"] == 8

    # --apply: an overlay of the medians that loads on the base scenario, never over a user's file
    overlay = tmp_path / "calibrated.yaml"
    assert main(["calibrate", "--apply", str(out), "--out", str(overlay)]) == 0
    text = overlay.read_text(encoding="utf-8")
    assert "calibration 'tiny_cal'" in text
    loaded = load_scenario(TINY, overlays=[overlay])
    median = summary["parameters"]["facility_defaults.hall.service_time.mean_min"]["posterior_median"]
    assert loaded.scenario.facility_defaults["hall"].service_time.mean_min == pytest.approx(median)
    scale = summary["parameters"]["services.clinic.rate_per_person_year"]["posterior_median"]
    assert loaded.scenario.services["clinic"].rate_per_person_year["60+"] == pytest.approx(5.0 * scale)
    assert "sample_fraction" not in yaml.safe_load(text).get("simulation", {})
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n", encoding="utf-8")
    assert main(["calibrate", "--apply", str(out), "--out", str(mine)]) == 2
    assert mine.read_text(encoding="utf-8") == "name: mine\n"


def test_interrupted_calibration_resumes_without_duplicates(
    write_calibration: WriteCalibration, tmp_path: Path
) -> None:
    path = write_calibration(
        method={"waves": 1, "runs_per_wave": 64, "noise_runs": 3, "check_runs": 0, "particles": 100}
    )
    out = tmp_path / "cal"
    log = tmp_path / "log.txt"
    args = [
        sys.executable,
        "-m",
        "sim.cli",
        "calibrate",
        str(path),
        "--out",
        str(out),
        "--workers",
        "1",
        "--quiet",
    ]
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            args,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        # Ctrl-C once the 4 noise runs are stored, while the 64 design runs (several seconds) run
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if out.is_dir() and len(_stored(out)) >= 4:
                break
            time.sleep(0.05)
        assert proc.poll() is None, log.read_text()
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=60) == 130, log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stored = len(_stored(out))
    assert 4 <= stored < 4 + 64
    assert not (out / ".sweep.lock").exists() and not (out / "posterior.parquet").exists()
    state = calibrate(path, out=out, workers=2)
    rows = _stored(out)
    assert len(rows) == 4 + 64 and rows["run_key"].is_unique
    assert state.posterior is not None and (out / "posterior.parquet").is_file()


def test_calibration_on_a_real_scheduler_survives_a_killed_worker(
    write_calibration: WriteCalibration,
    tmp_path: Path,
    dask_cluster: tuple[str, list[subprocess.Popen[bytes]]],  # noqa: F811 (the imported fixture)
) -> None:
    address, workers = dask_cluster
    path = write_calibration(
        method={"waves": 1, "runs_per_wave": 8, "noise_runs": 3, "check_runs": 0, "particles": 100}
    )
    out = tmp_path / "cal"
    victim = workers[0]

    def kill_one_worker(stage: str, state: object) -> None:
        if stage == "wave 1" and victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()

    state = calibrate(path, out=out, scheduler=address, progress=kill_one_worker)
    assert victim.poll() is not None and state.lost == 0
    rows = _stored(out)
    assert len(rows) == 4 + 8 and rows["run_key"].is_unique and (rows["status"] == "ok").all()
    assert (out / "posterior.parquet").is_file()
