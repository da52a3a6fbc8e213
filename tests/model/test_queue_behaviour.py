"""Balking and reneging in the FIFO queue against ciw and the exact birth-death chain of M/M/c.

The model's queue function is driven directly on Poisson arrivals with exponential service and
patience, one long day. Three numbers are compared for each case: ciw 3 (an independent
discrete-event simulator with baulking functions and reneging-time distributions), the exact
stationary solution of the birth-death chain (arrival rate lam x (1 - p) from c + K people in
the system on, departure rate min(n, c) mu + max(n - c, 0) theta), and the model. Each share and
the mean wait in queue of those who joined must agree within 5%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from sim.model.queue import BALKED, RENEGED, Impatience, serve_fifo_days, serve_impatient_days

ciw = pytest.importorskip("ciw")

NEVER = 2**62


@dataclass(frozen=True)
class Case:
    """M/M/c with balking (probability p when K or more are waiting) and exponential patience."""

    lam: float  # arrivals per minute
    mean_service: float  # minutes
    servers: int
    balk_waiting: int | None  # K; None: nobody balks
    balk_p: float
    mean_patience: float | None  # minutes; None: nobody reneges


CASES = {
    "balking, overloaded": Case(1.0, 4.0, 3, 4, 1.0, None),
    "reneging": Case(1.0, 2.5, 3, None, 0.0, 5.0),
    "both, random balking": Case(1.2, 3.0, 3, 2, 0.6, 8.0),
}
ARRIVALS = 40_000


def exact(case: Case) -> dict[str, float]:
    """Shares and mean wait in queue of joiners from the chain's stationary distribution (PASTA, Little)."""
    c, mu = case.servers, 1.0 / case.mean_service
    theta = 0.0 if case.mean_patience is None else 1.0 / case.mean_patience
    balk_from = math.inf if case.balk_waiting is None else c + case.balk_waiting
    n_max = 400
    n = np.arange(n_max + 1)
    birth = case.lam * np.where(n >= balk_from, 1.0 - case.balk_p, 1.0)
    death = np.minimum(n, c) * mu + np.maximum(n - c, 0) * theta
    pi = np.concatenate([[1.0], np.cumprod(birth[:-1] / death[1:])])  # detailed balance
    pi /= pi.sum()
    balk = float((pi * case.lam * np.where(n >= balk_from, case.balk_p, 0.0)).sum() / case.lam)
    renege = float((pi * np.maximum(n - c, 0) * theta).sum() / case.lam)
    joined = case.lam * (1.0 - balk)
    lq = float((pi * np.maximum(n - c, 0)).sum())
    return {"balk": balk, "renege": renege, "served": 1.0 - balk - renege, "wait": lq / joined}


def by_ciw(case: Case, seed: int) -> dict[str, float]:
    k, p, c = case.balk_waiting, case.balk_p, case.servers
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=case.lam)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / case.mean_service)],
        number_of_servers=[c],
        baulking_functions=[
            (lambda n, **_: p if n >= c + k else 0.0) if k is not None else (lambda n, **_: 0.0)
        ],
        reneging_time_distributions=[
            ciw.dists.Exponential(rate=1.0 / case.mean_patience) if case.mean_patience else None
        ],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    horizon = ARRIVALS / case.lam
    sim.simulate_until_max_time(horizon)
    warm = 0.05 * horizon
    recs = [r for r in sim.get_all_records() if r.arrival_date >= warm]
    kinds = np.array([r.record_type for r in recs])
    waits = np.array([r.waiting_time for r in recs if r.record_type in ("service", "renege")])
    # customers still in the system at the horizon are not in the records: a few out of 40,000
    total = len(recs)
    return {
        "balk": float(np.mean(kinds == "baulk")) if total else 0.0,
        "renege": float(np.mean(kinds == "renege")),
        "served": float(np.mean(kinds == "service")),
        "wait": float(waits.mean()),
    }


def by_model(case: Case, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1.0 / case.lam, ARRIVALS))
    service = rng.exponential(case.mean_service, ARRIVALS)
    balks = rng.uniform(size=ARRIVALS) < case.balk_p
    balk_at = np.where(balks, case.balk_waiting if case.balk_waiting is not None else NEVER, NEVER)
    patience = (
        rng.exponential(case.mean_patience, ARRIVALS) if case.mean_patience else np.full(ARRIVALS, np.inf)
    )
    close = arrival[-1] + 1e6  # one long day: nobody is turned away at closing
    q = serve_impatient_days(
        arrival,
        service,
        np.array([0, ARRIVALS]),
        Impatience(
            balk_at=balk_at.astype(np.int64),
            patience_min=patience,
            mean_service_min=np.array([case.mean_service]),
        ),
        servers=np.array([case.servers]),
        open_min=np.array([0.0]),
        close_min=np.array([close]),
    )
    assert q.left is not None
    keep = arrival >= 0.05 * arrival[-1]
    left, joined = q.left[keep], q.left[keep] != BALKED
    return {
        "balk": float(np.mean(left == BALKED)),
        "renege": float(np.mean(left == RENEGED)),
        "served": float(np.mean(q.served[keep])),
        "wait": float(q.wait_min[keep][joined].mean()),
    }


@pytest.mark.parametrize("name", list(CASES))
def test_balking_and_reneging_match_ciw_and_the_exact_chain(name: str) -> None:
    case = CASES[name]
    truth, ours, theirs = exact(case), by_model(case, seed=11), by_ciw(case, seed=11)
    for metric in ("balk", "renege", "served", "wait"):
        if truth[metric] < 0.01:  # this case has none: all three agree on (almost) none
            assert ours[metric] == pytest.approx(0.0, abs=0.01) and theirs[metric] == pytest.approx(
                0.0, abs=0.01
            )
            continue
        assert ours[metric] == pytest.approx(truth[metric], rel=0.05), (metric, ours, truth)
        assert ours[metric] == pytest.approx(theirs[metric], rel=0.05), (metric, ours, theirs)


def test_patient_visitors_who_never_balk_are_the_plain_fifo_queue() -> None:
    """Infinite patience and no balking: exactly serve_fifo_days (closing time included)."""
    rng = np.random.default_rng(3)
    sizes = [0, 40, 90, 7]
    bounds = np.r_[0, np.cumsum(sizes)]
    arrival = np.concatenate([np.sort(rng.uniform(480, 1000, k)) for k in sizes])
    service = rng.exponential(12.0, len(arrival))
    kwargs = {
        "servers": np.array([1, 2, 3, 1]),
        "open_min": np.full(4, 510.0),
        "close_min": np.full(4, 1020.0),
    }
    plain = serve_fifo_days(arrival, service, bounds, **kwargs)
    patient = Impatience(np.full(len(arrival), NEVER), np.full(len(arrival), np.inf), np.full(4, 12.0))
    q = serve_impatient_days(arrival, service, bounds, patient, **kwargs)
    np.testing.assert_array_equal(q.start_min, plain.start_min)
    np.testing.assert_array_equal(q.wait_min, plain.wait_min)
    np.testing.assert_array_equal(q.served, plain.served)
    assert q.left is not None and not q.left.any()


def test_a_reneger_frees_no_window_and_a_balker_never_waits() -> None:
    """One window, service 10 min: the second visitor gives up after 3 min, so the third is served at 10."""
    arrival = np.array([0.0, 1.0, 2.0, 2.5])
    service = np.full(4, 10.0)
    imp = Impatience(
        balk_at=np.array([NEVER, NEVER, NEVER, 2]),
        patience_min=np.array([np.inf, 3.0, np.inf, np.inf]),
        mean_service_min=np.array([10.0]),
    )
    one = {"servers": np.array([1]), "open_min": np.array([0.0]), "close_min": np.array([600.0])}
    q = serve_impatient_days(arrival, service, np.array([0, 4]), imp, **one)
    assert q.left is not None and q.seen_wait_min is not None
    assert q.left.tolist() == [0, RENEGED, 0, BALKED]  # 2 waiting (visitors 2 and 3) when the 4th comes
    assert q.wait_min.tolist() == [0.0, 3.0, 8.0, 0.0]
    assert q.start_min[2] == 10.0 and q.served.tolist() == [True, False, True, False]
    assert q.seen_wait_min[3] == pytest.approx(30.0)  # (2 waiting + 1) x 10 min / 1 window


def main() -> None:
    """Print the comparison table (``python -m tests.model.test_queue_behaviour``)."""
    print("| case | metric | exact chain | ciw | model |")
    print("|---|---|---|---|---|")
    for name, case in CASES.items():
        truth, theirs, ours = exact(case), by_ciw(case, seed=11), by_model(case, seed=11)
        for metric in ("balk", "renege", "served", "wait"):
            print(f"| {name} | {metric} | {truth[metric]:.4f} | {theirs[metric]:.4f} | {ours[metric]:.4f} |")


if __name__ == "__main__":
    main()
