"""Every scenario shipped in scenarios/ loads, validates and runs a few days."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.runner import run_scenario
from tests.conftest import SCENARIOS


def _scenario_files() -> list[Path]:
    """YAML files that are scenarios (they have a name or extend one), not other data."""
    files = []
    for path in sorted(SCENARIOS.rglob("*.yaml")):
        top = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if "name" in top or "extends" in top:
            files.append(path)
    return files


@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_scenario_runs_a_few_days(path: Path) -> None:
    _, result = run_scenario(path, days=3, overrides={"simulation.sample_fraction": 0.05})
    assert len(result.trips) > 0
    measured = result.errands["arise_day"] >= 0  # errands of the warm-up are not measured
    assert result.summary.errands.arisen == int(measured.sum())


def test_pingtan_population_is_the_census_figure() -> None:
    loaded, result = run_scenario(SCENARIOS / "pingtan" / "merged_2021.yaml", days=1)
    assert result.summary.population == 385_981
    assert len(result.residents) == 385_981
    assert len({u for u in loaded.scenario.units}) == 15
    assert result.residents["unit"].nunique() == 7
