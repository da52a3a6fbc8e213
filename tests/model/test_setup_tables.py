"""Tables the model prepares once, checked against brute force: mode-ownership patterns, resident
cells, bus feasibility per kind of day and the facilities that receive visitors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.metrics.access import resident_cells
from sim.model.choice import owns_patterns, round_trip_cost_min
from sim.model.model import AccessModel
from sim.scenario.load import load_scenario
from sim.world.world import FACILITY_KINDS
from tests.conftest import SCENARIOS, TINY_MERGED


def test_owns_patterns_are_the_distinct_columns() -> None:
    rng = np.random.default_rng(5)
    owns = rng.random((4, 500)) < 0.5
    pattern, table = owns_patterns(owns)
    assert table.shape[1] == 4 and len(table) == len({tuple(c) for c in owns.T})
    assert (table[pattern] == owns.T).all()  # every resident's row is their own modes
    assert len({tuple(r) for r in table}) == len(table)  # each pattern once


def test_round_trip_cost_is_both_ways_with_money_as_minutes() -> None:
    cost = round_trip_cost_min(np.array([10.0, 0.0]), np.array([3.0, 1.5]), value_of_time_yuan_per_h=18.0)
    assert np.allclose(cost, [2 * 10 + 2 * 3 * 60 / 18, 2 * 1.5 * 60 / 18])


def test_resident_cells_group_residents_as_a_groupby_does() -> None:
    model = AccessModel(load_scenario(TINY_MERGED), seed=3)
    res, w = model.residents, model.world
    cells = resident_cells(model)
    assert np.isclose(cells.weight.sum(), res.weight.sum())
    owns_key = [tuple(c) for c in res.owns.T]
    frame = pd.DataFrame({"owns": owns_key, "village": res.village, "band": res.band, "w": res.weight})
    expected = frame.groupby(["owns", "village", "band"])["w"].sum()
    live = cells.weight > 0
    got = pd.Series(
        cells.weight[live],
        index=pd.MultiIndex.from_arrays(
            [[tuple(c) for c in cells.owns[:, live].T], cells.village[live], cells.band[live]],
            names=["owns", "village", "band"],
        ),
    ).sort_index()
    pd.testing.assert_series_equal(got, expected.sort_index(), check_names=False, check_index_type=False)
    assert (cells.unit == w.village_unit[cells.village]).all()


def test_bus_feasibility_by_day_kind_equals_each_weekday_computed_alone() -> None:
    model = AccessModel(load_scenario(SCENARIOS / "tiny" / "buses.yaml"), seed=1)
    bus, w = model.bus, model.world
    assert bus is not None
    latest = np.maximum(w.fac_close_wd - model.behaviour.latest_arrival_before_close_min, w.fac_open_wd)
    day_kind, feasible = bus.feasible_by_day_kind(w, latest)
    assert len(day_kind) == 7 and feasible.shape[0] == day_kind.max() + 1
    for d in range(7):
        alone = bus.feasible(int(bus.weekday_pattern[d]), w, latest[:, d])
        assert (feasible[day_kind[d]] == alone).all(), d


def test_facilities_receiving_visitors_have_servers_and_are_not_schools() -> None:
    w = AccessModel(load_scenario(TINY_MERGED), seed=1).world
    school = FACILITY_KINDS.index("school")
    for i in range(len(w.fac_ids)):
        assert w.fac_receives_visitors[i] == (w.fac_kind[i] != school and w.fac_servers[i] > 0)
    assert w.fac_receives_visitors.any() and not w.fac_receives_visitors.all()
