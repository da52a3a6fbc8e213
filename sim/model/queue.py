"""First-come-first-served queues with c servers and a closing time (one facility, one day)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sim.compiled import optional_extension
from sim.scenario.schema import ServiceTime

_compiled = optional_extension("sim.model._fifo")  # None without a C compiler (sim/compiled.py)

__all__ = [
    "BALKED",
    "NO_BALKING",
    "RENEGED",
    "Impatience",
    "QueueDay",
    "ServiceTimes",
    "draw_service_min",
    "ghost_counts",
    "longest_queue",
    "longest_queues",
    "queue_order",
    "serve_fifo",
    "serve_fifo_days",
    "serve_impatient_days",
    "serve_with_ghosts",
]

#: Codes of :attr:`QueueDay.left`: stayed (served or turned away at closing), balked, reneged.
STAYED, BALKED, RENEGED = 0, 1, 2
#: A queue length nobody reaches (``Impatience.balk_at`` of a visitor who never balks).
NO_BALKING = 2**62


@dataclass(frozen=True)
class QueueDay:
    """Outcome of one facility-day, aligned with the (sorted) arrivals given.

    Attributes:
        start_min: service start, minutes after midnight (``close`` for the turned away; the
            time they left for those who balked or reneged).
        wait_min: time from arrival to service start, or to closing time if turned away (to
            leaving for those who reneged; 0 for those who balked).
        served: whether service started before closing time.
        left: with balking or reneging (:func:`serve_impatient_days`), per visitor
            :data:`STAYED`, :data:`BALKED` or :data:`RENEGED`; None otherwise.
        seen_wait_min: with balking, the wait a visitor who balked expected from the queue seen
            (waiting + 1) x mean service / windows, minutes; 0 for everyone else.
    """

    start_min: np.ndarray
    wait_min: np.ndarray
    served: np.ndarray
    left: np.ndarray | None = None
    seen_wait_min: np.ndarray | None = None


@dataclass(frozen=True)
class Impatience:
    """What makes visitors leave a queue, per visitor (aligned with the arrivals).

    Attributes:
        balk_at: a visitor who arrives to find all windows busy and at least this many people
            waiting does not join (balks); :data:`NO_BALKING` never balks.
        patience_min: minutes a visitor waits before leaving unserved (reneging); ``inf`` never.
        mean_service_min: per queue, the mean service minutes used for the expected wait a
            balker saw (``seen_wait_min``).
    """

    balk_at: np.ndarray
    patience_min: np.ndarray
    mean_service_min: np.ndarray


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
    return serve_fifo_days(
        arrival_min,
        service_min,
        np.array([0, len(arrival_min)]),
        servers=np.array([servers]),
        open_min=np.array([open_min], dtype=float),
        close_min=np.array([close_min], dtype=float),
    )


def _serve_windows(
    arrivals: list[float],
    durations: list[float],
    c: int,
    open_min: float,
    close_min: float,
    starts: list[float],
) -> None:
    """Append to ``starts`` the start (min) of each visitor of one queue with ``c`` windows, in
    arrival order; ``close_min`` for those turned away."""
    free = [open_min] * c  # heap of the times windows become free
    append, replace = starts.append, heapq.heapreplace
    for i, (arrival, duration) in enumerate(zip(arrivals, durations, strict=True)):
        earliest = free[0]
        start = arrival if arrival > earliest else earliest
        if start >= close_min:  # FIFO: everyone after starts no earlier, so all are turned away
            starts.extend([close_min] * (len(arrivals) - i))
            return
        replace(free, start + duration)
        append(start)


def _serve_one_window(
    arrivals: list[float],
    durations: list[float],
    c: int,
    open_min: float,
    close_min: float,
    starts: list[float],
) -> None:
    """:func:`_serve_windows` for one window (``c`` = 1, the same signature): the time it frees,
    without a heap."""
    free = open_min
    append = starts.append
    for i, (arrival, duration) in enumerate(zip(arrivals, durations, strict=True)):
        start = arrival if arrival > free else free
        if start >= close_min:  # FIFO: everyone after starts no earlier, so all are turned away
            starts.extend([close_min] * (len(arrivals) - i))
            return
        free = start + duration
        append(start)


def fifo_starts_python(
    arrival: np.ndarray,
    duration: np.ndarray,
    bounds: np.ndarray,
    servers: np.ndarray,
    open_min: np.ndarray,
    close_min: np.ndarray,
) -> np.ndarray:
    """Service start (min) of each visitor of queues ``bounds[k]:bounds[k + 1]`` (sorted by
    arrival), ``close_min[k]`` for those turned away: the Python loop, used where the compiled
    ``sim.model._fifo.fifo_starts`` (same arguments, same floats) was not built."""
    arrivals, durations = arrival.tolist(), duration.tolist()
    edges = bounds.tolist()
    opens, closes = open_min.tolist(), close_min.tolist()
    starts: list[float] = []
    for k, c in enumerate(servers.tolist()):
        lo, hi = edges[k], edges[k + 1]
        serve = _serve_one_window if c == 1 else _serve_windows
        serve(arrivals[lo:hi], durations[lo:hi], c, opens[k], closes[k], starts)
    return np.array(starts, dtype=float)


def serve_fifo_days(
    arrival_min: np.ndarray,
    service_min: np.ndarray,
    bounds: np.ndarray,
    *,
    servers: np.ndarray,
    open_min: np.ndarray,
    close_min: np.ndarray,
) -> QueueDay:
    """:func:`serve_fifo` for several independent queues (facility-days) in one pass.

    Queue k is rows ``bounds[k]:bounds[k + 1]``, sorted by arrival within it, with
    ``servers[k]`` windows open from ``open_min[k]`` to ``close_min[k]`` (minutes). One loop
    over all visitors with a heap of the times each queue's windows become free: compiled
    (``sim/model/_fifo.pyx``, built at install where a C compiler is present), else
    :func:`fifo_starts_python`.
    """
    if np.any(np.asarray(servers) < 1):
        raise ValueError("serve_fifo needs at least one server")
    columns = (
        np.ascontiguousarray(arrival_min, dtype=float),
        np.ascontiguousarray(service_min, dtype=float),
        np.ascontiguousarray(bounds, dtype=np.int64),
        np.ascontiguousarray(servers, dtype=np.int64),
        np.ascontiguousarray(open_min, dtype=float),
        np.ascontiguousarray(close_min, dtype=float),
    )
    start_arr = (fifo_starts_python if _compiled is None else _compiled.fifo_starts)(*columns)
    served = start_arr < np.repeat(np.asarray(close_min, float), np.diff(bounds))
    # turned-away visitors still queued until closing: same formula start - arrival
    wait = np.maximum(start_arr - arrival_min, 0.0)
    return QueueDay(start_min=start_arr, wait_min=wait, served=served)


def serve_impatient_days(
    arrival_min: np.ndarray,
    service_min: np.ndarray,
    bounds: np.ndarray,
    impatience: Impatience,
    *,
    servers: np.ndarray,
    open_min: np.ndarray,
    close_min: np.ndarray,
) -> QueueDay:
    """:func:`serve_fifo_days` with visitors who balk and renege.

    In arrival order, a visitor who finds every window busy and at least ``balk_at`` people
    waiting leaves at once (balks, no window taken). One who joins is called when a window
    frees (first come, first served among those still there), unless their patience runs out
    first: then they leave at ``arrival + patience`` (renege) and take no window. Those still
    waiting at closing time are turned away then, as in :func:`serve_fifo_days`. Exact for FIFO:
    a visitor's call time depends only on the windows' free times left by earlier visitors who
    were served. One loop with two heaps per queue (windows' free times; when each person now
    waiting stops waiting).
    """
    if np.any(np.asarray(servers) < 1):
        raise ValueError("serve_impatient_days needs at least one server")
    arrivals, durations = arrival_min.tolist(), service_min.tolist()
    balk_at, patience = impatience.balk_at.tolist(), impatience.patience_min.tolist()
    edges = np.asarray(bounds).tolist()
    opens, closes = np.asarray(open_min, float).tolist(), np.asarray(close_min, float).tolist()
    means = np.asarray(impatience.mean_service_min, float).tolist()
    counts = bool(np.any(impatience.balk_at < NO_BALKING))  # queue lengths needed only to balk
    n = len(arrivals)
    start, wait, left, seen = [0.0] * n, [0.0] * n, [STAYED] * n, [0.0] * n
    push, pop, replace = heapq.heappush, heapq.heappop, heapq.heapreplace
    for k, c in enumerate(np.asarray(servers).tolist()):
        close = closes[k]
        free = [opens[k]] * c  # heap of the times windows become free
        waiting: list[float] = []  # heap of the times people now waiting stop waiting
        for i in range(edges[k], edges[k + 1]):
            a = arrivals[i]
            while waiting and waiting[0] <= a:
                pop(waiting)
            earliest = free[0]
            if counts and earliest > a and len(waiting) >= balk_at[i]:  # all windows busy, queue too long
                start[i], left[i] = a, BALKED
                seen[i] = (len(waiting) + 1) * means[k] / c
                continue
            s = a if a > earliest else earliest
            gone = a + patience[i]
            if gone < s and gone < close:  # patience runs out before the call and before closing
                start[i], wait[i], left[i] = gone, gone - a, RENEGED
                if counts:
                    push(waiting, gone)
                continue
            if s >= close:  # turned away at closing time, having waited until then
                start[i], wait[i] = close, max(close - a, 0.0)
                if counts:
                    push(waiting, close)
                continue
            replace(free, s + durations[i])
            start[i], wait[i] = s, s - a
            if counts and s > a:
                push(waiting, s)
    left_arr = np.array(left, dtype=np.int8)
    start_arr = np.array(start, dtype=float)
    served = (left_arr == STAYED) & (start_arr < np.repeat(np.asarray(close_min, float), np.diff(bounds)))
    return QueueDay(
        start_min=start_arr,
        wait_min=np.array(wait, dtype=float),
        served=served,
        left=left_arr,
        seen_wait_min=np.array(seen, dtype=float),
    )


def queue_order(fac: np.ndarray, arrival_min: np.ndarray) -> np.ndarray:
    """Visitors ordered by facility, then arrival, then given order: ``np.lexsort((arrival_min,
    fac))``, as two stable sorts (a radix sort on facility when ids fit 16 bits; several times faster)."""
    if _compiled is not None and len(fac) and fac.min() >= 0 and np.isfinite(arrival_min).all():
        n_fac = int(fac.max()) + 1
        order: np.ndarray = _compiled.facility_arrival_order(
            np.ascontiguousarray(fac, dtype=np.int64), np.ascontiguousarray(arrival_min, dtype=float), n_fac
        )
        return order
    by_time = np.argsort(arrival_min, kind="stable")
    f = fac[by_time]
    if len(f) and f.min() >= 0 and f.max() < 1 << 16:
        f = f.astype(np.uint16)
    return by_time[np.argsort(f, kind="stable")]


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
    real = QueueDay(
        start_min=q.start_min[mine],
        wait_min=q.wait_min[mine],
        served=q.served[mine],
        left=None if q.left is None else q.left[mine],
        seen_wait_min=None if q.seen_wait_min is None else q.seen_wait_min[mine],
    )
    return real, came[mine], longest_queue(came[by_time], q.start_min[by_time])


def longest_queue(arrival_min: np.ndarray, start_min: np.ndarray) -> int:
    """Most visitors waiting (arrived, service not started) at any arrival instant."""
    return int(longest_queues(arrival_min, start_min, np.array([0, len(arrival_min)]))[0])


def longest_queues(arrival_min: np.ndarray, start_min: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """:func:`longest_queue` of each queue k, rows ``bounds[k]:bounds[k + 1]`` sorted by arrival.

    All queues at once: a visitor's queue length on arrival is its place in the queue's arrivals
    minus the starts up to then, counted by one search for (queue, time) pairs (complex numbers,
    which numpy orders lexicographically, so times are compared exactly).
    """
    bounds = np.asarray(bounds)
    sizes = np.diff(bounds)
    out = np.zeros(len(sizes), dtype=np.int64)
    if len(arrival_min) == 0:
        return out
    queue = np.repeat(np.arange(len(sizes), dtype=float), sizes)
    later = np.ones(len(start_min), dtype=bool)  # not a queue's first row
    later[bounds[:-1][sizes > 0]] = False
    if not np.all((start_min[1:] >= start_min[:-1]) | ~later[1:]):  # FIFO starts are; booked ones may not be
        start_min = start_min[np.lexsort((start_min, queue))]
    if _compiled is not None:  # one pass per queue, arrivals against the starts
        longest: np.ndarray = _compiled.longest_waiting(
            np.ascontiguousarray(arrival_min, dtype=float),
            np.ascontiguousarray(start_min, dtype=float),
            np.ascontiguousarray(bounds, dtype=np.int64),
        )
        return longest
    started = np.searchsorted(queue + 1j * start_min, queue + 1j * arrival_min, side="right")
    waiting = np.arange(1, len(arrival_min) + 1) - started
    nonempty = sizes > 0
    out[nonempty] = np.maximum.reduceat(waiting, bounds[:-1][nonempty])
    return out


def draw_service_min(spec: ServiceTime, u: np.ndarray) -> np.ndarray:
    """Service durations (minutes) from the facility's distribution, by inverse CDF of uniforms ``u``."""
    return ServiceTimes([spec]).draw(np.zeros(len(u), dtype=np.int64), u)


class ServiceTimes:
    """Service-time distributions of several facilities, drawn for many visitors at once.

    Args:
        specs: per facility its distribution, or None (receives nobody).
    """

    def __init__(self, specs: Sequence[ServiceTime | None]) -> None:
        dists = ("fixed", "exponential", "lognormal")
        self.dist = np.array([-1 if s is None else dists.index(s.dist) for s in specs], dtype=np.int8)
        self.mean = np.array([np.nan if s is None else s.mean_min for s in specs], dtype=float)
        sigma2 = np.log1p(np.array([0.0 if s is None else s.cv for s in specs], dtype=float) ** 2)
        self.mu = np.log(self.mean) - sigma2 / 2  # lognormal: log-scale mean and sd
        self.sigma = np.sqrt(sigma2)

    def draw(self, fac: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Service minutes of visitors at facilities ``fac`` by inverse CDF of their uniforms ``u``."""
        dist = self.dist[fac]
        if np.any(dist < 0):
            raise ValueError("a facility without a service time receives visitors")
        out = self.mean[fac]  # fixed
        exp = dist == 1
        if exp.any():
            out[exp] = -self.mean[fac[exp]] * np.log(u[exp])  # u in (0, 1): -log(u) is Exp(1)
        logn = dist == 2
        if logn.any():
            f = fac[logn]
            out[logn] = np.exp(self.mu[f] + self.sigma[f] * ndtri(u[logn]))
        return out
