"""Accessibility indices against PySAL ``access`` on the same inputs, by hand, and against the run tables."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from access import Access, weights

from sim.metrics.access import (
    CATCHMENT_MIN,
    GAUSSIAN_SIGMA_MIN,
    GRAVITY_BETA,
    GRAVITY_MIN_COST_MIN,
    facility_mean_wait,
    gaussian_weight,
    gravity_weight,
    step_weight,
    two_step_fca,
)
from sim.model.model import AccessModel
from sim.results.tables import build_result
from sim.scenario.load import load_scenario
from tests.conftest import TINY_MERGED


def _pysal_2sfca(demand: np.ndarray, supply: np.ndarray, cost: np.ndarray, **kwargs: object) -> np.ndarray:
    """PySAL ``access`` two-stage FCA on a dense cost matrix (inf = no link); NaN where nothing is reached."""
    rows, cols = np.nonzero(np.isfinite(cost))
    with warnings.catch_warnings():  # access 1.1.10 uses pandas APIs deprecated for pandas 4
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return _pysal_call(demand, supply, cost, rows, cols, **kwargs)


def _pysal_call(
    demand: np.ndarray,
    supply: np.ndarray,
    cost: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    **kwargs: object,
) -> np.ndarray:
    acc = Access(
        demand_df=pd.DataFrame({"geoid": np.arange(len(demand)), "pop": demand}),
        demand_index="geoid",
        demand_value="pop",
        supply_df=pd.DataFrame({"geoid": np.arange(len(supply)), "servers": supply}),
        supply_index="geoid",
        supply_value="servers",
        cost_df=pd.DataFrame({"origin": rows, "dest": cols, "cost": cost[rows, cols]}),
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    out = acc.two_stage_fca(name="x", **kwargs)  # type: ignore[arg-type]
    return out["x_servers"].reindex(np.arange(len(demand))).to_numpy(float)


@pytest.fixture(scope="module")
def instance() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(12)
    demand = rng.integers(50, 5_000, 40).astype(float)
    supply = rng.integers(1, 12, 9).astype(float)
    cost = rng.uniform(1, 70, (40, 9))
    cost[rng.random((40, 9)) < 0.15] = np.inf  # no road / other jurisdiction
    return demand, supply, cost


@pytest.mark.parametrize("method", ["2sfca", "e2sfca", "gravity"])
def test_two_step_fca_matches_pysal_access(instance: tuple[np.ndarray, ...], method: str) -> None:
    demand, supply, cost = instance
    if method == "2sfca":
        ours = two_step_fca(demand, supply, step_weight(cost))
        theirs = _pysal_2sfca(demand, supply, cost, max_cost=CATCHMENT_MIN)
    elif method == "e2sfca":
        ours = two_step_fca(demand, supply, gaussian_weight(cost))
        theirs = _pysal_2sfca(
            demand, supply, cost, max_cost=CATCHMENT_MIN, weight_fn=weights.gaussian(GAUSSIAN_SIGMA_MIN)
        )
    else:
        ours = two_step_fca(demand, supply, gravity_weight(cost))
        fn = weights.gravity(scale=1, alpha=-GRAVITY_BETA, min_dist=GRAVITY_MIN_COST_MIN)
        theirs = _pysal_2sfca(demand, supply, cost, weight_fn=fn)
    reached = np.isfinite(theirs)
    assert reached.sum() >= 30
    np.testing.assert_allclose(ours[reached], theirs[reached], rtol=1e-10)
    assert np.all(ours[~reached] == 0)  # PySAL leaves places reaching nothing out; we report 0


def test_two_step_fca_by_hand() -> None:
    # villages of 1,000 and 3,000 people both reach a clinic with 4 doctors; only the first reaches
    # a second clinic with 2 doctors: R = 4/4000 and 2/1000 -> A = 0.001 + 0.002, 0.001
    cost = np.array([[10.0, 20.0], [10.0, 45.0]])
    a = two_step_fca(np.array([1000.0, 3000.0]), np.array([4.0, 2.0]), step_weight(cost))
    np.testing.assert_allclose(a, [0.003, 0.001])
    # supply is conserved: demand-weighted sum of the index equals the supply reached
    assert np.dot([1000.0, 3000.0], a) == pytest.approx(6.0)


@pytest.fixture(scope="module")
def tiny_run() -> tuple[AccessModel, object, dict]:
    loaded = load_scenario(TINY_MERGED)
    model = AccessModel(loaded, seed=3)
    model.run(20)
    result = build_result(model)
    from sim.metrics.access import access_summary

    return model, result, access_summary(model, result)


def test_village_indices_match_pysal_on_the_model_inputs(tiny_run: tuple) -> None:
    """Multimodal demand rows (fastest own mode, village) rebuilt with pandas, indices by PySAL."""
    model, _result, block = tiny_run
    w, tab, res = model.world, model.tables, model.residents
    median = pd.DataFrame(np.median(tab.time_min, axis=2))  # (modes, villages)
    for s, name in enumerate(w.services):
        rates = model.loaded.scenario.services[name].rate_per_person_year
        users = np.array([rates.get(b, 0.0) > 0 for b in w.age_bands])[res.band]
        fastest = np.array(
            [
                min((median.iat[m, v], m) for m in np.flatnonzero(res.owns[:, r]))[1]
                for r, v in enumerate(res.village)
            ]
        )
        frame = pd.DataFrame({"mode": fastest, "village": res.village, "w": res.weight * users})
        rows = frame.groupby(["mode", "village"])["w"].sum()
        ok = w.fac_completes[:, s] & (w.fac_servers > 0)
        cost = tab.time_min[rows.index.get_level_values(0), rows.index.get_level_values(1)].copy()
        cost[:, ~ok] = np.inf
        if model.loaded.scenario.services[name].jurisdiction:
            village_unit = w.unit_new[w.village_unit][rows.index.get_level_values(1)]
            cost[w.fac_new_unit[None, :] != village_unit[:, None]] = np.inf
        theirs = _pysal_2sfca(
            rows.to_numpy(),
            w.fac_servers.astype(float),
            cost,
            max_cost=CATCHMENT_MIN,
            weight_fn=weights.gaussian(GAUSSIAN_SIGMA_MIN),
        )
        per_row = pd.Series(np.nan_to_num(theirs) * 1000, index=rows.index)
        village = (per_row * rows).groupby(level="village").sum() / rows.groupby(level="village").sum()
        ours = np.array(block["by_village"][f"{name}.e2sfca"], dtype=float)
        has = rows.groupby(level="village").sum() > 0
        np.testing.assert_allclose(ours[village.index[has]], village[has], rtol=1e-3, atol=1e-4)


def test_life_circles_agree_with_resident_access_times(tiny_run: tuple) -> None:
    model, result, block = tiny_run
    res = result.residents
    for name, entry in block["services"].items():
        rates = model.loaded.scenario.services[name].rate_per_person_year
        users = res["age_band"].map(lambda b, r=rates: r.get(b, 0.0) > 0).to_numpy(bool)
        minutes = res.loc[users, f"access_{name}_min"].to_numpy()
        wt = res.loc[users, "weight"].to_numpy()
        shares = [entry["life_circle_share"]["own_mode"][str(t)] for t in (5, 15, 30)]
        for t, share in zip((5, 15, 30), shares, strict=True):
            assert share == pytest.approx(np.sum(wt * (minutes <= t)) / wt.sum(), abs=1e-4)
        assert shares == sorted(shares)
        walk = [entry["life_circle_share"]["walk"][str(t)] for t in (5, 15, 30)]
        assert all(wk <= own + 1e-9 for wk, own in zip(walk, shares, strict=True))  # walking is never faster


def test_queue_aware_index_uses_simulated_waits(tiny_run: tuple) -> None:
    model, result, block = tiny_run
    trips = result.trips[result.trips["day"] >= 0]  # facility_days cover measured days (warm-up days < 0)
    by_trip = trips.groupby("facility", observed=True)["wait_min"].mean()
    wait = facility_mean_wait(result.facility_days, model.world.fac_ids)
    for fac, value in by_trip.items():
        assert wait[model.world.fac_ids.index(fac)] == pytest.approx(value, rel=1e-9, abs=1e-9)
    for entry in block["services"].values():
        q = entry["queue_aware_nearest_min"]["mean"]
        assert q is not None and q >= 0
    # with no waits the queue-aware index is the E2SFCA index itself
    demand, supply = np.array([100.0, 300.0]), np.array([2.0, 1.0])
    cost = np.array([[5.0, 25.0], [12.0, 8.0]])
    np.testing.assert_allclose(
        two_step_fca(demand, supply, gaussian_weight(cost + np.zeros(2)[None, :])),
        two_step_fca(demand, supply, gaussian_weight(cost)),
    )
    longer = two_step_fca(demand, supply, gaussian_weight(cost + np.array([40.0, 0.0])[None, :]))
    assert longer[0] < two_step_fca(demand, supply, gaussian_weight(cost))[0]
