"""The code gates run in CI: ruff (style, complexity 15, Google docstrings, formatting) over the code
and mypy over the whole package, strict on the results contract, the metrics and the public API
(configured in pyproject.toml); the same checks as ``make lint``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent
#: Packages mypy checks strictly ([[tool.mypy.overrides]] in pyproject.toml).
STRICT = ("sim/results", "sim/metrics", "sim/api.py")


def _tool(name: str) -> str:
    path = BIN / name if (BIN / name).is_file() else shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]' installs it)")
    return str(path)


def test_ruff_passes_with_complexity_and_docstring_rules() -> None:
    done = subprocess.run(
        [_tool("ruff"), "check", "--no-cache", "sim", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_gate_is_configured_and_bites(tmp_path: Path) -> None:
    """The configured rules reject a function over complexity 15 and a public function without a docstring."""
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(16))
    bad = tmp_path / "bad.py"
    bad.write_text(f'"""Module."""\n\n\ndef tangled(x: int) -> int:\n{branches}\n    return -1\n')
    done = subprocess.run(
        [_tool("ruff"), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(bad)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "C901" in done.stdout and "D103" in done.stdout


def test_mypy_strict_on_results_metrics_and_api() -> None:
    done = subprocess.run(
        [_tool("mypy"), *STRICT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # errors of modules outside the strict packages (imported by them) are the non-strict gate's
    mine = [line for line in done.stdout.splitlines() if line.startswith(STRICT) and ": error:" in line]
    assert mine == [], "\n".join(mine)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed (config, crash)


def test_ruff_format_leaves_the_package_unchanged() -> None:
    done = subprocess.run(
        [_tool("ruff"), "format", "--check", "--no-cache", "sim"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_passes_over_the_whole_package() -> None:
    """``mypy sim`` with the pyproject configuration, as ``make lint`` runs it: an error in any module
    (not only the strict packages) fails."""
    done = subprocess.run(
        [_tool("mypy"), "sim"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
