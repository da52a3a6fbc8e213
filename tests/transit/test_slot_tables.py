"""Bus slot tables store each journey once: every cell reads bit for bit the journey of the full scan."""

from __future__ import annotations

import shutil
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.transit.csa as csa
import sim.transit.tables as tables
from sim.scenario.load import load_scenario
from sim.transit.csa import MAX_LEGS, Journeys, earliest_arrival, first_wait_min, latest_departure
from sim.transit.tables import BusTables, SlotRows, build_bus_tables
from sim.world.world import World, build_world
from tests.conftest import SCENARIOS

BUSES = SCENARIOS / "tiny" / "buses.yaml"


def _cells(rows: SlotRows, n_nodes: int, n_slots: int, n_places: int) -> np.ndarray:
    """(nodes * slots, places) journey row of every cell."""
    node, slot, place = np.ix_(np.arange(n_nodes), np.arange(n_slots), np.arange(n_places))
    return rows.row(node, slot, place).reshape(n_nodes * n_slots, n_places)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit (same dtype and shape)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _check(bus: BusTables, world: World, transfer_min: float) -> None:
    n_f, n_v = len(bus.fac_nodes), len(world.village_ids)
    for p, active in enumerate(bus.patterns):
        full = latest_departure(
            bus.timetable,
            bus.walk,
            targets=bus.fac_nodes,
            times=bus.out_slots,
            origins=world.village_node,
            transfer_min=transfer_min,
            active=active,
        )
        cell = _cells(bus.out_row[p], n_f, len(bus.out_slots), n_v)
        for f in fields(full):
            assert _same(getattr(bus.out[p], f.name)[cell], getattr(full, f.name)), f.name
        home = earliest_arrival(
            bus.timetable,
            bus.walk,
            origins=bus.fac_nodes,
            times=bus.home_slots,
            targets=world.village_node,
            transfer_min=transfer_min,
            active=active,
        )
        k_h = len(bus.home_slots)
        cell = _cells(bus.home_row[p], n_f, k_h, n_v)
        for f in fields(home):
            if f.name not in ("dep_min", "first_wait_min"):
                assert _same(getattr(bus.home[p], f.name)[cell], getattr(home, f.name)), f.name
        # a cell leaves at its own slot and waits for the first vehicle of its journey
        ok = np.isfinite(bus.home[p].arr_min[cell])
        slot = np.broadcast_to(np.tile(bus.home_slots, n_f)[:, None], cell.shape)
        node = np.broadcast_to(np.repeat(bus.fac_nodes, k_h)[:, None], cell.shape)
        board = bus.home[p].leg_board[cell][..., 0]
        wait = first_wait_min(bus.timetable, bus.walk, board[ok], slot[ok], node[ok])
        assert _same(wait, home.first_wait_min[ok])
        assert _same(slot[ok], home.dep_min[ok])
        assert np.isinf(home.dep_min[~ok]).all() and np.isinf(home.first_wait_min[~ok]).all()
        assert len(bus.out[p].dep_min) < cell.size  # repeated journeys stored once


@pytest.mark.parametrize("block_cells", [csa._BLOCK_CELLS, 5])
def test_slot_tables_match_the_full_scans(monkeypatch: pytest.MonkeyPatch, block_cells: int) -> None:
    """Also with blocks of single profiles (repeats across block boundaries)."""
    monkeypatch.setattr(csa, "_BLOCK_CELLS", block_cells)
    loaded = load_scenario(BUSES)
    world = build_world(loaded)
    bus = build_bus_tables(loaded, world)
    assert loaded.scenario.transit is not None
    _check(bus, world, loaded.scenario.transit.transfer_min)


def _journey_table(
    rng: np.random.Generator, n_profiles: int, n_places: int, n_slots: int, legs_dtype: type
) -> Journeys:
    """(profiles, places) journeys drawn from a few, each cell mostly repeating the profile before.

    Each journey of the pool differs from the one before in one value of one field (floats perhaps
    only in their bits: 0.0 and -0.0); cells without a journey are inf / -1, some counting legs;
    ``dep_min`` and ``first_wait_min`` follow the slot where ``drift``.
    """
    n_pool = 4
    floats = np.array([0.0, -0.0, 2.5, np.nan, 7.0])
    pool = {f.name: rng.choice(floats, n_pool + 1) for f in fields(Journeys)[:8]}
    pool["n_legs"] = rng.integers(1, 3, n_pool + 1).astype(np.int8)
    for name in ("leg_trip", "leg_board", "leg_alight"):
        pool[name] = rng.integers(-1, 4, (n_pool + 1, MAX_LEGS)).astype(legs_dtype)
    for j in range(1, n_pool):
        for values in pool.values():
            values[j] = values[j - 1]
        values = pool[str(rng.choice(list(pool)))].reshape(n_pool + 1, -1)
        k = rng.integers(values.shape[1])
        if values.dtype.kind == "f":
            values[j, k] = rng.choice(floats[floats.view(np.int64) != values[j, k : k + 1].view(np.int64)])
        else:
            values[j, k] += 1
    pick = rng.integers(0, n_pool + 1, (n_profiles, n_places))  # n_pool: no journey
    for p in range(1, n_profiles):
        keep = rng.random(n_places) < 0.7
        pick[p, keep] = pick[p - 1, keep]
    for name in pool:
        pool[name][n_pool] = np.inf if pool[name].dtype.kind == "f" else -1
    table = {name: values[pick] for name, values in pool.items()}
    table["n_legs"][pick == n_pool] = rng.integers(0, 3, int((pick == n_pool).sum()))
    drift = (np.arange(n_profiles) % n_slots)[:, None] * rng.choice([0.0, 1.0])
    table["dep_min"] += drift
    table["first_wait_min"] += drift
    return Journeys(**table)


def _split(table: Journeys, cuts: list[int]) -> list[tuple[slice, Journeys]]:
    """The table as blocks of profiles ending at ``cuts`` (copies, as the scans give them)."""
    n = len(table.dep_min)
    ends = sorted({c % n for c in cuts} - {0} | {n})
    starts = [0, *ends[:-1]]
    return [
        (slice(a, b), Journeys(**{f.name: getattr(table, f.name)[a:b].copy() for f in fields(table)}))
        for a, b in zip(starts, ends, strict=True)
    ]


def _bytes(a: np.ndarray, n_profiles: int, n_places: int) -> np.ndarray:
    """(profiles, places, bytes) of a journey field."""
    return np.ascontiguousarray(a).reshape(n_profiles, n_places, -1).view(np.uint8)


def _check_slot_rows(
    table: Journeys, journeys: Journeys, rows: SlotRows, n_slots: int, by_slot: tuple[str, ...]
) -> None:
    """The rows hold each run of slots repeating a journey (every field but ``by_slot`` bit for bit)
    once, in order of node, place and slot, with the ``by_slot`` fields of the run's first cell."""
    n_profiles, n_places = table.dep_min.shape
    n_nodes = n_profiles // n_slots
    row = _cells(rows, n_nodes, n_slots, n_places)
    keyed = [f.name for f in fields(Journeys) if f.name not in by_slot]
    repeats = np.ones((n_profiles - 1, n_places), dtype=bool)
    for name in keyed:
        cell = _bytes(getattr(table, name), n_profiles, n_places)
        repeats &= (cell[1:] == cell[:-1]).all(axis=2)
        assert _same(getattr(journeys, name)[row], getattr(table, name)), name
    repeats &= (np.arange(1, n_profiles) % n_slots > 0)[:, None]
    assert (repeats == (row[1:] == row[:-1])).all()
    order = row.reshape(n_nodes, n_slots, n_places).transpose(0, 2, 1).ravel()
    assert order[0] == 0 and order[-1] == len(journeys.dep_min) - 1 and set(np.diff(order)) <= {0, 1}
    first = np.ones(row.shape, dtype=bool)
    first[1:] = ~repeats
    for name in by_slot:
        assert _same(getattr(journeys, name)[row[first]], getattr(table, name)[first]), name


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 3),
    st.sampled_from([1, 2, 5, 300]),
    st.integers(1, 4),
    st.lists(st.integers(1, 5000), max_size=4),
    st.sampled_from([(), tables._BY_SLOT]),
    st.sampled_from([np.int16, np.int32]),
    st.integers(0, 2**32 - 1),
)
def test_the_compiled_slot_rows_give_the_numpy_rows(
    n_nodes: int,
    n_slots: int,
    n_places: int,
    cuts: list[int],
    by_slot: tuple[str, ...],
    legs_dtype: type,
    seed: int,
) -> None:
    """``_slot_rows`` with the compiled passes (``_trace.new_cells``, ``_trace.put_rows``) and with
    the numpy versions: every array byte for byte, with blocks that split a node's slots (or hold one
    profile, or all), cells without a journey, floats equal but for their bits, legs of 8 and 16 bytes
    a cell and ``nth`` wider than a byte past 256 slots; both keep every run of slots once, in order."""
    if tables._compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.transit._trace was not built"
        pytest.skip("installed without a C compiler: only the numpy passes exist")
    shape = (n_nodes * n_slots, n_places)
    table = _journey_table(np.random.default_rng(seed), *shape, n_slots, legs_dtype)
    compiled = tables._compiled
    out = []
    try:
        for ext in (compiled, None):
            tables._compiled = ext
            journeys, rows = tables._slot_rows(iter(_split(table, cuts)), shape, n_slots, by_slot)
            _check_slot_rows(table, journeys, rows, n_slots, by_slot)
            out.append([*(getattr(journeys, f.name) for f in fields(Journeys)), rows.first, rows.nth])
    finally:
        tables._compiled = compiled
    for a, b in zip(*out, strict=True):
        assert _same(a, b)
