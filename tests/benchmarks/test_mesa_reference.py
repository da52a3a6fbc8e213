"""The plain-Mesa reference (benchmarks/mesa_reference) agrees with townsim within stochastic error.

Independent replications of both models on the tiny merged scenario with congested facilities
(long service times, so queues, turn-aways and referrals matter); each headline mean must agree
within a 99.5% Welch t interval of the difference, and the intervals must be narrow enough that
the check has power (``POWER``: the relative size of a difference it would detect).
"""

from __future__ import annotations

import math
import statistics

import pytest
from scipy import stats

from benchmarks.mesa_reference import MesaReferenceModel, ResidentAgent
from sim.runner import run_loaded
from sim.scenario import load_scenario
from tests.conftest import TINY_MERGED

DAYS = 120
SEEDS = range(6)
CONGESTED = {
    "facility_defaults.clinic.service_time.mean_min": 120,
    "facility_defaults.hall.service_time.mean_min": 150,
    "facility_defaults.service_point.service_time.mean_min": 120,
    "simulation.warmup_days": 0,  # the reference starts empty too
}
# largest interval half-width allowed, relative to the value: the size of difference the check can see
POWER = {
    "errands_per_day": 0.1,
    "burden_mean_min": 0.15,
    "burden_share_over_30_min": 0.1,
    "trips_per_completed_errand": 0.05,
    "mean_wait_min": 0.25,
    "turned_away_share": 0.6,  # a rare event (about 3% of trips): wide, but still bounded
}
METRICS = (
    "errands_per_day",
    "burden_mean_min",
    "burden_share_over_30_min",
    "trips_per_completed_errand",
    "mean_wait_min",
    "turned_away_share",
)


@pytest.fixture(scope="module")
def replications() -> dict[str, dict[str, list[float]]]:
    loaded = load_scenario(TINY_MERGED, overrides=CONGESTED)
    out: dict[str, dict[str, list[float]]] = {
        "mesa": {m: [] for m in METRICS},
        "townsim": {m: [] for m in METRICS},
    }
    for seed in SEEDS:
        ref = MesaReferenceModel(loaded, seed=seed)
        for _ in range(DAYS):
            ref.step()
        h = ref.headline()
        for m, v in (
            ("errands_per_day", h.errands_arisen / DAYS),
            ("burden_mean_min", h.burden_mean_min),
            ("burden_share_over_30_min", h.burden_share_over_30_min),
            ("trips_per_completed_errand", h.trips_per_completed_errand),
            ("mean_wait_min", h.mean_wait_min),
            ("turned_away_share", h.turned_away_share),
        ):
            out["mesa"][m].append(v)
        result = run_loaded(loaded, days=DAYS, seed=seed + 1000)
        s, trips = result.summary, result.trips
        for m, v in (
            ("errands_per_day", s.errands.arisen / DAYS),
            ("burden_mean_min", s.burden_min.mean),
            ("burden_share_over_30_min", s.burden_share_over_min["30"]),
            ("trips_per_completed_errand", s.trips_per_completed_errand),
            ("mean_wait_min", float(trips["wait_min"].mean())),
            ("turned_away_share", s.errands.trips_turned_away / len(trips)),
        ):
            out["townsim"][m].append(v)
    return out


@pytest.mark.parametrize("metric", METRICS)
def test_headline_means_agree_within_stochastic_error(replications, metric: str) -> None:
    a, b = replications["mesa"][metric], replications["townsim"][metric]
    assert all(math.isfinite(x) for x in a + b)
    n = len(a)
    va, vb = statistics.variance(a) / n, statistics.variance(b) / n
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (n - 1) + vb**2 / (n - 1))
    half = stats.t.ppf(0.9975, df) * se
    diff = statistics.mean(a) - statistics.mean(b)
    assert abs(diff) <= half, (
        f"{metric}: mesa {statistics.mean(a):.4g} vs townsim {statistics.mean(b):.4g} (±{half:.3g})"
    )
    # power: the interval is a small fraction of the value, so a real difference would show
    assert half <= POWER[metric] * abs(statistics.mean(b)), (
        f"{metric}: interval ±{half:.3g} too wide to be a check"
    )


def test_mesa_reference_is_reproducible() -> None:
    loaded = load_scenario(TINY_MERGED)
    heads = []
    for _ in range(2):
        ref = MesaReferenceModel(loaded, seed=11)
        for _ in range(20):
            ref.step()
        heads.append(ref.headline())
    assert heads[0] == heads[1]
    assert heads[0].errands_arisen > 0
    population = sum(v.population[b] for v in loaded.scenario.villages for b in v.population)
    assert len(ref.agents_by_type[ResidentAgent]) == population  # one Mesa agent per resident
