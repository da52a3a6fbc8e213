"""A write that fails part-way (the file-size limit, as a full disk would): every writer names its
output, exits 2, and leaves nothing behind (no partial output, no hidden staging or lock file).

The limit is the process's RLIMIT_FSIZE with SIGXFSZ ignored, so writes fail with EFBIG exactly
where a full disk fails with ENOSPC (both take the same path).
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import SCENARIOS, TINY, TINY_MERGED

LIMIT_BYTES = 256


def _limited() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "tiny"
    assert main(["run", str(TINY), "--days", "3", "--out", str(out), "--quiet"]) == 0
    return out


# (id, argv given the output folder and a finished run, the output named in the message)
CASES: list[tuple[str, Callable[[Path, Path], list[str]], str]] = [
    ("run", lambda o, r: ["run", str(TINY), "--days", "3", "--out", str(o / "run"), "--quiet"], "run"),
    (
        "replications",
        lambda o, r: [
            "run",
            str(TINY),
            "--days",
            "1",
            "--replications",
            "2",
            "--out",
            str(o / "reps"),
            "--quiet",
        ],
        "reps",
    ),
    ("access", lambda o, r: ["access", str(TINY), "--out", str(o / "access.json")], "access.json"),
    ("gis", lambda o, r: ["gis", str(r), "--out", str(o / "gis")], "gis"),
    ("report", lambda o, r: ["report", str(r), "--out", str(o / "report.html")], "report.html"),
    ("figures", lambda o, r: ["figures", str(r), "--out", str(o / "figs"), "--format", "png"], "figs"),
    (
        "export_gtfs",
        lambda o, r: ["export-gtfs", str(SCENARIOS / "tiny" / "buses.yaml"), str(o / "feed")],
        "feed",
    ),
    (
        "merger_effect_csv",
        lambda o, r: ["merger-effect", "--before", str(r), "--after", str(r), "--csv", str(o / "e.csv")],
        "e.csv",
    ),
    (
        "plan_facilities",
        lambda o, r: [
            "plan-facilities",
            str(TINY_MERGED),
            "--kind",
            "hall",
            "--p",
            "2",
            "--check-days",
            "0",
            "--out",
            str(o / "plan.yaml"),
        ],
        "TMPDIR",  # the solver's temporary files are written first
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_failed_write_names_the_output_and_leaves_nothing(
    case: tuple[str, Callable[[Path, Path], list[str]], str], tmp_path: Path, run: Path
) -> None:
    _, argv, name = case
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", *argv(out, run)],
        capture_output=True,
        text=True,
        preexec_fn=_limited,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("townsim: error: "), done.stderr
    if name == "TMPDIR":
        assert tempfile.gettempdir() in message and name in message, message
    else:
        assert str(out / name) in message and "nothing was written" in message, message
    assert sorted(p.name for p in out.iterdir()) == []  # hidden staging and lock files too
