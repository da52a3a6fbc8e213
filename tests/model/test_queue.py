"""The FIFO c-server queue against M/M/c theory and its closing rule."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.queue import draw_service_min, longest_queue, serve_fifo
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


@pytest.mark.parametrize("dist", ["exponential", "lognormal", "fixed"])
def test_service_time_draws_have_the_declared_mean(dist: str) -> None:
    spec = ServiceTime(dist=dist, mean_min=9.6, cv=0.8)
    draws = draw_service_min(spec, np.random.default_rng(0).random(100_000))
    assert draws.mean() == pytest.approx(9.6, rel=0.02)
    assert np.all(draws > 0)
