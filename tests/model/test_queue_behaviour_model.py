"""Balking, reneging and day choice in the model: off changes nothing, on does what it says."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.model.queue_behaviour import NEVER
from sim.runner import run_loaded
from sim.scenario.load import load_scenario
from tests.conftest import SCENARIOS, TINY_MERGED

BUSY: dict[str, Any] = {  # few windows, long service: queues long enough to balk at and to tire of
    "facility_defaults.clinic.service_time": {"dist": "exponential", "mean_min": 60},
    "facility_defaults.hall.service_time": {"dist": "exponential", "mean_min": 90},
    "merger.facilities.east_hall": {"action": "restaff", "servers": 1},
    "merger.facilities.east_clinic": {"action": "restaff", "servers": 1},
    "merger.facilities.west_clinic": {"action": "restaff", "servers": 1},
}


def _trips(days: int = 21, sample: float | None = None, **behaviour: Any) -> pd.DataFrame:
    overrides = dict(BUSY)
    overrides.update({f"behaviour.{k}": v for k, v in behaviour.items()})
    if sample is not None:
        overrides["simulation.sample_fraction"] = sample
    return run_loaded(load_scenario(TINY_MERGED, overrides=overrides), days=days).trips


@pytest.fixture(scope="module")
def plain() -> pd.DataFrame:
    return _trips()


def test_nobody_balking_or_reneging_is_the_plain_run(plain: pd.DataFrame) -> None:
    """Limits nobody reaches: every trip as without the blocks (the outcome labels gain two)."""
    never = _trips(balking={"max_waiting": 1_000_000}, reneging={"dist": "fixed", "mean_min": 1440})
    assert list(never["outcome"].cat.categories) == ["completed", "referred", "turned_away", "balked", "left"]
    pd.testing.assert_frame_equal(
        never.assign(outcome=never["outcome"].astype(str)), plain.assign(outcome=plain["outcome"].astype(str))
    )


def test_day_choice_with_every_errand_urgent_is_the_plain_run(plain: pd.DataFrame) -> None:
    urgent = {s: 1.0 for s in ("clinic", "admin_simple", "admin_complex")}
    pd.testing.assert_frame_equal(_trips(day_choice={"urgent_share": urgent}), plain)


def test_balkers_take_no_time_and_their_errand_returns(plain: pd.DataFrame) -> None:
    trips = _trips(balking={"max_waiting": 1})
    balked = trips[trips["outcome"] == "balked"]
    assert len(balked) > 0
    assert (balked["wait_min"] == 0).all() and (balked["service_min"] == 0).all()
    later = trips.merge(balked[["errand", "day"]], on="errand", suffixes=("", "_balked"))
    returned = later.groupby("errand")["day"].max() > later.groupby("errand")["day_balked"].min()
    assert returned.mean() > 0.8  # the rest balked near the end of the run


def test_renegers_leave_after_their_patience_and_free_no_window(plain: pd.DataFrame) -> None:
    trips = _trips(reneging={"dist": "fixed", "mean_min": 20})
    left = trips[trips["outcome"] == "left"]
    assert len(left) > 0
    np.testing.assert_allclose(left["wait_min"], 20.0)
    served = trips["outcome"].isin(["completed", "referred"])
    assert trips.loc[served, "wait_min"].max() <= 20.0 + 1e-9  # nobody served after their patience ran out
    assert (
        trips.loc[served, "wait_min"].mean() < plain.loc[plain["outcome"] != "turned_away", "wait_min"].mean()
    )


def test_balking_and_reneging_in_a_sampled_run_with_ghosts() -> None:
    trips = _trips(sample=0.5, balking={"max_waiting": 1}, reneging={"mean_min": 60})
    counts = trips["outcome"].value_counts()
    assert counts["balked"] > 0 and counts["left"] > 0


def test_day_choice_moves_errands_off_the_busy_weekday() -> None:
    """Monday (day 0, the start weekday) is the busiest day; errands that can wait leave it."""
    moved = _trips(days=35, day_choice={})
    before = _trips(days=35)
    share = {
        name: (t["day"] % 7).value_counts(normalize=True) for name, t in (("on", moved), ("off", before))
    }
    assert share["off"].idxmax() == 0
    assert share["on"][0] < share["off"][0] - 0.03


def test_expected_wait_limit_becomes_a_queue_length_per_facility() -> None:
    loaded = load_scenario(
        TINY_MERGED, overrides={"behaviour.balking": {"max_waiting": None, "max_expected_wait_min": 30}}
    )
    from sim.model.model import AccessModel

    model = AccessModel(loaded)
    qb = model.queue_behaviour
    assert qb is not None
    w = model.world
    f = int(np.flatnonzero(w.fac_servers > 0)[0])
    limit = qb.impatience(np.array([f]), np.array([1], np.uint64), np.array([0]), np.array([f])).balk_at[0]
    # (waiting + 1) x mean / windows > 30 first when waiting = floor(30 x windows / mean)
    assert limit == np.floor(30 * w.fac_servers[f] / qb.mean_service[f]) and limit < NEVER


def test_balking_with_appointments_is_refused(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "o.yaml"
    overlay.write_text(
        "behaviour:\n  balking: {max_waiting: 3}\nlevers:\n  appointments: {share: 0.5, slot_min: 15}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"behaviour\.balking"):
        run_loaded(load_scenario(TINY_MERGED, overlays=[overlay]), days=1)
    out = tmp_path / "run"
    assert main(["run", str(TINY_MERGED), "--overlay", str(overlay), "--days", "2", "--out", str(out)]) == 2
    assert "behaviour.balking" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize(
    ("block", "value", "field"),
    [
        ("balking", {"max_waiting": None}, "balking"),
        ("balking", {"probability": float("nan")}, "probability"),
        ("reneging", {"mean_min": 0}, "mean_min"),
        ("day_choice", {"urgent_share": {"clinic": 1.5}}, "urgent_share"),
        ("day_choice", {"urgent_share": {"nope": 0.5}}, "urgent_share"),
        ("day_choice", {"horizon_days": 0}, "horizon_days"),
    ],
)
def test_bad_queue_behaviour_is_refused_naming_the_field(
    block: str, value: dict[str, Any], field: str
) -> None:
    with pytest.raises(ScenarioError, match=field):
        loaded = load_scenario(SCENARIOS / "tiny" / "merged.yaml", overrides={f"behaviour.{block}": value})
        run_loaded(loaded, days=1)


def test_summary_block_counts_what_the_trips_table_holds(tmp_path) -> None:
    """summary.json gains queue_behaviour only when an option is on; it reads back validated."""
    import json

    from sim.results.io import read_summary

    overlay = tmp_path / "o.yaml"
    overlay.write_text(
        "facility_defaults:\n  hall: {service_time: {dist: exponential, mean_min: 90}}\n"
        "  clinic: {service_time: {dist: exponential, mean_min: 60}}\n"
        "merger:\n  facilities:\n    east_clinic: {action: restaff, servers: 1}\n"
        "    east_hall: {action: restaff, servers: 1}\n"
        "behaviour:\n  balking: {max_waiting: 1}\n  reneging: {mean_min: 60}\n  day_choice: {}\n",
        encoding="utf-8",
    )
    on, off = tmp_path / "on", tmp_path / "off"
    assert main(["run", str(TINY_MERGED), "--overlay", str(overlay), "--days", "14", "--out", str(on)]) == 0
    assert main(["run", str(TINY_MERGED), "--days", "14", "--out", str(off)]) == 0
    assert "queue_behaviour" not in json.loads((off / "summary.json").read_text(encoding="utf-8"))
    block = read_summary(on).queue_behaviour
    assert block is not None and block.balking and block.reneging and block.day_choice
    trips = pd.read_parquet(on / "trips.parquet")
    assert block.trips == len(trips)
    assert block.balked_trips == (trips["outcome"] == "balked").sum() > 0
    assert block.left_trips == (trips["outcome"] == "left").sum() > 0
    assert block.put_off_trips > 0
    assert sum(k.trips for k in block.by_kind.values()) == len(trips)


def test_validate_names_an_unknown_urgent_service(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "o.yaml"
    overlay.write_text("behaviour:\n  day_choice: {urgent_share: {passport: 0.5}}\n", encoding="utf-8")
    assert main(["validate", str(TINY_MERGED), "--overlay", str(overlay)]) == 2
    err = capsys.readouterr().err
    assert "o.yaml" in err and "behaviour.day_choice.urgent_share.passport" in err


def test_off_the_model_never_enters_the_new_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the blocks: no QueueBehaviour, the plain queue only, the three original outcomes."""
    import sim.model.model as model_module

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("serve_impatient_days called with the options off")

    monkeypatch.setattr(model_module, "serve_impatient_days", fail)
    for overrides in ({}, {"simulation.sample_fraction": 0.5}):
        loaded = load_scenario(TINY_MERGED, overrides=overrides)
        model = model_module.AccessModel(loaded)
        assert model.queue_behaviour is None
        model.run(7)
        assert model.outcome_labels() == ["completed", "referred", "turned_away"]
