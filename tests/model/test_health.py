"""Health tiers: village clinics, health centres and hospitals; referral, bypassing, calibration."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.errors import ScenarioError
from sim.model import AccessModel
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.world.world import FACILITY_KINDS
from tests.conftest import SCENARIOS

TINY_HEALTH = SCENARIOS / "tiny" / "health.yaml"
DAYS = 56
HEALTH = ("minor_care", "clinic", "specialist_care")


def _overlay(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        **{c: frame[c].astype(str) for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
    )


@pytest.fixture(scope="module")
def base():
    return run_scenario(TINY_HEALTH, days=DAYS, seed=5)[1]


def test_referred_errands_continue_at_the_next_tier(base) -> None:
    trips = base.trips
    kind = base.places.set_index("id")["kind"]
    trips = trips.assign(kind=trips["facility"].astype(str).map(kind).to_numpy())
    tier = trips["kind"].map({"village_clinic": 0, "clinic": 1, "hospital": 2}).to_numpy()
    referred = (trips["outcome"].astype(str) == "referred").to_numpy() & (tier >= 0)
    assert referred.sum() > 20
    following = trips.groupby("errand")["trip"].shift(-1)
    nxt = trips.set_index("trip").reindex(following[referred].dropna().astype(np.int64))
    nxt_tier = nxt["kind"].map({"village_clinic": 0, "clinic": 1, "hospital": 2}).to_numpy()
    here = tier[referred][following[referred].notna().to_numpy()]
    assert (nxt_tier > here).all()  # the next visit is at a higher tier, never the same one again
    errands = base.errands.set_index("errand")
    # no referred errand is lost: each ends completed or is still pending, and has a later trip or is pending
    ends = errands.loc[trips.loc[referred, "errand"], "status"].astype(str)
    assert set(ends) <= {"completed", "pending"}
    no_next = following[referred].isna().to_numpy()
    assert (ends.to_numpy()[no_next] == "pending").all()


def test_only_the_hospital_treats_specialist_care(base) -> None:
    kind = base.places.set_index("id")["kind"]
    trips = base.trips[(base.trips["outcome"].astype(str) == "completed")]
    spec = trips[trips["purpose"].astype(str) == "specialist_care"]
    assert len(spec) > 10
    assert set(spec["facility"].astype(str).map(kind)) == {"hospital"}
    general = trips[trips["purpose"].astype(str) == "clinic"]
    assert set(general["facility"].astype(str).map(kind)) <= {"clinic", "hospital"}


def test_closing_every_village_clinic_of_a_unit_loses_no_need(base, tmp_path: Path) -> None:
    close = {f"vc_{v}": {"action": "close"} for v in ("e1", "e2", "e3")}
    overlay = _overlay(tmp_path, "close", {"merger": {"facilities": close}})
    _, closed = run_scenario(TINY_HEALTH, overlays=[overlay], days=DAYS, seed=5)
    a, b = base.errands, closed.errands
    for frame in (a, b):
        assert set(frame["status"].astype(str)) <= {"completed", "pending"}
    # the same needs arise (common random numbers), every one is still there
    assert len(a) == len(b)
    assert (a["arise_day"].to_numpy() == b["arise_day"].to_numpy()).all()
    assert (a["resident"].to_numpy() == b["resident"].to_numpy()).all()
    health = a["service"].astype(str).isin(HEALTH).to_numpy()
    assert (b["service"].astype(str).isin(HEALTH).to_numpy() == health).all()  # escalation stays in the group
    res = base.residents.set_index("resident")
    old_east = (res["age_band"].astype(str) == "60+") & (res["former_unit"].astype(str) == "east")

    def km(frame: pd.DataFrame) -> float:
        sel = health & (frame["status"].astype(str) == "completed").to_numpy()
        sel &= old_east.reindex(frame["resident"]).to_numpy() & (frame["arise_day"] >= 0).to_numpy()
        return float(frame.loc[sel, "distance_km"].mean())

    assert km(b) > km(a) + 0.5  # without their village clinic, the elderly of the unit travel further


def test_a_health_only_change_leaves_admin_errands_identical(base, tmp_path: Path) -> None:
    overlay = _overlay(tmp_path, "tiers", {"health": {"tier_constant_min": {"clinic": 2, "hospital": 30}}})
    _, other = run_scenario(TINY_HEALTH, overlays=[overlay], days=DAYS, seed=5)
    admin_a = base.errands[~base.errands["service"].astype(str).isin(HEALTH)]
    admin_b = other.errands[~other.errands["service"].astype(str).isin(HEALTH)]
    pd.testing.assert_frame_equal(
        _strings(admin_a).reset_index(drop=True), _strings(admin_b).reset_index(drop=True)
    )
    health_a = base.trips[base.trips["purpose"].astype(str).isin(HEALTH)]
    health_b = other.trips[other.trips["purpose"].astype(str).isin(HEALTH)]
    assert (
        not health_a["facility"]
        .astype(str)
        .reset_index(drop=True)
        .equals(health_b["facility"].astype(str).reset_index(drop=True))
    )  # the change did act on health trips


def test_bypass_rises_with_the_tier_constant(tmp_path: Path) -> None:
    shares = []
    for k in (0.0, 10.0, 20.0):
        overlay = _overlay(
            tmp_path,
            f"k{k:g}",
            {"health": {"tier_constant_min": {"clinic": k, "central_clinic": k, "hospital": k}}},
        )
        _, result = run_scenario(TINY_HEALTH, overlays=[overlay], days=DAYS, seed=5)
        shares.append(result.summary.health.bypass.share)
    assert shares[0] < shares[1] < shares[2]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"facilities": {"east_hall": {"central": True}}}, "facilities.east_hall.central"),
        (
            {"merger": {"facilities": {"east_hall": {"action": "central"}}}},
            "merger.facilities.east_hall.action",
        ),
        ({"health": {"levels": ["minor_care", "nope"]}}, "health.levels"),
        ({"health": {"levels": ["minor_care", "admin_simple"]}}, "health.levels"),
        ({"health": {"care_time": {"nope": {"mean_min": 3}}}}, "health.care_time.nope"),
    ],
)
def test_bad_health_references_name_the_field(tmp_path: Path, data: dict[str, Any], field: str) -> None:
    overlay = _overlay(tmp_path, "bad", data)
    with pytest.raises(ScenarioError) as err:
        load_scenario(TINY_HEALTH, overlays=[overlay])
    assert field in str(err.value)


@pytest.mark.parametrize(
    "data",
    [
        {"health": {"referral": {"hospital": 0.1}}},
        {"health": {"referral": {"village_clinic": 1.5}}},
        {"health": {"tier_constant_min": {"clinic": float("nan")}}},
        {"health": {"levels": ["minor_care"]}},
    ],
)
def test_bad_health_values_are_refused(tmp_path: Path, data: dict[str, Any]) -> None:
    overlay = _overlay(tmp_path, "bad", data)
    with pytest.raises(ScenarioError, match="health"):
        load_scenario(TINY_HEALTH, overlays=[overlay])


def test_village_clinic_needs_the_health_block(tmp_path: Path) -> None:
    overlay = _overlay(
        tmp_path,
        "vc",
        {
            "facilities": {"vc": {"kind": "village_clinic", "unit": "east", "at": "e1", "servers": 1}},
            "facility_defaults": {
                "village_clinic": {
                    "services": ["clinic"],
                    "service_time": {"mean_min": 5},
                    "hours": {"open": "08:00", "close": "17:00"},
                }
            },
        },
    )
    with pytest.raises(ScenarioError, match=r"facilities\.vc\.kind"):
        load_scenario(SCENARIOS / "tiny" / "baseline.yaml", overlays=[overlay])


def test_townsim_validate_exits_2_on_a_bad_health_block(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path, "bad", {"health": {"referral": {"hospital": 0.2}}})
    cli = Path(sys.executable).with_name("townsim")
    proc = subprocess.run(
        [str(cli), "validate", str(TINY_HEALTH), "--overlay", str(overlay)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "health" in proc.stderr and "Traceback" not in proc.stderr


def test_pingtan_health_files_are_up_to_date() -> None:
    script = SCENARIOS / "pingtan" / "make_health.py"
    assert subprocess.run([sys.executable, str(script), "--check"]).returncode == 0


def test_pingtan_baseline_matches_the_bulletin_and_the_bypass_share() -> None:
    """Village-clinic : health-centre visits within 5% of 14.0 : 13.1 (2023 bulletin); about 40% of
    people 60+ bypass the village clinic; bypassing rises with the relative travel time."""
    _, result = run_scenario(SCENARIOS / "pingtan" / "baseline_health.yaml", days=28, seed=2021)
    h = result.summary.health
    target = 14.0 / 13.1
    assert abs(h.village_clinic_to_health_centre_visits / target - 1) <= 0.05
    assert 0.35 <= h.bypass.by_age_band["60+"].bypass_share <= 0.45
    shares = [v.bypass_share for v in h.bypass.by_relative_time_min.values() if v.first_trips >= 1000]
    assert len(shares) >= 4 and all(a < b for a, b in itertools.pairwise(shares))


def test_a_downgraded_health_centre_is_a_village_clinic(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path, "down", {"merger": {"facilities": {"west_clinic": {"action": "downgrade"}}}})
    model = AccessModel(load_scenario(TINY_HEALTH, overlays=[overlay]), seed=5)
    w, health = model.world, model.health
    assert health is not None
    f = w.fac_ids.index("west_clinic")
    assert FACILITY_KINDS[w.fac_kind[f]] == "village_clinic" and health.tier[f] == 0
    assert [s for s, ok in zip(w.services, w.fac_completes[f], strict=True) if ok] == ["minor_care"]
    # a referral from the west unit's village clinics now goes to a health centre elsewhere or the
    # hospital: the unit has no health centre left, so the choice is free among those treating it
    west = w.new_unit_ids.index("west")
    assert model._referral[west, w.services.index("clinic")] == -1
