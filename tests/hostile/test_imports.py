"""Read-only commands import only what they use: reading run folders never loads Mesa or the model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import ROOT, TINY, TINY_MERGED

PROBE = """
import json, sys
from sim.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("mesa", "sim.model.model", "sim.runner", "sim.results.tables") if m in sys.modules)
print("PROBE", json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    a, b = root / "a", root / "b"
    assert main(["run", str(TINY), "--days", "2", "--out", str(a), "--quiet"]) == 0
    assert main(["run", str(TINY_MERGED), "--days", "2", "--out", str(b), "--quiet"]) == 0
    return a, b


@pytest.mark.parametrize(
    "command",
    [
        ["compare", "{a}", "{b}"],
        ["compare", "{a}", "{b}", "--format", "json"],
        ["figures", "{a}", "--vs", "{b}", "--format", "png", "--out", "{out}"],
        ["report", "{a}", "--out", "{out}.html"],
        ["merger-effect", "--before", "{a}", "--after", "{b}"],
    ],
    ids=["compare", "compare-json", "figures", "report", "merger-effect"],
)
def test_reading_run_folders_needs_no_model(
    command: list[str], runs: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = runs
    argv = [part.format(a=a, b=b, out=tmp_path / "out") for part in command]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT, check=False
    )
    probe = [line for line in proc.stderr.splitlines() if line.startswith("PROBE ")]
    assert probe, proc.stderr
    result = json.loads(probe[-1].removeprefix("PROBE "))
    assert result == {"code": 0, "heavy": []}, proc.stderr
