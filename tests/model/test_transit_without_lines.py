"""A ``transit:`` block with no lines and no GTFS feed runs nothing: the run is the run without it."""

from __future__ import annotations

import pandas as pd

from sim.model.model import AccessModel
from sim.results.result import TABLES
from sim.results.tables import build_result
from sim.scenario.load import load_scenario
from tests.conftest import TINY_MERGED


def test_capacity_without_lines_leaves_every_table_as_without_transit() -> None:
    plain = load_scenario(TINY_MERGED)
    with_block = load_scenario(
        TINY_MERGED, overrides={"transit": {"capacity": {"max_wait_min": 30}, "walk_max_km": 1.0}}
    )
    assert with_block.scenario.transit is not None and not with_block.scenario.transit.runs
    a, b = AccessModel(plain, seed=3), AccessModel(with_block, seed=3)
    a.run(20)
    b.run(20)
    assert b.bus is None and b.capacity is None and "bus" not in b.tables.modes
    ra, rb = build_result(a), build_result(b)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(rb, name), getattr(ra, name), check_exact=True)
