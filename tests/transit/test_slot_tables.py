"""Bus slot tables store each journey once: every cell reads bit for bit the journey of the full scan."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

import sim.transit.csa as csa
from sim.scenario.load import load_scenario
from sim.transit.csa import earliest_arrival, first_wait_min, latest_departure
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
