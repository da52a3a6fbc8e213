"""The FIFO c-server queue against M/M/c theory and its closing rule."""

from __future__ import annotations

import shutil
from itertools import pairwise

import numpy as np
import pytest

from sim.model import queue
from sim.model.queue import (
    ServiceTimes,
    draw_service_min,
    longest_queue,
    longest_queues,
    queue_order,
    serve_fifo,
    serve_fifo_days,
)
from sim.planning.erlang import erlang_c_mean_wait
from sim.scenario.schema import ServiceTime


@pytest.mark.parametrize(
    ("lam", "mean_service", "servers"), [(0.25, 10.0, 3), (0.5, 3.0, 2), (0.09, 10.0, 1)]
)
def test_mean_wait_matches_erlang_c(lam: float, mean_service: float, servers: int) -> None:
    """Long open run: the sample mean is within 4 batch-means standard errors of theory.

    Waits are autocorrelated, so the standard error comes from 50 batch means of 4,000
    customers each (batches much longer than the correlation time at rho <= 0.9); the 4-SE
    band fails a correct engine with probability < 1e-4 and catches a bias of a few percent.
    """
    rng = np.random.default_rng(11)
    n, warm = 204_000, 4_000
    arrival = np.cumsum(rng.exponential(1 / lam, n))
    service = rng.exponential(mean_service, n)
    q = serve_fifo(arrival, service, servers=servers, open_min=0.0, close_min=1e12)
    waits = q.wait_min[warm:]
    batches = waits.reshape(50, -1).mean(axis=1)
    se = batches.std(ddof=1) / np.sqrt(len(batches))
    theory = erlang_c_mean_wait(lam, 1 / mean_service, servers)
    assert abs(waits.mean() - theory) < 4 * se
    assert abs(waits.mean() - theory) / theory < 0.1


def test_fifo_and_servers_never_overbooked() -> None:
    rng = np.random.default_rng(3)
    arrival = np.sort(rng.uniform(480, 700, 300))
    service = rng.exponential(8, 300)
    q = serve_fifo(arrival, service, servers=3, open_min=480, close_min=1020)
    served = q.served
    assert np.all(np.diff(q.start_min[served]) >= 0)  # first come, first served
    # at any start instant no more than 3 visitors are in service
    ends = q.start_min[served] + service[served]
    for t in q.start_min[served]:
        assert np.sum((q.start_min[served] <= t) & (ends > t)) <= 3
    assert np.all(q.wait_min >= 0)


def test_closing_time_turns_away_and_they_waited_until_close() -> None:
    arrival = np.array([600.0, 601.0, 602.0, 603.0])
    service = np.array([100.0, 100.0, 100.0, 100.0])
    q = serve_fifo(arrival, service, servers=1, open_min=480, close_min=750)
    assert q.served.tolist() == [True, True, False, False]
    assert q.wait_min[2] == pytest.approx(750 - 602)
    assert q.start_min[2] == 750


def test_arrivals_before_opening_wait_for_the_doors() -> None:
    q = serve_fifo(np.array([450.0]), np.array([5.0]), servers=1, open_min=480, close_min=600)
    assert q.wait_min[0] == 30.0 and q.served[0]


def test_longest_queue_counts_people_waiting() -> None:
    arrival = np.array([0.0, 1.0, 2.0, 3.0])
    start = np.array([0.0, 10.0, 20.0, 30.0])
    assert longest_queue(arrival, start) == 3
    assert longest_queue(np.zeros(0), np.zeros(0)) == 0


def _longest_by_brute_force(arrival: np.ndarray, start: np.ndarray) -> int:
    """Most waiting at any arrival: visitors arrived so far (in arrival order) minus starts by then."""
    return max((i + 1 - int(np.sum(start <= a)) for i, a in enumerate(arrival)), default=0)


def test_longest_queues_match_brute_force_with_ties_unsorted_starts_and_empty_queues() -> None:
    rng = np.random.default_rng(11)
    sizes = rng.integers(0, 25, 30)
    sizes[[0, 7, 29]] = 0  # empty queues first, inside and last
    bounds = np.r_[0, np.cumsum(sizes)]
    arrival = np.concatenate([np.sort(rng.integers(480, 520, k)).astype(float) for k in sizes])  # ties
    start = arrival + rng.integers(0, 15, len(arrival))  # booked slots: not in arrival order
    got = longest_queues(arrival, start, bounds)
    want = [_longest_by_brute_force(arrival[lo:hi], start[lo:hi]) for lo, hi in pairwise(bounds)]
    assert got.tolist() == want
    assert max(want) >= 3
    fifo = np.concatenate([np.maximum.accumulate(start[lo:hi]) for lo, hi in pairwise(bounds)])
    want = [_longest_by_brute_force(arrival[lo:hi], fifo[lo:hi]) for lo, hi in pairwise(bounds)]
    assert longest_queues(arrival, fifo, bounds).tolist() == want  # starts sorted within queues: FIFO


def test_queue_order_is_lexsort_by_facility_then_arrival() -> None:
    rng = np.random.default_rng(2)
    arrival = rng.integers(0, 30, 2_000).astype(float)  # many ties: the given order breaks them
    for fac in (rng.integers(0, 50, 2_000), rng.integers(0, 100_000, 2_000)):  # radix and plain sort
        assert np.array_equal(queue_order(fac, arrival), np.lexsort((arrival, fac)))
    assert len(queue_order(np.zeros(0, np.int64), np.zeros(0))) == 0


@pytest.mark.parametrize("dist", ["exponential", "lognormal", "fixed"])
def test_service_time_draws_have_the_declared_mean(dist: str) -> None:
    spec = ServiceTime(dist=dist, mean_min=9.6, cv=0.8)
    draws = draw_service_min(spec, np.random.default_rng(0).random(100_000))
    assert draws.mean() == pytest.approx(9.6, rel=0.02)
    assert np.all(draws > 0)


def test_queues_in_one_pass_equal_queue_by_queue() -> None:
    """serve_fifo_days over many facility-days gives exactly each one's serve_fifo and longest queue."""
    rng = np.random.default_rng(7)
    sizes = rng.integers(0, 60, 40)
    bounds = np.r_[0, np.cumsum(sizes)]
    servers = rng.integers(1, 5, 40)
    open_min = rng.uniform(420, 540, 40)
    close_min = open_min + rng.uniform(60, 480, 40)
    arrival = np.concatenate(
        [np.sort(rng.uniform(o - 30, c, k)) for o, c, k in zip(open_min, close_min, sizes, strict=True)]
    )
    service = rng.exponential(12, len(arrival))
    service[rng.random(len(arrival)) < 0.1] = 0.0  # zero-length services tie starts with arrivals
    q = serve_fifo_days(arrival, service, bounds, servers=servers, open_min=open_min, close_min=close_min)
    longest = longest_queues(arrival, q.start_min, bounds)
    for k in range(40):
        lo, hi = bounds[k], bounds[k + 1]
        one = serve_fifo(
            arrival[lo:hi],
            service[lo:hi],
            servers=int(servers[k]),
            open_min=open_min[k],
            close_min=close_min[k],
        )
        assert np.array_equal(q.start_min[lo:hi], one.start_min)
        assert np.array_equal(q.wait_min[lo:hi], one.wait_min)
        assert np.array_equal(q.served[lo:hi], one.served)
        assert longest[k] == longest_queue(arrival[lo:hi], one.start_min)
    assert q.served.any() and not q.served.all()  # both outcomes exercised


def test_service_times_of_many_facilities_match_each_facilitys_distribution() -> None:
    specs = [
        ServiceTime(dist="exponential", mean_min=9.6),
        None,
        ServiceTime(dist="lognormal", mean_min=20.0, cv=0.5),
        ServiceTime(dist="fixed", mean_min=4.0),
    ]
    times = ServiceTimes(specs)
    rng = np.random.default_rng(1)
    fac = rng.choice([0, 2, 3], 30_000)
    u = rng.random(30_000)
    got = times.draw(fac, u)
    for f in (0, 2, 3):
        spec = specs[f]
        assert spec is not None
        assert np.array_equal(got[fac == f], draw_service_min(spec, u[fac == f]))
        assert got[fac == f].mean() == pytest.approx(spec.mean_min, rel=0.03)
    assert np.std(np.log(got[fac == 2])) == pytest.approx(np.sqrt(np.log1p(0.5**2)), rel=0.03)
    with pytest.raises(ValueError, match="without a service time"):
        times.draw(np.array([1]), np.array([0.5]))


def test_the_compiled_fifo_loop_gives_the_python_loops_floats() -> None:
    """``sim/model/_fifo.pyx`` (built at install where a C compiler is present) and the Python loop:
    the same start minutes bit for bit, over queues of 1-6 windows, ties, closing and empty queues."""
    if queue._compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.model._fifo was not built"
        pytest.skip("installed without a C compiler: only the Python loop exists")
    rng = np.random.default_rng(11)
    for _ in range(400):
        n_q = int(rng.integers(1, 8))
        sizes = rng.integers(0, 60, n_q)
        bounds = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        arrival = np.concatenate([np.sort(rng.choice(np.arange(480.0, 900.0, 2.5), s)) for s in sizes])
        args = (
            arrival,
            rng.exponential(12.0, len(arrival)),
            bounds,
            rng.integers(1, 7, n_q).astype(np.int64),
            rng.uniform(420.0, 520.0, n_q),
            rng.uniform(560.0, 1000.0, n_q),
        )
        assert queue._compiled.fifo_starts(*args).tobytes() == queue.fifo_starts_python(*args).tobytes()


def test_the_compiled_visitor_order_and_longest_queues_equal_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    """``facility_arrival_order`` is ``np.lexsort((arrival, fac))`` (ties in arrival keep the given
    order) and ``longest_waiting`` is the numpy search, on random days with many tied arrivals."""
    if queue._compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.model._fifo was not built"
        pytest.skip("installed without a C compiler: only the numpy versions exist")
    rng = np.random.default_rng(12)
    cases = []
    for _ in range(200):
        n, n_fac = int(rng.integers(1, 2000)), int(rng.integers(1, 40))
        fac = rng.integers(0, n_fac, n).astype(np.int64)
        arrival = rng.choice(np.linspace(480.0, 1000.0, int(rng.integers(2, 300))), n)
        order = queue_order(fac, arrival)
        np.testing.assert_array_equal(order, np.lexsort((arrival, fac)))
        f_sorted = fac[order]
        first = np.flatnonzero(np.r_[True, f_sorted[1:] != f_sorted[:-1]])
        bounds = np.r_[first, n]
        day = serve_fifo_days(
            arrival[order],
            rng.exponential(10.0, n),
            bounds,
            servers=rng.integers(1, 4, len(first)),
            open_min=np.full(len(first), 480.0),
            close_min=np.full(len(first), 900.0),
        )
        shuffled = day.start_min.copy()
        rng.shuffle(shuffled[: n // 3])  # starts out of order, as booked visitors' may be
        for starts in (day.start_min, shuffled):
            cases.append((arrival[order], starts, bounds, longest_queues(arrival[order], starts, bounds)))
    monkeypatch.setattr(queue, "_compiled", None)
    for arrival, starts, bounds, compiled in cases:
        np.testing.assert_array_equal(compiled, longest_queues(arrival, starts, bounds))
