"""Without a C compiler the model runs its Python/numpy loops: the same tables as the compiled ones.

The unit tests compare each compiled function with its Python version on random inputs; this test
runs the model both ways (bus journey tables included) on the Pingtan health tiers with buses, the
frail elderly and vehicle capacity (large choice sets, multi-window queues and full vehicles all
occur), a few days."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.model import choice, queue, streams
from sim.model.model import AccessModel
from sim.results.result import TABLES
from sim.results.tables import build_result
from sim.scenario.load import load_scenario
from sim.transit import capacity, csa
from sim.transit import tables as bus_tables
from tests.conftest import SCENARIOS

PINGTAN = SCENARIOS / "pingtan"


def _tables(days: int) -> dict[str, pd.DataFrame]:
    loaded = load_scenario(
        PINGTAN / "merged_2021_health.yaml",
        overlays=[PINGTAN / f"{name}.yaml" for name in ("merged_2021_buses", "elderly", "capacity")],
        overrides={"simulation.warmup_days": 2},
    )
    model = AccessModel(loaded, seed=5)
    model.run(days)
    assert model.capacity is not None and any(v.left_behind.any() for v in model.capacity.log.values())
    result = build_result(model)
    return {name: getattr(result, name) for name in TABLES}


def test_the_python_loops_give_the_compiled_loops_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    if queue._compiled is None or choice._compiled is None or capacity._compiled is None:
        pytest.skip("installed without a C compiler: only the Python loops exist")
    compiled = _tables(4)
    monkeypatch.setattr(queue, "_compiled", None)
    monkeypatch.setattr(streams, "_compiled", None)
    monkeypatch.setattr(capacity, "_compiled", None)
    monkeypatch.setattr(csa, "_compiled", None)  # connection scans, journeys traced
    monkeypatch.setattr(bus_tables, "_compiled", None)  # slot tables' distinct journeys
    monkeypatch.setattr(choice, "row_totals", choice.row_totals_numpy)
    monkeypatch.setattr(choice, "row_pick", choice.row_pick_numpy)
    monkeypatch.setattr(choice, "scaled_pick", choice.scaled_pick_numpy)
    monkeypatch.setattr(choice, "kept_pick", choice.kept_pick_numpy)
    python = _tables(4)
    for name in TABLES:
        pd.testing.assert_frame_equal(python[name], compiled[name], check_exact=True)
