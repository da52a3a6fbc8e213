"""Run tables and summary built in O(n) equal a plain pandas reference (sorts and group-bys).

The reference builders below are the straightforward versions (``groupby`` per errand,
facility-day and group, from the trips table); the logs the model keeps day by day and the fast
builders in ``sim/results/tables.py`` and ``sim/metrics/summary.py`` must give the same values on
the tiny scenarios and a short Pingtan run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim.metrics.summary as summary_module
from sim.metrics.summary import (
    THRESHOLDS_MIN,
    _sorted_median,
    _sorted_percentile,
    group_metrics,
    summarise,
)
from sim.model import AccessModel
from sim.model.model import OUTCOMES, TRIP_COLUMNS
from sim.results import TABLES, build_result
from sim.results.io import read_run, write_run
from sim.runner import run_loaded
from sim.scenario import load_scenario
from sim.world.world import FACILITY_KINDS
from tests.conftest import SCENARIOS, TINY_MERGED

RUNS = {
    "tiny_merged": (TINY_MERGED, 60),
    "tiny_buses": (SCENARIOS / "tiny" / "buses.yaml", 30),
    "pingtan_merged_14_days": (SCENARIOS / "pingtan" / "merged_2021.yaml", 14),
}


@pytest.fixture(scope="module", params=list(RUNS))
def finished(request: pytest.FixtureRequest) -> AccessModel:
    path, days = RUNS[request.param]
    model = AccessModel(load_scenario(path, overrides={"simulation.warmup_days": 0}), seed=3)  # all measured
    model.run(days)
    return model


# -- reference builders: concatenate, sort, group by -------------------------------------------
def _ref_errands(model: AccessModel, trips: pd.DataFrame) -> pd.DataFrame:
    """Per errand from its trips (all measured here): trips, burden, yuan, last trip's day and outcome."""
    t = trips.assign(_burden=trips["travel_min"] + trips["wait_min"] + trips["return_min"])
    g = t.sort_values("trip").groupby("errand")
    return pd.DataFrame(
        {
            "trips": g.size(),
            "burden_min": g["_burden"].sum(),
            "money_yuan": g["money_yuan"].sum(),
            "last_day": g["day"].last(),
            "last_outcome": g["outcome"].last().astype(str),
        }
    )


def _ref_facility_days(model: AccessModel, trips: pd.DataFrame) -> pd.DataFrame:
    w = model.world
    receiving = np.flatnonzero((w.fac_kind != FACILITY_KINDS.index("school")) & (w.fac_servers > 0))
    rows = [
        (d, f) for d in range(model.day) for f in receiving if w.fac_days[f, (model.start_weekday + d) % 7]
    ]
    grid = pd.DataFrame(rows, columns=["day", "fac"])
    t = pd.DataFrame(
        {
            "day": trips["day"].to_numpy(),
            "fac": trips["facility"].cat.codes.to_numpy(),
            "wait": trips["wait_min"].to_numpy(),
            "served": (trips["outcome"] != "turned_away").to_numpy(),
            "busy": trips["service_min"].to_numpy(),
        }
    )
    g = t.groupby(["day", "fac"])
    stats = g.agg(
        arrivals=("wait", "size"), served=("served", "sum"), busy=("busy", "sum"), mean=("wait", "mean")
    )
    stats["p95"] = g["wait"].quantile(0.95)
    stats = stats.reindex(pd.MultiIndex.from_frame(grid))
    longest = {(int(d), int(f)): int(n) for log in model.facility_log for d, f, n in zip(*log, strict=True)}
    fac = grid["fac"].to_numpy()
    capacity = w.fac_servers[fac] * (w.fac_close_min[fac] - w.fac_open_min[fac])
    return pd.DataFrame(
        {
            "arrivals": stats["arrivals"].fillna(0).to_numpy(np.int64),
            "served": stats["served"].fillna(0).to_numpy(np.int64),
            "utilisation": stats["busy"].fillna(0).to_numpy() / capacity,
            "mean_wait_min": stats["mean"].to_numpy(),
            "p95_wait_min": stats["p95"].to_numpy(),
            "longest_queue": [longest.get((int(d), int(f)), 0) for d, f in rows],
            "day": grid["day"].to_numpy(np.int32),
            "facility": [w.fac_ids[f] for f in fac],
        }
    )


def _ref_group_metrics(residents: pd.DataFrame, errands: pd.DataFrame, by: str) -> dict[str, dict[str, Any]]:
    """Per group with pandas group-bys: counts, burden mean/median/p90/shares, per-errand means."""
    group = residents[by].astype("category")
    err = errands.assign(_g=group.to_numpy()[errands["resident"].to_numpy()])
    done = err[err["status"] == "completed"]
    out: dict[str, dict[str, Any]] = {}
    for label in group.cat.categories:
        b = done.loc[done["_g"] == label, "burden_min"].to_numpy()
        n = len(b)
        trips = err.loc[err["_g"] == label, "trips"].sum()
        sub = done[done["_g"] == label]
        out[str(label)] = {
            "errands_completed": n,
            "mean": b.mean() if n else None,
            "median": np.median(b) if n else None,
            "p90": np.percentile(b, 90) if n else None,
            "over": {t: np.mean(b > t) if n else None for t in THRESHOLDS_MIN},
            "trips": trips / n if n else None,
            "km": sub["distance_km"].sum() / n if n else None,
            "yuan": sub["money_yuan"].sum() / n if n else None,
        }
    return out


# -- tests -----------------------------------------------------------------------------------
def test_errands_trips_residents_equal_the_groupby_reference(finished: AccessModel) -> None:
    result = build_result(finished)
    errands, trips = result.errands, result.trips
    assert errands["errand"].tolist() == list(range(len(errands)))  # every id once, in order
    assert len(errands) == int(result.daily["new_needs"].sum())
    cols = finished.trip_log.columns()
    assert len(trips) == len(cols["errand"]) > 0
    for name, dtype in TRIP_COLUMNS.items():
        assert cols[name].dtype == dtype
    for name in ("departure_min", "arrival_min", "wait_min", "service_min", "travel_min", "distance_km"):
        np.testing.assert_array_equal(trips[name].to_numpy(), cols[name])
    np.testing.assert_array_equal(trips["errand"].to_numpy(), cols["errand"])
    np.testing.assert_array_equal(trips["facility"].cat.codes.to_numpy(), cols["facility"])
    np.testing.assert_array_equal(
        trips["outcome"].astype(str).to_numpy(), np.array(OUTCOMES)[cols["outcome"]]
    )
    village = finished.residents.village[cols["resident"]]
    np.testing.assert_array_equal(
        trips["origin"].astype(str).to_numpy(), np.array(finished.world.village_ids)[village]
    )
    # errands: totals over each errand's trips; completed ones ended with a completing trip
    ref = _ref_errands(finished, trips)
    by_trip = errands[errands["channel"] == "trip"].set_index("errand")
    travelled = by_trip[by_trip["trips"] > 0]
    assert set(travelled.index) == set(ref.index)
    r = ref.loc[travelled.index]
    np.testing.assert_array_equal(travelled["trips"].to_numpy(), r["trips"].to_numpy())
    for col in ("burden_min", "money_yuan"):
        np.testing.assert_allclose(travelled[col].to_numpy(), r[col].to_numpy(), rtol=1e-9)
    done = (travelled["status"] == "completed").to_numpy()
    assert (r["last_outcome"].to_numpy()[done] == "completed").all()
    assert (r["last_outcome"].to_numpy()[~done] != "completed").all()
    np.testing.assert_array_equal(travelled["completed_day"].to_numpy()[done], r["last_day"].to_numpy()[done])
    assert (travelled["completed_day"].to_numpy()[~done] == -1).all()
    # residents: per-resident counts from the errands
    res = result.residents
    complete = errands[errands["status"] == "completed"]
    n = len(res)
    np.testing.assert_array_equal(res["errands_completed"], np.bincount(complete["resident"], minlength=n))
    np.testing.assert_array_equal(
        res["errands_pending"],
        np.bincount(errands.loc[errands["status"] == "pending", "resident"], minlength=n),
    )
    np.testing.assert_array_equal(
        res["trips"], np.bincount(errands["resident"], weights=errands["trips"], minlength=n)
    )


def test_facility_days_equal_the_groupby_reference(finished: AccessModel) -> None:
    result = build_result(finished)
    got = result.facility_days
    ref = _ref_facility_days(finished, result.trips)
    assert len(got) == len(ref) > 0
    np.testing.assert_array_equal(got["day"], ref["day"])
    assert got["facility"].astype(str).tolist() == ref["facility"].tolist()
    for col in ("arrivals", "served", "longest_queue"):
        np.testing.assert_array_equal(got[col], ref[col])
    np.testing.assert_array_equal(got["p95_wait_min"], ref["p95_wait_min"])  # same interpolation, exactly
    # sums: pandas uses compensated summation, bincount plain summation (last-bit differences)
    for col in ("utilisation", "mean_wait_min"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-12, atol=0)
    assert got["mean_wait_min"].isna().equals(ref["mean_wait_min"].isna())
    assert (got["arrivals"] == 0).equals(got["p95_wait_min"].isna())


def test_group_metrics_equal_the_groupby_reference(finished: AccessModel) -> None:
    result = build_result(finished)
    for by in ("former_unit", "age_band"):
        got = group_metrics(result.residents, result.errands, by)
        ref = _ref_group_metrics(result.residents, result.errands, by)
        assert list(got) == list(ref)
        for label, r in ref.items():
            g = got[label]
            assert g["errands_completed"] == r["errands_completed"]
            for key in ("mean", "median", "p90"):
                assert g["burden_min"][key] == (None if r[key] is None else round(float(r[key]), 4))
            for t in THRESHOLDS_MIN:
                want = r["over"][t]
                assert g["burden_share_over_min"][str(t)] == (None if want is None else round(float(want), 4))
            for key, ref_key in (
                ("trips_per_completed_errand", "trips"),
                ("distance_km_per_errand", "km"),
                ("money_yuan_per_errand", "yuan"),
            ):
                want = r[ref_key]
                assert g[key] == pytest.approx(None if want is None else round(float(want), 4), abs=1e-4)


def test_summary_burden_by_service_and_counts(finished: AccessModel) -> None:
    result = build_result(finished)
    s = summarise(
        trips=result.trips,
        errands=result.errands,
        facility_days=result.facility_days,
        residents=result.residents,
        schools=result.schools,
    )
    e = result.errands
    done = e[e["status"] == "completed"]
    assert s["errands"]["completed"] == len(done)
    assert s["errands"]["pending_at_end"] == len(e) - len(done)
    for service, stats in s["burden_min_by_service"].items():
        b = done.loc[done["service"] == service, "burden_min"].to_numpy()
        assert stats["n"] == len(b)
        if len(b):
            assert stats["median"] == round(float(np.median(b)), 4)
            assert stats["p90"] == round(float(np.percentile(b, 90)), 4)
    islands = s["by_island"]
    assert set(islands) <= {"islands", "main_island"}
    assert sum(v["errands_completed"] for v in islands.values()) == len(done)


@pytest.mark.parametrize("run", ["tiny_merged", "tiny_buses"])
def test_written_folder_reads_back_equal(run: str, tmp_path) -> None:
    path, days = RUNS[run]
    loaded = load_scenario(path)
    result = run_loaded(loaded, days=days, seed=4)
    out = write_run(result, tmp_path / "run", scenario_raw=loaded.raw)
    back = read_run(out)
    assert back.summary == result.summary
    for name in TABLES:
        frame = getattr(result, name)
        if len(frame) == 0:  # an empty categorical column has no type to store and reads back as object
            assert list(getattr(back, name).columns) == list(frame.columns)
            continue
        pd.testing.assert_frame_equal(getattr(back, name), frame, check_exact=True)


def test_tables_wrap_the_logs_and_leave_out_the_warm_up_days() -> None:
    """Tabulating twice gives the same tables; trips and facility days are of measured days only,
    while the warm-up's errands keep their rows (arise_day < 0)."""
    path, days = RUNS["tiny_buses"]
    model = AccessModel(load_scenario(path, overrides={"simulation.warmup_days": 7}), seed=9)
    model.run(days)
    a, b = build_result(model), build_result(model)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(b, name), getattr(a, name), check_exact=True)
    assert a.trips["day"].min() == 0 and a.facility_days["day"].min() == 0
    assert (a.errands["arise_day"] < 0).any()
    assert np.shares_memory(a.trips["wait_min"].to_numpy(), model.trip_log.columns()["wait_min"])


def test_order_statistics_of_sorted_values_equal_numpy_exactly() -> None:
    rng = np.random.default_rng(5)
    for n in [*range(1, 40), 101, 1000, 12345]:
        for values in (rng.exponential(30.0, n), rng.integers(0, 5, n).astype(float), np.full(n, 7.25)):
            s = np.sort(values)
            assert _sorted_median(s) == np.median(values)
            assert _sorted_percentile(s, 90) == np.percentile(values, 90)
    with_nan = np.sort(np.array([3.0, np.nan, 1.0]))
    assert np.isnan(_sorted_median(with_nan)) and np.isnan(_sorted_percentile(with_nan, 90))


def test_summary_is_the_same_when_groupings_are_split_one_at_a_time(
    finished: AccessModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too many cells (combinations of groups) makes the summary group one grouping at a time."""
    result = build_result(finished)
    tables = {
        name: getattr(result, name) for name in ("trips", "errands", "facility_days", "residents", "schools")
    }
    together = summarise(**tables)
    monkeypatch.setattr(summary_module, "MAX_CELLS", 1)
    apart = summarise(**tables)
    assert apart == together
    assert together["burden_min_by_service"] and together["by_former_unit"]


def test_group_access_shares_equal_the_groupby_reference(finished: AccessModel) -> None:
    res = build_result(finished).residents
    columns = [c for c in res.columns if c.startswith("access_") and c.endswith("_min")]
    assert columns
    for by in ("former_unit", "age_band"):
        got = group_metrics(res, build_result(finished).errands, by)
        for label, sub in res.groupby(by, observed=False):
            for col in columns:
                m = sub[col].to_numpy()
                w = sub["weight"].to_numpy()
                finite = np.isfinite(m)
                block = got[str(label)][col[: -len("_min")]]
                want = (m[finite] * w[finite]).sum() / w[finite].sum() if finite.any() else None
                assert block["mean_min"] == pytest.approx(None if want is None else round(want, 4), abs=1e-4)
                for t in THRESHOLDS_MIN:
                    share = (w * (m > t)).sum() / w.sum() if len(w) else None
                    assert block[f"share_over_{t}"] == pytest.approx(
                        None if share is None else round(share, 4), abs=1e-4
                    )


def test_a_run_without_transit_stores_no_return_minutes_or_lines() -> None:
    """Without transit, road trips come home the same way: the trips table's ``return_min`` is the
    log's ``travel_min`` itself, and the log's line columns are never written (all zero: no line)."""
    path, days = RUNS["tiny_merged"]
    model = AccessModel(load_scenario(path, overrides={"simulation.warmup_days": 3}), seed=4)
    model.run(days)
    trips = build_result(model).trips
    log = model.trip_log.columns()
    assert len(trips) > 0 and not log["return_min"].any() and not log["lines_out"].any()
    assert np.shares_memory(trips["return_min"].to_numpy(), log["travel_min"])
    assert (trips["lines_out"] == "").all() and (trips["lines_home"] == "").all()


def test_finish_drops_the_daily_tables_and_the_tables_stay_the_same() -> None:
    """``finish()`` (called by the runner before tabulating) frees the choice tables and the bus
    journeys; the tables built after it equal those built before, and the model steps no further."""
    path, days = RUNS["tiny_buses"]
    model = AccessModel(load_scenario(path, overrides={"simulation.warmup_days": 3}), seed=2)
    model.run(days)
    before = build_result(model)
    model.finish()
    assert model.bus is not None and model.bus.out == [] and model.bus.home == []
    after = build_result(model)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(after, name), getattr(before, name), check_exact=True)
    with pytest.raises(RuntimeError, match="finished"):
        model.step()
