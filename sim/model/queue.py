"""First-come-first-served queues with c servers and a closing time (one facility, one day)."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sim.scenario.schema import ServiceTime

__all__ = ["QueueDay", "draw_service_min", "ghost_counts", "longest_queue", "serve_fifo", "serve_with_ghosts"]


@dataclass(frozen=True)
class QueueDay:
    """Outcome of one facility-day, aligned with the (sorted) arrivals given.

    Attributes:
        start_min: service start, minutes after midnight (``close`` for the turned away).
        wait_min: time from arrival to service start, or to closing time if turned away.
        served: whether service started before closing time.
    """

    start_min: np.ndarray
    wait_min: np.ndarray
    served: np.ndarray


def serve_fifo(
    arrival_min: np.ndarray, service_min: np.ndarray, *, servers: int, open_min: float, close_min: float
) -> QueueDay:
    """Serve visitors first come, first served, at ``servers`` identical windows.

    Windows open at ``open_min``. A visitor whose service has not started by ``close_min``
    is turned away at closing time and occupies no window. Service that starts before closing
    runs to its end.

    Args:
        arrival_min: arrival times (minutes after midnight), sorted ascending.
        service_min: service durations (minutes), same order.
        servers: number of windows/doctors (>= 1).
        open_min, close_min: opening hours, minutes after midnight.
    """
    if servers < 1:
        raise ValueError("serve_fifo needs at least one server")
    free = [float(open_min)] * servers  # heap of the times windows become free
    close = float(close_min)
    starts: list[float] = []
    append, replace = starts.append, heapq.heapreplace
    for arrival, duration in zip(arrival_min.tolist(), service_min.tolist(), strict=True):
        earliest = free[0]
        start = arrival if arrival > earliest else earliest
        if start >= close:  # FIFO: everyone after starts no earlier, so all are turned away
            break
        replace(free, start + duration)
        append(start)
    start_arr = np.full(len(arrival_min), close)
    start_arr[: len(starts)] = starts
    served = start_arr < close
    # turned-away visitors still queued until closing: same formula start - arrival
    wait = np.maximum(start_arr - arrival_min, 0.0)
    return QueueDay(start_min=start_arr, wait_min=wait, served=served)


def ghost_counts(weight: float, u: np.ndarray) -> np.ndarray:
    """Ghost arrivals per sampled visitor, so that each stands for ``weight`` arrivals on average.

    ``floor(weight - 1)`` ghosts, plus one more when the visitor's uniform ``u`` is below the
    fractional part of ``weight - 1``.
    """
    extra = weight - 1.0
    whole = np.floor(extra + 1e-9)
    return (whole + (u < extra - whole)).astype(np.int64)


def serve_with_ghosts(
    arrival_min: np.ndarray,
    service_min: np.ndarray,
    ghost_arrival_min: np.ndarray,
    ghost_service_min: np.ndarray,
    serve: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[QueueDay, np.ndarray]],
) -> tuple[QueueDay, np.ndarray, int]:
    """Serve sampled visitors in one queue with ghost arrivals standing for the unsampled.

    With a sample fraction f, ghosts drawn from the same arrival-time and service-time
    distributions give the queue the whole population's arrival rate and workload, while only
    sampled visitors are recorded (without ghosts this is the plain queue of the sampled).

    Args:
        serve: ``serve(positions, arrival, service)`` serves everyone sorted by desired arrival
            (``positions`` index the merged list, sampled visitors first, then ghosts) and returns
            the outcome and the time each came (e.g. :func:`serve_fifo` and the arrival itself).

    Returns:
        the sampled visitors' outcome and time they came (aligned with ``arrival_min``) and the
        longest queue, ghosts counted.
    """
    n = len(arrival_min)
    if len(ghost_arrival_min) == 0:  # a full population (or no ghost today): the plain queue
        q, came = serve(np.arange(n), arrival_min, service_min)
        by_time = np.argsort(came, kind="stable")
        return q, came, longest_queue(came[by_time], q.start_min[by_time])
    arrival = np.concatenate([arrival_min, ghost_arrival_min])
    service = np.concatenate([service_min, ghost_service_min])
    order = np.argsort(arrival, kind="stable")  # sampled visitors first on ties
    q, came = serve(order, arrival[order], service[order])
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    mine = position[:n]
    by_time = np.argsort(came, kind="stable")
    real = QueueDay(start_min=q.start_min[mine], wait_min=q.wait_min[mine], served=q.served[mine])
    return real, came[mine], longest_queue(came[by_time], q.start_min[by_time])


def longest_queue(arrival_min: np.ndarray, start_min: np.ndarray) -> int:
    """Most visitors waiting (arrived, service not started) at any arrival instant."""
    if len(arrival_min) == 0:
        return 0
    arrived = np.arange(1, len(arrival_min) + 1)
    started = np.searchsorted(np.sort(start_min), arrival_min, side="right")
    return int(np.max(arrived - started))


def draw_service_min(spec: ServiceTime, u: np.ndarray) -> np.ndarray:
    """Service durations (minutes) from the facility's distribution, by inverse CDF of uniforms ``u``."""
    if spec.dist == "fixed":
        return np.full(len(u), spec.mean_min)
    if spec.dist == "exponential":
        return -spec.mean_min * np.log(u)  # u in (0, 1): -log(u) is Exp(1)
    sigma2 = np.log1p(spec.cv**2)
    mu = np.log(spec.mean_min) - sigma2 / 2
    return np.exp(mu + np.sqrt(sigma2) * ndtri(u))
