"""A sampled population keeps the queues right: ghosts against Erlang C and against a full run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.model import AccessModel
from sim.model.queue import ghost_counts, serve_fifo, serve_with_ghosts
from sim.model.streams import Streams
from sim.results import build_result
from sim.scenario import load_scenario
from tests.model.test_queue import erlang_c_mean_wait


@pytest.mark.parametrize("weight", [4.0, 2.5, 10.0 / 3.0])
def test_ghost_counts_average_the_weight(weight: float) -> None:
    u = Streams(0).uniform("g", np.arange(200_000))
    counts = ghost_counts(weight, u)
    assert counts.min() >= np.floor(weight - 1 - 1e-9) and counts.max() <= np.ceil(weight - 1)
    assert counts.mean() + 1 == pytest.approx(weight, abs=0.01)


@pytest.mark.parametrize(
    ("fraction", "lam", "mean_service", "servers"), [(0.25, 0.5, 3.0, 2), (0.1, 0.25, 10.0, 3)]
)
def test_sampled_visitors_with_ghosts_wait_as_erlang_c(
    fraction: float, lam: float, mean_service: float, servers: int
) -> None:
    """Poisson(f·λ) sampled arrivals, each with ghosts arriving uniformly over the horizon: the
    superposition is Poisson(λ), so sampled visitors' mean wait is the M/M/c (Erlang C) wait."""
    rng = np.random.default_rng(5)
    horizon = 1_000_000.0 if fraction < 0.2 else 400_000.0
    n = rng.poisson(fraction * lam * horizon)
    arrival = np.sort(rng.uniform(0, horizon, n))
    service = rng.exponential(mean_service, n)
    count = ghost_counts(1 / fraction, rng.random(n))
    ghost_arrival = rng.uniform(0, horizon, count.sum())
    ghost_service = rng.exponential(mean_service, count.sum())
    q, came, longest = serve_with_ghosts(
        arrival,
        service,
        ghost_arrival,
        ghost_service,
        lambda pos, a, s: (serve_fifo(a, s, servers=servers, open_min=0.0, close_min=1e12), a),
    )
    assert np.array_equal(came, arrival)
    waits = q.wait_min[n // 50 :]  # drop the first 2% (empty start)
    batches = waits[: len(waits) // 50 * 50].reshape(50, -1).mean(axis=1)
    se = batches.std(ddof=1) / np.sqrt(50)
    theory = erlang_c_mean_wait(lam, 1 / mean_service, servers)
    assert abs(waits.mean() - theory) < 4 * se and 4 * se < 0.15 * theory
    assert longest >= 1 and q.served.all()


def _busy_tiny(tiny_raw: dict[str, Any]) -> dict[str, Any]:
    raw = dict(tiny_raw)
    raw["services"]["admin_simple"]["rate_per_person_year"] = {"15-59": 16.0, "60+": 16.0}
    raw["services"]["clinic"]["rate_per_person_year"] = {
        b: 2 * r for b, r in raw["services"]["clinic"]["rate_per_person_year"].items()
    }
    return raw


def _queue_stats(path, fraction: float, days: int, seed: int) -> pd.DataFrame:
    """Per facility kind and week: arrival-weighted mean wait, turned-away share, mean utilisation."""
    loaded = load_scenario(
        path, overrides={"simulation.sample_fraction": fraction, "simulation.warmup_days": 42}
    )
    model = AccessModel(loaded, seed=seed, population_scale=4.0)
    model.run(days)
    result = build_result(model)
    trips = result.trips[result.trips["day"] >= 0]
    trips = trips.assign(
        kind=trips["facility"].astype(str).str.rsplit("_", n=1).str[-1], week=trips["day"] // 7
    )
    fd = result.facility_days.assign(week=result.facility_days["day"] // 7)
    out = trips.groupby(["kind", "week"]).agg(
        wait=("wait_min", "mean"), away=("outcome", lambda o: (o == "turned_away").mean())
    )
    fd_kind = fd.assign(kind=fd["facility"].astype(str).str.rsplit("_", n=1).str[-1])
    out["utilisation"] = fd_kind.groupby(["kind", "week"])["utilisation"].mean()
    return out


def test_sampled_run_matches_full_run_queues(tiny_raw, write_scenario) -> None:
    """Hall waits, turned-away shares and utilisation, and clinic utilisation, at a 25% sample agree
    with the full population within 4 standard errors (weekly batch means), and the tolerance is
    tight enough to catch the old 1/f service stretch (waits x3-4)."""
    path = write_scenario(_busy_tiny(tiny_raw))
    days = 196
    full = _queue_stats(path, 1.0, days, seed=1)
    sampled = _queue_stats(path, 0.25, days, seed=2)
    for kind, col in (("hall", "wait"), ("hall", "away"), ("hall", "utilisation"), ("clinic", "utilisation")):
        a, b = full.loc[kind, col], sampled.loc[kind, col]
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        assert abs(a.mean() - b.mean()) <= 4 * se, (kind, col, a.mean(), b.mean(), se)
        if col != "away":  # rare events: the band is wide, but a 1/f bias would still fail the others
            assert 4 * se < 0.5 * a.mean(), (kind, col)
    assert full.loc["hall", "wait"].mean() > 10 and full.loc["hall", "away"].mean() > 0.002
