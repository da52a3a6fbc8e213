"""Expected waits of a plan not yet simulated (sim/planning/waits.py): the M(t)/M/c chain against
Erlang C and the FIFO queue engine, and the whole estimate against the model's simulated waits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.metrics.access import facility_mean_wait, resident_cells
from sim.model.model import AccessModel
from sim.model.queue import serve_fifo
from sim.planning.erlang import erlang_c_mean_wait
from sim.planning.waits import arrival_density, planned_waits, transient_mean_wait
from sim.runner import run_loaded
from sim.scenario.load import load_scenario
from sim.scenario.schema import Behaviour
from tests.conftest import TINY

# the tiny county with ten times the visit rates: utilisation 0.2-0.4 per server over the day
BUSY = {
    "services": {
        "clinic": {
            "rate_per_person_year": {
                "0-2": 40.0, "3-5": 30.0, "6-11": 20.0, "12-14": 15.0, "15-59": 20.0, "60+": 50.0
            }
        },
        "admin_simple": {"rate_per_person_year": {"15-59": 8.0, "60+": 9.6}},
        "admin_complex": {"rate_per_person_year": {"15-59": 2.4, "60+": 2.4}},
    }
}  # fmt: skip


@pytest.mark.parametrize(("lam", "mean_service", "c"), [(0.05, 15.0, 1), (0.15, 9.6, 2), (0.12, 20.0, 3)])
def test_chain_at_a_constant_rate_is_erlang_c(lam: float, mean_service: float, c: int) -> None:
    span, step = 40_000.0, 0.5  # a long day: the start from empty weighs little
    steps = int(span / step)
    density = np.full((1, steps), 1.0 / steps)
    wq, _ = transient_mean_wait(
        np.array([lam * span]),
        density,
        np.array([float(c)]),
        np.array([mean_service]),
        np.array([steps]),
        step,
    )
    assert wq[0] == pytest.approx(erlang_c_mean_wait(lam, 1 / mean_service, c), rel=0.03)


@pytest.mark.parametrize(("visits", "c", "mean_service"), [(21.2, 1, 15.0), (49.0, 2, 9.6), (60.0, 3, 20.0)])
def test_chain_matches_the_fifo_engine_over_the_models_arrival_profile(
    visits: float, c: int, mean_service: float
) -> None:
    """Poisson day counts, arrivals at open + |N(150, 120)| (clamped 30 min before closing),
    exponential service, turned away at closing: the queue engine's mean wait over 6,000 days."""
    b = Behaviour()
    open_min, close_min, step = 510.0, 1020.0, 0.1
    density = arrival_density(b, open_min, close_min, step)
    wq, away = transient_mean_wait(
        np.array([visits]), density[None], np.array([float(c)]), np.array([mean_service]),
        np.array([len(density)]), step,
    )  # fmt: skip
    rng = np.random.default_rng(3)
    waits, turned = [], 0
    latest = close_min - b.latest_arrival_before_close_min - open_min
    for _ in range(6_000):
        k = rng.poisson(visits)
        offset = np.abs(b.arrival_after_open_min + b.arrival_sd_min * rng.standard_normal(k))
        arrival = np.sort(open_min + np.minimum(offset, latest))
        q = serve_fifo(
            arrival, rng.exponential(mean_service, k), servers=c, open_min=open_min, close_min=close_min
        )
        waits.append(q.wait_min)
        turned += int((~q.served).sum())
    sim = np.concatenate(waits)
    se = sim.std() / np.sqrt(len(sim)) * 3  # waits within a day are correlated: a generous error
    assert abs(wq[0] - sim.mean()) < max(4 * se, 0.04 * sim.mean())
    assert away[0] == pytest.approx(turned / 6_000, rel=0.15, abs=0.005)  # turned away a day


def test_planned_waits_agree_with_the_simulated_ones(tmp_path: Path) -> None:
    """Busy tiny county, 364 simulated days: visits within 5% and waits within 30% per facility
    (halls and clinics at utilisation 0.2-0.4), the visit-weighted mean wait within 10%; Erlang C
    at the mean rate (no daily peak) is far below both."""
    overlay = tmp_path / "busy.yaml"
    overlay.write_text(yaml.safe_dump(BUSY), encoding="utf-8")
    loaded = load_scenario(TINY, overlays=(overlay,))
    model = AccessModel(loaded, seed=1)
    planned = planned_waits(model, resident_cells(model))
    result = run_loaded(loaded, days=364, seed=1)
    fd = result.facility_days
    ids = list(model.world.fac_ids)
    simulated = facility_mean_wait(fd, ids)
    open_days = fd.groupby("facility", observed=True)["arrivals"].mean()
    visited = [f for f in range(len(ids)) if planned.visits_per_open_day[f] > 0]
    assert len(visited) == 6  # 3 halls, 3 clinics
    for f in visited:
        assert planned.visits_per_open_day[f] == pytest.approx(open_days[ids[f]], rel=0.05), ids[f]
        assert planned.wait_min[f] == pytest.approx(simulated[f], rel=0.30), ids[f]
        assert 0.15 < planned.utilisation[f] < 0.45
        assert planned.erlang_c_day_mean_min[f] < 0.6 * simulated[f]
    weight = planned.visits_per_open_day[visited]
    assert np.average(planned.wait_min[visited], weights=weight) == pytest.approx(
        np.average(simulated[visited], weights=weight), rel=0.10
    )


def test_access_command_without_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "access.json"
    assert main(["access", str(TINY), "--out", str(out)]) == 0
    block = json.loads(out.read_text(encoding="utf-8"))
    assert block["parameters"]["wait_source"].startswith("expected")
    waits = block["facility_expected_wait"]
    assert set(waits) == {"east_hall", "west_hall", "isle_hall", "east_clinic", "west_clinic", "isle_clinic"}
    assert all(w["wait_min"] >= 0 for w in waits.values())
    queue = block["services"]["clinic"]["index_per_1000"]
    assert queue["e2sfca_queue"]["mean"] <= queue["e2sfca"]["mean"] + 1e-9  # waits only add cost
    assert "round_trip_km_per_errand_admin" not in block["merger_effect_cells"]["rows"][0]  # needs a run
    assert "east_hall" in capsys.readouterr().out
    before = out.read_bytes()
    assert main(["access", str(TINY), "--out", str(out)]) == 2  # never overwritten
    assert out.read_bytes() == before
    capsys.readouterr()
    # refused before any work, one line naming the option or the path, exit 2
    assert main(["access", str(TINY), "--out", str(out / "below_a_file.json")]) == 2
    err = capsys.readouterr()
    assert "--out" in err.err and "east_hall" not in err.out
    with pytest.raises(SystemExit) as exit_:
        main(["access", str(TINY), "--seed", "-1"])
    assert exit_.value.code == 2
