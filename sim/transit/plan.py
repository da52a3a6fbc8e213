"""Day plans of bus riders: the journey there (arrive by a time) and the first way home."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.transit.csa import first_wait_min
from sim.transit.tables import BusTables

__all__ = ["BusLeg", "plan_home", "plan_out"]


@dataclass(frozen=True)
class BusLeg:
    """One direction of a bus day, one row per rider.

    ``label`` indexes ``BusTables.labels`` (-1: no vehicle used, e.g. walked home); ``legs_*`` are
    (riders, MAX_LEGS) int32 trip and stop-time indices (-1 padded) for line loads (the tables
    store them smaller).
    """

    dep_min: np.ndarray
    arr_min: np.ndarray
    travel_min: np.ndarray
    stop_wait_min: np.ndarray
    transfer_wait_min: np.ndarray
    fare_yuan: np.ndarray
    km: np.ndarray
    label: np.ndarray
    legs_trip: np.ndarray
    legs_board: np.ndarray
    legs_alight: np.ndarray
    no_way: np.ndarray


def _legs(legs: np.ndarray, row: np.ndarray, unused: np.ndarray | None = None) -> np.ndarray:
    """Rows ``row`` of a journeys' (rows, MAX_LEGS) leg array as int32, -1 where ``unused``
    (``np.take`` along the rows: numpy's fancy indexing of a 2-d array by one index array is slower)."""
    got = legs.take(row, axis=0).astype(np.int32)
    if unused is not None:
        got[unused] = -1
    return got


def plan_out(
    bus: BusTables, pattern: int, fac: np.ndarray, village: np.ndarray, arrive_by: np.ndarray
) -> BusLeg:
    """Latest departure arriving by ``arrive_by`` (or the day's earliest arrival if none does).

    Riders leave home just in time, so there is no wait at the first stop; the journey's actual
    arrival (<= arrive_by when possible) is when they reach the facility.
    """
    j = bus.out[pattern]
    row = bus.out_index(pattern, fac, village, arrive_by)
    dep = j.dep_min.take(row)
    arr = j.arr_min.take(row)
    return BusLeg(
        dep_min=dep,
        arr_min=arr,
        travel_min=arr - dep,
        stop_wait_min=np.zeros(len(row)),
        transfer_wait_min=j.transfer_wait_min.take(row),
        fare_yuan=j.fare_yuan.take(row),
        km=j.ride_km.take(row),
        label=bus.out_label[pattern].take(row),
        legs_trip=_legs(j.leg_trip, row),
        legs_board=_legs(j.leg_board, row),
        legs_alight=_legs(j.leg_alight, row),
        no_way=~np.isfinite(arr),
    )


def plan_home(
    bus: BusTables,
    pattern: int,
    fac: np.ndarray,
    village: np.ndarray,
    leave: np.ndarray,
    *,
    walk_home_min: np.ndarray,
    no_way_home_min: float,
    no_way_home_yuan: float,
) -> BusLeg:
    """First way home after leaving the facility at ``leave``: the next bus journey or walking.

    Where neither exists that day the rider has no way home: the trip home then takes
    ``no_way_home_min`` and costs ``no_way_home_yuan`` (a hired car or boat, or a night away).
    """
    j = bus.home[pattern]
    row, slot_time = bus.home_index(pattern, fac, village, leave)
    has_row = row >= 0
    safe = np.where(has_row, row, 0)
    bus_arr = np.where(has_row, j.arr_min.take(safe), np.inf)
    walk_arr = leave + walk_home_min
    by_bus = np.isfinite(bus_arr) & (bus_arr < walk_arr)
    by_walk = ~by_bus & np.isfinite(walk_arr)
    no_way = ~by_bus & ~by_walk
    arr = np.where(by_bus, bus_arr, np.where(by_walk, walk_arr, leave + no_way_home_min))
    unused = np.flatnonzero(~by_bus)
    legs = [_legs(x, safe, unused) for x in (j.leg_trip, j.leg_board, j.leg_alight)]
    board = np.where(by_bus, legs[1][:, 0], 0)
    first_wait = first_wait_min(bus.timetable, bus.walk, board, slot_time, bus.fac_nodes[bus.fac_col[fac]])
    stop_wait = np.where(by_bus, slot_time - leave + first_wait, 0.0)
    return BusLeg(
        dep_min=leave,
        arr_min=arr,
        travel_min=arr - leave,
        stop_wait_min=stop_wait,
        transfer_wait_min=np.where(by_bus, j.transfer_wait_min.take(safe), 0.0),
        fare_yuan=np.where(by_bus, j.fare_yuan.take(safe), np.where(no_way, no_way_home_yuan, 0.0)),
        km=np.where(by_bus, j.ride_km.take(safe), 0.0),
        label=np.where(by_bus, bus.home_label[pattern].take(safe), -1),
        legs_trip=legs[0],
        legs_board=legs[1],
        legs_alight=legs[2],
        no_way=no_way,
    )
