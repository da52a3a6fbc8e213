"""Travel tables against networkx shortest paths; closing a facility never helps anyone."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import AccessModel
from sim.results.tables import access_times
from sim.routing import accumulate_along_tree, build_travel_tables
from sim.scenario import load_scenario
from sim.world import build_world
from tests.conftest import TINY, TINY_MERGED


@pytest.fixture(scope="module")
def world_tables():
    world = build_world(load_scenario(TINY_MERGED))
    return world, build_travel_tables(world)


def test_times_and_distances_match_networkx(world_tables) -> None:
    world, tables = world_tables
    sc = world.loaded.scenario
    for m, name in enumerate(tables.modes):
        mode = sc.modes[name]
        graph = nx.Graph()
        for u, v, d in world.graph.edges(data=True):
            t = (
                d["time_min"]
                if d["road_class"] == "ferry"
                else 60 * d["length_km"] / mode.speed_kph[d["road_class"]]
            )
            graph.add_edge(u, v, t=t)
        for vi, village in enumerate(world.village_ids):
            lengths = nx.single_source_dijkstra_path_length(graph, village, weight="t")
            paths = nx.single_source_dijkstra_path(graph, village, weight="t")
            for fi, node in enumerate(world.fac_node):
                target = world.nodes[node]
                assert tables.time_min[m, vi, fi] == pytest.approx(
                    lengths[target] + mode.access_min, abs=1e-4
                )
                path = paths[target]
                km = sum(
                    world.graph.edges[a, b]["length_km"] for a, b in itertools.pairwise(path)
                )
                assert tables.distance_km[m, vi, fi] == pytest.approx(km, abs=1e-6)


def test_ferry_fare_is_in_the_money() -> None:
    world = build_world(load_scenario(TINY))
    tables = build_travel_tables(world)
    walk = tables.modes.index("walk")
    i1 = world.village_ids.index("i1")
    east_hall = world.fac_ids.index("east_hall")
    assert tables.money_yuan[walk, i1, east_hall] == pytest.approx(
        10.0
    )  # walking costs nothing but the ferry


@given(st.integers(min_value=2, max_value=40), st.integers(min_value=0, max_value=10_000))
@settings(max_examples=30, deadline=None)
def test_pointer_doubling_sums_along_random_trees(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    parent = np.array([-9999] + [int(rng.integers(0, i)) for i in range(1, n)])
    value = rng.uniform(0, 5, n)
    expected = np.zeros(n)
    for i in range(1, n):
        expected[i] = expected[parent[i]] + value[i]
    got = accumulate_along_tree(parent[None, :], value[None, :])[0]
    np.testing.assert_allclose(got, expected)


ALL_FACILITIES = list(load_scenario(TINY).scenario.facilities)


@given(st.sets(st.sampled_from(ALL_FACILITIES), min_size=1, max_size=4))
@settings(max_examples=25, deadline=None)
def test_closing_facilities_never_shortens_uncongested_travel(closed: set[str]) -> None:
    before = access_times(AccessModel(load_scenario(TINY), seed=1))
    overrides = {f"merger.facilities.{f}": {"action": "close"} for f in closed}
    after = access_times(AccessModel(load_scenario(TINY, overrides=overrides), seed=1))
    for service, minutes in before.items():
        assert np.all(after[service] >= minutes - 1e-9)
