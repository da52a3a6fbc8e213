"""plan-facilities: spopt against brute force, Erlang C sizing checked by simulation, the command."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.model.queue import serve_fifo
from sim.planning.erlang import erlang_c_mean_wait, servers_for_wait
from sim.planning.locate import select_sites
from sim.scenario.load import load_scenario
from sim.world.world import FACILITY_KINDS, build_world
from tests.conftest import TINY_MERGED


@pytest.fixture(scope="module")
def tiny_instance() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    xy_demand = rng.uniform(0, 20, (14, 2))
    xy_sites = rng.uniform(0, 20, (7, 2))
    cost = np.hypot(*(xy_demand[:, None, :] - xy_sites[None, :, :]).transpose(2, 0, 1)) * 3  # minutes
    return cost, rng.uniform(1, 30, 14)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_pmedian_matches_brute_force(tiny_instance: tuple[np.ndarray, np.ndarray], p: int) -> None:
    cost, demand = tiny_instance
    best = min(np.dot(demand, cost[:, list(s)].min(axis=1)) for s in itertools.combinations(range(7), p))
    sel = select_sites(cost, demand, p, method="pmedian")
    assert len(sel.open) == p
    assert sel.mean_cost * demand.sum() == pytest.approx(best, rel=1e-6)


@pytest.mark.parametrize("p", [1, 2])
def test_mclp_matches_brute_force(tiny_instance: tuple[np.ndarray, np.ndarray], p: int) -> None:
    cost, demand = tiny_instance
    radius = 15.0
    best = max(
        demand[cost[:, list(s)].min(axis=1) <= radius].sum() for s in itertools.combinations(range(7), p)
    )
    sel = select_sites(cost, demand, p, method="mclp", radius=radius)
    assert sel.covered_share is not None
    assert sel.covered_share * demand.sum() == pytest.approx(best, rel=1e-6)


def test_kept_site_stays_open(tiny_instance: tuple[np.ndarray, np.ndarray]) -> None:
    cost, demand = tiny_instance
    free = select_sites(cost, demand, 2)
    forced = next(j for j in range(7) if j not in free.open)
    sel = select_sites(cost, demand, 2, keep=np.array([forced]))
    assert forced in sel.open and sel.mean_cost >= free.mean_cost - 1e-9


def test_erlang_c_closed_forms() -> None:
    lam, mu = 0.3, 0.5  # M/M/1: Wq = rho / (mu - lam)
    assert erlang_c_mean_wait(lam, mu, 1) == pytest.approx((lam / mu) / (mu - lam))
    rho = lam / (2 * mu)  # M/M/2: P(wait) = 2 rho^2 / (1 + rho)
    assert erlang_c_mean_wait(lam, mu, 2) == pytest.approx(2 * rho**2 / (1 + rho) / (2 * mu - lam))
    assert erlang_c_mean_wait(1.0, 0.5, 2) == float("inf")
    assert np.isfinite(erlang_c_mean_wait(170.0, 1.0, 200))  # Erlang B recursion stays finite


def test_erlang_sizing_is_minimal_and_holds_in_simulation() -> None:
    """Size for a 5-minute target, then run the model's FIFO queue engine: the sized count meets the
    target within sampling error, one window fewer misses it."""
    lam, mean_service, target = 0.9, 6.0, 5.0  # 0.9 arrivals a minute, 6-minute errands
    c = servers_for_wait(lam, 1 / mean_service, target)
    assert (
        erlang_c_mean_wait(lam, 1 / mean_service, c)
        <= target
        < erlang_c_mean_wait(lam, 1 / mean_service, c - 1)
    )
    rng = np.random.default_rng(8)
    n = 120_000
    arrival = np.cumsum(rng.exponential(1 / lam, n))
    service = rng.exponential(mean_service, n)
    sized = serve_fifo(arrival, service, servers=c, open_min=0.0, close_min=1e12).wait_min[5_000:].mean()
    fewer = serve_fifo(arrival, service, servers=c - 1, open_min=0.0, close_min=1e12).wait_min[5_000:].mean()
    assert sized <= target * 1.15
    assert fewer > target


def _candidates(tmp_path: Path, kind: str = "hall") -> Path:
    path = tmp_path / "candidates.yaml"
    spec = {
        "facilities": {
            "cand_e2": {"kind": kind, "unit": "east", "at": "e2"},
            "cand_w": {"kind": kind, "unit": "west", "at": "seat:west"},
        }
    }
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_plan_facilities_writes_an_overlay_that_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.yaml"
    code = main(
        [
            "plan-facilities",
            str(TINY_MERGED),
            "--kind",
            "hall",
            "--p",
            "2",
            "--candidates",
            str(_candidates(tmp_path)),
            "--check-days",
            "7",
            "--seed",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "pmedian hall: 2 sites" in text and "simulated wait" in text
    overlay = yaml.safe_load(out.read_text(encoding="utf-8"))
    loaded = load_scenario(TINY_MERGED, overlays=[out])  # the overlay is a valid scenario overlay
    world = build_world(loaded)
    halls = [f for f, k in zip(world.fac_ids, world.fac_kind, strict=True) if FACILITY_KINDS[k] == "hall"]
    assert len(halls) == 2  # the budget, after the merger plan and the overlay
    assert all(world.fac_servers[world.fac_ids.index(h)] >= 1 for h in halls)
    assert overlay  # something to apply
    assert (
        main(["run", str(TINY_MERGED), "--overlay", str(out), "--days", "3", "--out", str(tmp_path / "r")])
        == 0
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--p", "9"], "--p: expected at most"),
        (["--p", "1"], "--p: expected at least 2"),
        (["--p", "2", "--kind", "school"], "--kind: expected one of"),
        (["--p", "2", "--method", "greedy"], "--method: expected one of"),
        (["--p", "2", "--keep", "nowhere"], "--keep: expected ids"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "plan.yaml"
    base = [
        "plan-facilities",
        str(TINY_MERGED),
        "--candidates",
        str(_candidates(tmp_path)),
        "--out",
        str(out),
    ]
    if "--kind" not in args:
        base += ["--kind", "hall"]
    assert main([*base, *args, "--check-days", "0"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_candidates_and_existing_output_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.yaml"
    args = ["plan-facilities", str(TINY_MERGED), "--kind", "hall", "--p", "2", "--check-days", "0"]
    assert main([*args, "--candidates", str(_candidates(tmp_path, kind="clinic")), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "candidates.yaml" in err and "facilities.cand_e2.kind" in err and "expected 'hall'" in err
    out.write_text("mine\n", encoding="utf-8")
    assert main([*args, "--candidates", str(_candidates(tmp_path)), "--out", str(out)]) == 2
    assert "not written by townsim" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "mine\n"


def test_groups_force_one_site_each(tiny_instance: tuple[np.ndarray, np.ndarray]) -> None:
    """One hall per unit: with site groups, maximal covering matches brute force over the feasible sets."""
    cost, demand = tiny_instance
    groups = [np.array([0, 1, 2]), np.array([3, 4, 5, 6])]
    radius = 15.0
    feasible = [s for s in itertools.combinations(range(7), 2) if all(set(s) & set(g) for g in groups)]
    best = max(demand[cost[:, list(s)].min(axis=1) <= radius].sum() for s in feasible)
    sel = select_sites(cost, demand, 2, method="mclp", radius=radius, groups=groups)
    assert all(set(sel.open) & set(g) for g in groups)
    assert sel.covered_share is not None
    assert sel.covered_share * demand.sum() == pytest.approx(best, rel=1e-6)
