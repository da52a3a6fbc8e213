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
    loaded = load_scenario(TINY_MERGED)
    world = build_world(loaded)
    return world, build_travel_tables(world, loaded.scenario.modes), loaded.scenario.modes


def reference_tables(world, modes) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """networkx Dijkstra on a MultiDiGraph of the world's edges (two-way edges both ways): per mode,
    (villages, facilities) mean of there and back of minutes and km (km of the fastest parallel edge)."""
    e = world.edges
    out = {}
    for name, mode in modes.items():
        g = nx.MultiDiGraph()
        g.add_nodes_from(range(len(world.nodes)))
        for i in range(len(e)):
            ferry = e.road_class[i] == "ferry"
            t = e.fixed_min[i] if ferry else 60 * e.length_km[i] / mode.speed_kph[e.road_class[i]]
            pairs = [(e.u[i], e.v[i])] + ([] if e.oneway[i] and name != "walk" else [(e.v[i], e.u[i])])
            for a, b in pairs:
                g.add_edge(int(a), int(b), t=max(t, 1e-6), km=e.length_km[i])
        rg = g.reverse(copy=False)
        shape = (len(world.village_ids), len(world.fac_ids))
        t_out, km_out = np.full(shape, np.inf), np.full(shape, np.inf)
        for fi, node in enumerate(world.fac_node):
            legs = []
            for graph, flip in ((rg, True), (g, False)):  # village -> facility, facility -> village
                dist, paths = nx.single_source_dijkstra(graph, int(node), weight="t")
                legs.append((dist, paths, flip))
            for vi, vnode in enumerate(world.village_node):
                total_t = total_km = 0.0
                for dist, paths, flip in legs:
                    if int(vnode) not in dist:
                        total_t = np.inf
                        break
                    total_t += dist[int(vnode)]
                    for a, b in itertools.pairwise(paths[int(vnode)]):
                        x, y = (b, a) if flip else (a, b)
                        fastest = min(g[x][y].values(), key=lambda d: d["t"])
                        total_km += fastest["km"]
                t_out[vi, fi] = total_t / 2 + mode.access_min
                km_out[vi, fi] = total_km / 2 if np.isfinite(total_t) else np.inf
        out[name] = (t_out, km_out)
    return out


def test_times_and_distances_match_networkx(world_tables) -> None:
    world, tables, modes = world_tables
    expected = reference_tables(world, modes)
    for m, name in enumerate(tables.modes):
        np.testing.assert_allclose(tables.time_min[m], expected[name][0], atol=1e-4)
        np.testing.assert_allclose(tables.distance_km[m], expected[name][1], atol=1e-6)


def test_parallel_edges_keep_the_fastest_and_one_way_is_respected(tiny_raw, write_scenario) -> None:
    """Rows a,b,5.0 then a,b,1.0 (or the other order) give 1 km; a one-way edge is not used backwards."""
    tiny_raw["roads"] = {"file": "roads.csv", "ferries": tiny_raw["roads"]["ferries"]}
    tiny_raw["modes"] = {"walk": {"speed_kph": {"rural": 5}}, "car": {"speed_kph": {"rural": 30}}}
    tiny_raw["villages"] = [v for v in tiny_raw["villages"] if v["id"] in ("w1", "w2", "e3", "i1")]
    keep = ("w1", "w2", "e3", "i1", "seat:west", "seat:east", "seat:isle")
    link = [
        ("seat:east", "e3", 1.0, "rural", ""),
        ("seat:west", "seat:east", 6.0, "rural", ""),
        ("seat:isle", "i1", 1.0, "rural", ""),
    ]
    base = [("seat:west", "w1", 2.0, "rural", ""), ("w1", "w2", 2.0, "rural", "")]
    results = []
    for rows in (
        [*link, *base, ("w2", "seat:west", 5.0, "rural", ""), ("w2", "seat:west", 1.0, "rural", "")],
        [*link, *base, ("w2", "seat:west", 1.0, "rural", ""), ("w2", "seat:west", 5.0, "rural", "")],
        [*link, *base, ("w2", "seat:west", 0.5, "rural", "yes")],
    ):
        assert all(u in keep and v in keep for u, v, *_ in rows)
        path = write_scenario(tiny_raw)
        text = "u,v,length_km,road_class,oneway\n" + "".join(
            f"{u},{v},{km},{c},{o}\n" for u, v, km, c, o in rows
        )
        (path.parent / "roads.csv").write_text(text, encoding="utf-8")
        loaded = load_scenario(path)
        world = build_world(loaded)
        results.append((world, build_travel_tables(world, loaded.scenario.modes), loaded.scenario.modes))
    (w, t1, _), (_, t2, _), (w3, t3, modes3) = results
    i, f = w.village_ids.index("w2"), w.fac_ids.index("west_hall")
    assert w.fac_node[f] == w.nodes.index("seat:west")
    assert t1.distance_km[:, i, f] == pytest.approx([1.0, 1.0])
    assert t2.distance_km[:, i, f] == pytest.approx([1.0, 1.0])
    # by car one-way w2 -> seat (0.5 km), back the other way round via w1 (4 km): mean 2.25 km;
    # on foot both ways along the one-way street
    assert t3.modes == ["walk", "car"]
    assert t3.distance_km[:, i, f] == pytest.approx([0.5, (0.5 + 4.0) / 2])
    assert t3.time_min[1, i, f] == pytest.approx(60 * 2.25 / 30)
    ref = reference_tables(w3, modes3)
    for m, name in enumerate(t3.modes):
        np.testing.assert_allclose(t3.time_min[m], ref[name][0], atol=1e-4)
        np.testing.assert_allclose(t3.distance_km[m], ref[name][1], atol=1e-6)


def test_ferry_fare_is_in_the_money() -> None:
    loaded = load_scenario(TINY)
    world = build_world(loaded)
    tables = build_travel_tables(world, loaded.scenario.modes)
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


def test_ferries_carry_distance(tiny_raw, write_scenario) -> None:
    """A ferry crossing counts its sailing km: the straight line between the piers, or length_km."""
    loaded = load_scenario(TINY)
    world = build_world(loaded)
    ferry = np.flatnonzero(world.edges.is_ferry)[0]
    a, b = world.node_xy[world.edges.u[ferry]], world.node_xy[world.edges.v[ferry]]
    assert world.edges.length_km[ferry] == pytest.approx(float(np.hypot(*(a - b))))
    tables = build_travel_tables(world, loaded.scenario.modes)
    walk = tables.modes.index("walk")
    i1, east_hall = world.village_ids.index("i1"), world.fac_ids.index("east_hall")
    assert tables.distance_km[walk, i1, east_hall] > world.edges.length_km[ferry]
    tiny_raw["roads"]["ferries"]["isle_ferry"]["length_km"] = 20.0
    longer_loaded = load_scenario(write_scenario(tiny_raw))
    longer = build_travel_tables(build_world(longer_loaded), longer_loaded.scenario.modes)
    assert longer.distance_km[walk, i1, east_hall] == pytest.approx(
        tables.distance_km[walk, i1, east_hall] + 20.0 - world.edges.length_km[ferry]
    )
    assert longer.money_yuan[walk, i1, east_hall] == pytest.approx(10.0)  # fare only, not per km
