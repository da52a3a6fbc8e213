"""Common random numbers: two scenarios run with one seed differ only where the change acts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import AccessModel
from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import TINY_MERGED

DAYS = 56


def _line(stops: list[str], departures: list[str]) -> dict[str, Any]:
    return {
        "stops": stops,
        "along_road": True,
        "speed_kph": 25,
        "departures": departures,
        "fare_yuan": 2,
        "capacity": 40,
        "source": "assumed",
    }


def _overlay(tmp_path: Path, name: str, lines: dict[str, Any]) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"transit": {"lines": lines}}), encoding="utf-8")
    return path


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as strings (a run with transit has more categories, e.g. mode 'bus')."""
    return frame.assign(
        **{c: frame[c].astype(str) for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
    )


@pytest.fixture(scope="module")
def base_run():
    return run_scenario(TINY_MERGED, days=DAYS, seed=3)[1]


def test_a_bus_line_nobody_can_use_changes_nothing(base_run, tmp_path: Path) -> None:
    overlay = _overlay(tmp_path, "late_bus", {"late": _line(["w1", "seat:west", "seat:east"], ["22:30"])})
    _, with_line = run_scenario(TINY_MERGED, overlays=[overlay], days=DAYS, seed=3)
    assert (with_line.trips["mode"] == "bus").sum() == 0
    pd.testing.assert_frame_equal(_comparable(base_run.trips), _comparable(with_line.trips))
    pd.testing.assert_frame_equal(_comparable(base_run.errands), _comparable(with_line.errands))


def test_a_line_for_one_island_changes_few_rows(base_run, tmp_path: Path) -> None:
    """An hourly island bus (i2 - i1 - isle seat) touches islanders; mainland errands stay as they were."""
    hours = [f"{h:02d}:15" for h in range(7, 17)]
    overlay = _overlay(tmp_path, "isle_bus", {"isle": _line(["i2", "i1", "seat:isle"], hours)})
    _, with_line = run_scenario(TINY_MERGED, overlays=[overlay], days=DAYS, seed=3)
    assert (with_line.trips["mode"] == "bus").sum() > 0
    a, b = _comparable(base_run.errands), _comparable(with_line.errands)
    assert len(a) == len(b) and a[["errand", "resident", "service", "arise_day"]].equals(
        b[["errand", "resident", "service", "arise_day"]]
    )  # same needs, same people, same days
    changed = (a != b).any(axis=1).to_numpy()
    island = base_run.residents.set_index("resident")["island"].loc[a["resident"]].to_numpy()
    assert changed[island].mean() > 0.2  # the line matters to islanders ...
    assert changed[~island].mean() < 0.05  # ... and hardly to anyone else
    assert changed.mean() < 0.5 * changed[island].mean() + 0.05


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    servers=st.integers(1, 4),
    scale=st.floats(0.05, 0.4),
    choice=st.sampled_from(["logit", "nearest"]),
    seed=st.integers(0, 1000),
)
def test_needs_and_people_do_not_depend_on_the_rest_of_the_scenario(
    servers: int, scale: float, choice: str, seed: int
) -> None:
    base = load_scenario(TINY_MERGED)
    changed = load_scenario(
        TINY_MERGED,
        overrides={
            "merger.facilities.east_hall.servers": servers,
            "behaviour.logit_scale_per_min": scale,
            "behaviour.choice": choice,
        },
    )
    ma, mb = AccessModel(base, seed=seed), AccessModel(changed, seed=seed)
    for field in ("key", "village", "band", "owns"):
        assert np.array_equal(getattr(ma.residents, field), getattr(mb.residents, field))
    assert np.array_equal(ma.schools.resident, mb.schools.resident)
    ma.run(10)
    mb.run(10)
    assert _arisen(ma).equals(_arisen(mb))


def _arisen(model: AccessModel) -> pd.DataFrame:
    cols = model.errand_columns()  # one row per errand id
    return pd.DataFrame({name: cols[name] for name in ("resident", "service", "arise_day")})
