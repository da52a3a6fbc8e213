"""Shared fixtures: scenario paths, a writer for broken variants, small finished runs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
TINY = SCENARIOS / "tiny" / "baseline.yaml"
TINY_MERGED = SCENARIOS / "tiny" / "merged.yaml"


@pytest.fixture
def tiny_raw() -> dict[str, Any]:
    """The tiny baseline as a plain mapping (a fresh copy per test)."""
    return copy.deepcopy(yaml.safe_load(TINY.read_text(encoding="utf-8")))


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[[dict[str, Any], str], Path]:
    """Write a mapping as a scenario YAML file in a temporary folder and return its path."""

    def write(raw: dict[str, Any], name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write
