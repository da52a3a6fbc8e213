"""A sampled population keeps the queues right: ghosts against Erlang C and against a full run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.model import AccessModel
from sim.model.ghosts import GhostPlan, GhostRates
from sim.model.population import synthesise_residents
from sim.model.queue import ghost_counts, serve_fifo, serve_with_ghosts
from sim.model.streams import Streams
from sim.results import build_result
from sim.scenario import load_scenario
from sim.world.world import build_world
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


def _loads(fraction: float, lam: np.ndarray, days: int, *, matched: bool) -> np.ndarray:
    """(days, facilities) sampled + ghost first trips when the full population's are Poisson(lam)
    per weekday (rows of ``lam``; 0 = closed): the ghost plan from past days' sampled counts."""
    rng = np.random.default_rng(11)
    n_fac = lam.shape[1]
    rates = GhostRates(np.zeros(n_fac, dtype=np.int64), 1, fraction)
    out = np.zeros((days, n_fac))
    for day in range(days):
        wd = day % 7
        open_ = lam[wd] > 0
        sampled = rng.poisson(fraction * lam[wd])
        plan = rates.plan(wd, open_, np.repeat(np.arange(n_fac), sampled), np.ones(sampled.sum(), bool))
        if not matched:  # Poisson around the estimate, as if it had no variance of its own
            plan = GhostPlan(plan.mean, np.zeros(n_fac), plan.complete)
        u = rng.random((n_fac, 2))
        out[day] = sampled + [plan.count(f, u[f, 0], u[f, 1]) if open_[f] else 0 for f in range(n_fac)]
    return out


@pytest.mark.parametrize("fraction", [0.1, 0.25])
def test_ghost_plan_gives_the_full_population_load(fraction: float) -> None:
    """Against brute force: with stationary Poisson arrivals (a Monday backlog, closed at
    weekends; four facilities at each of three sizes), the day's sampled + ghost load has the
    full population's mean and variance, Mondays and other weekdays apart; without subtracting
    the estimate's own variance it would be overdispersed."""
    size = np.repeat([30.0, 10.0, 2.0], 4)
    lam = np.stack([3 * size] + [size] * 4 + [0 * size] * 2)
    days, warm = 7 * 400, 7 * 20
    load = _loads(fraction, lam, days, matched=True)[warm:]
    loose = _loads(fraction, lam, days, matched=False)[warm:]

    def by_size(x: np.ndarray, weekdays: list[int]) -> tuple[np.ndarray, np.ndarray]:
        rows = np.concatenate([x[wd::7] / lam[wd] for wd in weekdays])  # load / expected load
        scaled = np.concatenate([(x[wd::7] - lam[wd]) / np.sqrt(lam[wd]) for wd in weekdays])
        return rows.mean(axis=0).reshape(3, 4).mean(axis=1), scaled.var(axis=0).reshape(3, 4).mean(axis=1)

    for weekdays, excess in (([0], 0.15), ([1, 2, 3, 4], 0.05)):
        mean, var = by_size(load, weekdays)
        assert mean == pytest.approx(np.ones(3), abs=0.03), (weekdays, mean)
        assert var == pytest.approx(np.ones(3), abs=0.15), (weekdays, var)
        # what the matching removes (same random numbers: a paired difference)
        assert (by_size(loose, weekdays)[1] - var).mean() > excess
    assert (load[5::7] == 0).all() and (load[6::7] == 0).all()


def test_sample_keeps_each_village_and_band_share() -> None:
    """Every (village, age band) cell keeps floor or ceil of f x its residents."""
    loaded = load_scenario(Path(__file__).parents[2] / "scenarios/tiny/baseline.yaml")
    world = build_world(loaded, population_scale=50.0)
    for fraction in (0.1, 0.25):
        res = synthesise_residents(world, Streams(3), modes=loaded.scenario.modes, sample_fraction=fraction)
        kept = np.zeros_like(world.village_pop)
        np.add.at(kept, (res.village, res.band), 1)
        want = fraction * world.village_pop
        assert ((kept == np.floor(want)) | (kept == np.ceil(want))).all()
        assert abs(kept.sum() - want.sum()) < 3 * np.sqrt(world.village_pop.size)


def _busy_tiny(tiny_raw: dict[str, Any]) -> dict[str, Any]:
    """Tiny with halls and clinics busy (about 40% and 64% utilisation, waits about 30 and 40 min)."""
    raw = dict(tiny_raw)
    raw["services"]["admin_simple"]["rate_per_person_year"] = {"15-59": 16.0, "60+": 16.0}
    raw["services"]["clinic"]["rate_per_person_year"] = {
        b: 18 * r for b, r in raw["services"]["clinic"]["rate_per_person_year"].items()
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
    """Hall and clinic waits, turned-away shares and utilisation at a 25% sample agree
    with the full population within 4 standard errors (weekly batch means), and the tolerance is
    tight enough to catch stretching service times by 1/f instead (waits x3-4)."""
    path = write_scenario(_busy_tiny(tiny_raw))
    days = 196
    full = _queue_stats(path, 1.0, days, seed=1)
    sampled = _queue_stats(path, 0.25, days, seed=2)
    checks = [(kind, col) for kind in ("hall", "clinic") for col in ("wait", "away", "utilisation")]
    for kind, col in checks:
        a, b = full.loc[kind, col], sampled.loc[kind, col]
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        assert abs(a.mean() - b.mean()) <= 4 * se, (kind, col, a.mean(), b.mean(), se)
        if col != "away":  # rare events: the band is wide, but a 1/f bias would still fail the others
            assert 4 * se < 0.5 * a.mean(), (kind, col)
    assert full.loc["hall", "wait"].mean() > 10 and full.loc["hall", "away"].mean() > 0.002
