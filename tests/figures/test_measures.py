"""Derived tables: threshold shares agree with the summary; line loads are read defensively."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.figures.measures import (
    completed_errands,
    read_line_loads,
    threshold_shares,
    village_burden,
)
from sim.results.io import read_run


def test_threshold_shares_equal_summary(run_dirs):
    result = read_run(run_dirs["tiny_merged"])
    done = completed_errands(result.residents, result.errands)
    shares = threshold_shares(done, by="age_band")
    for band, row in shares.iterrows():
        expected = result.summary.by_age_band[band].burden_share_over_min
        assert [row[t] for t in (15, 30, 60)] == pytest.approx(
            [expected[str(t)] for t in (15, 30, 60)], abs=1e-4
        )


def test_village_burden_is_weighted_mean(run_dirs):
    result = read_run(run_dirs["tiny_baseline"])
    done = completed_errands(result.residents, result.errands)
    villages = village_burden(result.places, done)
    first = villages.dropna().iloc[0]
    assert first["burden_min"] == pytest.approx(done.loc[done["village"] == first["id"], "burden_min"].mean())


def test_no_line_loads_table_means_no_transit(tmp_path):
    assert read_line_loads(tmp_path) is None
    pd.DataFrame({"line": [], "departure_min": []}).to_parquet(tmp_path / "line_loads.parquet")
    assert read_line_loads(tmp_path) is None


@pytest.mark.parametrize(
    ("departure", "hours"), [([390.0, 450.0], [6.5, 7.5]), (["06:30", "07:30"], [6.5, 7.5])]
)
def test_line_loads_read_defensively(tmp_path, departure, hours):
    column = "departure_min" if isinstance(departure[0], float) else "departure"
    frame = pd.DataFrame({"line": ["b1", "b1"], column: departure, "boardings": [3, 5]})  # no peak, capacity
    frame.to_csv(tmp_path / "line_loads.csv", index=False)
    loads = read_line_loads(tmp_path)
    assert loads is not None
    assert loads["departure_h"].tolist() == hours
    assert loads["peak_load"].tolist() == [3, 5]
    assert loads["capacity"].isna().all() and loads["left_behind"].isna().all()


def test_line_loads_average_days_and_keep_directions_apart(tmp_path):
    pd.DataFrame(
        {
            "day": [0, 1, 0, 0],
            "line": ["b1"] * 4,
            "trip": ["b1:0:0700", "b1:0:0700", "b1:1:0700", "b1:0:0800"],
            "departure_min": [420.0, 420.0, 420.0, 480.0],
            "peak_load": [10, 20, 4, 1],
            "capacity": [30] * 4,
            "left_behind": [0, 2, 1, 0],
        }
    ).to_parquet(tmp_path / "line_loads.parquet")
    loads = read_line_loads(tmp_path)
    assert loads is not None
    at7 = loads[loads["departure_h"] == 7.0].set_index("direction")
    assert at7.loc[0, "peak_load"] == 15  # mean over the two days it ran
    assert at7.loc[0, "left_behind"] == 1
    assert at7.loc[1, "peak_load"] == 4 and at7.loc[1, "left_behind"] == 1
