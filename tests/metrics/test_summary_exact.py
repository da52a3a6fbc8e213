"""The run summary's faster helpers against their earlier formulations, bit for bit on random data."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.metrics.access import _round, _rounded, _theil_profile, _wmean
from sim.metrics.elderly import _band_counts
from sim.metrics.equity import (
    _group_sums,
    _interleaved,
    _profile,
    _Shared,
    concentration_index,
    theil_decomposition,
)
from sim.metrics.summary import (
    BurdenBlock,
    _burden_block,
    _burden_groups,
    _Cells,
    _code_counts,
    _counts,
    measured_rows,
    transit_summary,
)


def _burden_groups_before(
    burden: np.ndarray, cell: np.ndarray, n_cells: int, of_cell: dict[str, np.ndarray]
) -> dict[str, list[BurdenBlock]]:
    """The earlier :func:`_burden_groups`: every cell sorted, then every group of several cells."""
    small = cell.astype(np.uint8 if n_cells <= 256 else np.uint16 if n_cells <= 65536 else np.int64)
    values = burden[np.argsort(small, kind="stable")]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=n_cells))])
    for c in np.flatnonzero(np.diff(bounds) > 1):
        values[bounds[c] : bounds[c + 1]].sort()
    out: dict[str, list[BurdenBlock]] = {}
    for key, of in of_cell.items():
        k = int(of.max()) + 1
        members = np.split(np.argsort(of, kind="stable"), np.cumsum(np.bincount(of, minlength=k))[:-1])
        groups = []
        for cells in members:
            runs = [values[bounds[c] : bounds[c + 1]] for c in cells if bounds[c + 1] > bounds[c]]
            joined = runs[0] if len(runs) == 1 else np.concatenate(runs) if runs else values[:0]
            if len(runs) > 1:
                joined.sort()
            groups.append(_burden_block(joined))
        out[key] = groups
    return out


def _cell_layout(sizes: dict[str, int], n_services: int) -> dict[str, np.ndarray]:
    """Group code per (cell, service) of each grouping and of the services, as the summary makes them."""
    cells = _Cells.of({key: (np.zeros(1, np.int8), [str(i) for i in range(k)]) for key, k in sizes.items()})
    return {
        **{key: np.repeat(of, n_services) for key, of in cells.of_cell.items()},
        "service": np.tile(np.arange(n_services), cells.n),
    }


@pytest.mark.parametrize("signed_zero", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_burden_groups_equal_the_earlier_sorting_exactly(seed: int, signed_zero: bool) -> None:
    rng = np.random.default_rng(seed)
    sizes = {"all": 1, "unit": 5, "band": 3, "island": 2}
    n_services = 4
    of_cell = _cell_layout(sizes, n_services)
    n_cells = len(of_cell["service"])
    # island follows the unit (as for the former townships), so half the cells stay empty
    unit = rng.integers(0, 5, 4000)
    band = rng.integers(0, 3, 4000)
    island = (unit >= 3).astype(int)
    service = rng.integers(0, n_services, 4000)
    service[unit == 4] = 0  # a unit with one service: groups of a single cell
    cell = (((unit * 3 + band) * 2 + island) * n_services + service).astype(np.intp)
    burden = np.round(rng.exponential(20.0, len(cell)), 1)  # many ties
    burden[rng.random(len(cell)) < 0.1] = 0.0
    burden[rng.random(len(cell)) < 0.01] = np.nan
    if signed_zero:
        burden[rng.random(len(cell)) < 0.05] = -0.0
    counts = np.bincount(cell, minlength=n_cells)
    new = _burden_groups(burden.copy(), cell, counts, of_cell)
    old = _burden_groups_before(burden.copy(), cell, n_cells, of_cell)
    assert list(new) == list(old)
    assert repr(new) == repr(old)  # repr tells -0.0 from 0.0


def test_column_totals_equal_one_bincount_per_column_exactly() -> None:
    rng = np.random.default_rng(3)
    cells = _Cells.of(
        {
            "unit": (rng.integers(0, 7, 5000).astype(np.int8), [str(i) for i in range(7)]),
            "band": (rng.integers(0, 4, 5000).astype(np.int8), [str(i) for i in range(4)]),
        }
    )
    code = np.sort(cells.code)  # residents come grouped by cell
    values = rng.exponential(3.0, (5000, 5)) * (rng.random((5000, 5)) < 0.7)
    together = cells.column_totals(cells.interleaved(code, 5), values)
    for j in range(5):
        alone = cells.totals(code, values[:, j].copy())
        assert together[j].keys() == alone.keys()
        for key in alone:
            assert together[j][key].tobytes() == alone[key].tobytes()


def test_code_counts_and_counts_equal_a_bincount() -> None:
    rng = np.random.default_rng(4)
    for k in (3, 40):
        codes = rng.integers(-1, k, 10_000).astype(np.int8)
        expected = np.bincount(codes + 1, minlength=k + 1)[1:]
        assert np.array_equal(_code_counts(codes, k), expected)
        rows = rng.random(len(codes)) < 0.9
        column = pd.Series(pd.Categorical.from_codes(codes, pd.Index([f"c{i}" for i in range(k)])))
        counts = np.bincount(codes[rows] + 1, minlength=k + 1)[1:]
        labels = [f"c{i}" for i in range(k)]
        assert _counts(column, rows) == {
            labels[i]: int(counts[i]) for i in np.argsort(-counts, kind="stable")
        }


def test_measured_rows_equal_the_earlier_lookup() -> None:
    rng = np.random.default_rng(5)
    errands = pd.DataFrame(
        {"errand": np.arange(500), "arise_day": rng.integers(-10, 30, 500).astype(np.int32)}
    )
    trips = pd.DataFrame({"errand": rng.integers(0, 500, 1200)})
    err_rows, trip_rows = measured_rows(errands, trips)
    arise = errands["arise_day"].to_numpy()
    by_id = np.zeros(500, dtype=arise.dtype)
    by_id[errands["errand"].to_numpy()] = arise
    assert np.array_equal(err_rows, arise >= 0)
    assert np.array_equal(trip_rows, by_id[trips["errand"].to_numpy()] >= 0)


def test_transit_summary_equals_the_earlier_masks() -> None:
    rng = np.random.default_rng(6)
    n = 3000
    modes = pd.Index(["walk", "bus", "car"])
    lines = pd.Index(["", "L1", "L1>L2", "L3"])
    trips = pd.DataFrame(
        {
            "mode": pd.Categorical.from_codes(rng.integers(0, 3, n), modes),
            "lines_out": pd.Categorical.from_codes(rng.integers(0, 4, n), lines),
            "lines_home": pd.Categorical.from_codes(rng.integers(-1, 4, n), lines),
            "no_way_home": rng.random(n) < 0.1,
            **{
                c: rng.exponential(5.0, n)
                for c in ("stop_wait_min", "transfer_wait_min", "travel_min", "return_min")
            },
        }
    )
    rows = rng.random(n) < 0.8
    got = transit_summary(trips, rows)
    assert got is not None
    is_bus = rows & (trips["mode"] == "bus").to_numpy()
    for column, value in (
        ("stop_wait_min", got.mean_stop_wait_min),
        ("transfer_wait_min", got.mean_transfer_wait_min),
        ("travel_min", got.mean_travel_there_min),
        ("return_min", got.mean_travel_home_min),
        ("no_way_home", got.no_way_home_share_of_bus_trips),
    ):
        assert value == round(float(pd.Series(trips[column].to_numpy()[is_bus]).mean()), 4)
    assert got.bus_trips == int(is_bus.sum())
    assert got.no_way_home == int(trips["no_way_home"].to_numpy()[rows].sum())


def _profile_before(
    values: np.ndarray, weights: np.ndarray, groupings: dict[str, np.ndarray], age_code: np.ndarray
) -> dict[str, float]:
    """The earlier ``_profile`` through the public functions (decomposition and concentration)."""
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = np.isfinite(x) & (w > 0)
    out: dict[str, float] = {}
    for name, codes in groupings.items():
        dec = theil_decomposition(x[keep], np.asarray(codes)[keep], w[keep])
        out[f"theil_between_{name}"] = dec["between"]
        out[f"theil_within_{name}"] = dec["within"]
        out[f"theil_between_share_{name}"] = dec["between_share"]
        out["theil"] = dec["total"]
    out["concentration_index_age"] = concentration_index(x[keep], np.asarray(age_code)[keep], w[keep])
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_equity_profiles_with_shared_group_weights_equal_each_alone(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5000
    weight = rng.uniform(0.5, 2.0, n)
    groupings = {"unit": rng.integers(0, 9, n), "island": rng.integers(0, 2, n)}
    age = rng.integers(0, 5, n)
    columns = [rng.exponential(10.0, n) for _ in range(3)]
    columns[1][rng.random(n) < 0.05] = np.inf  # not every resident kept
    columns[2][:] = 0.0
    shared = _Shared()
    for x in columns:
        together = _profile(x, weight, groupings=groupings, age_code=age, shared=shared)
        alone = _profile(x, weight, groupings=groupings, age_code=age)
        before = _profile_before(x, weight, groupings, age)
        assert repr(together) == repr(alone)
        assert repr({key: together[key] for key in before}) == repr(before)


def _theil_profile_before(values: np.ndarray, weight: np.ndarray, cells: object) -> dict[str, float | None]:
    """The earlier ``access._theil_profile``: each measure through its public function."""
    unit = theil_decomposition(values, cells.unit, weight)  # type: ignore[attr-defined]
    isl = theil_decomposition(values, cells.island, weight)  # type: ignore[attr-defined]
    return {
        "total": _round(unit["total"]),
        "between_former_unit": _round(unit["between"]),
        "within_former_unit": _round(unit["within"]),
        "between_island": _round(isl["between"]),
        "within_island": _round(isl["within"]),
        "concentration_index_age": _round(
            concentration_index(values, cells.band, weight)  # type: ignore[attr-defined]
        ),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_access_theil_profile_equals_the_public_functions_exactly(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    cells = SimpleNamespace(
        unit=rng.integers(0, 8, n), island=rng.integers(0, 2, n), band=rng.integers(0, 5, n)
    )
    weight = rng.exponential(50.0, n) * (rng.random(n) < 0.8)  # cells without users weigh 0
    for values in (
        rng.exponential(2.0, n),
        np.where(rng.random(n) < 0.1, np.inf, rng.random(n)),
        np.zeros(n),
    ):
        got = _theil_profile(values, weight, cells)  # type: ignore[arg-type]
        assert repr(got) == repr(_theil_profile_before(values, weight, cells))
    nothing = _theil_profile(np.full(n, np.inf), weight, cells)  # type: ignore[arg-type]
    assert nothing == _theil_profile_before(np.full(n, np.inf), weight, cells)


def test_rounded_and_shared_weighted_means_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.normal(0, 1e3, 200), [np.nan, np.inf, -np.inf, -0.0, 0.0]])
    assert _rounded(values) == [_round(v) for v in values]
    code = rng.integers(0, 9, 4000)
    weight = rng.uniform(0.5, 2.0, 4000)
    shared: dict[str, np.ndarray] = {}
    columns = [rng.exponential(3.0, 4000) for _ in range(3)]
    columns[1][::7] = np.nan  # rows left out: the weight sums of its own
    for column in columns:
        assert (
            _wmean(column, weight, code, 10, shared).tobytes() == _wmean(column, weight, code, 10).tobytes()
        )


def test_band_counts_equal_a_bincount() -> None:
    band = np.random.default_rng(8).integers(0, 6, 10_000).astype(np.int8)
    assert np.array_equal(_band_counts(band, 6), np.bincount(band, minlength=6))
    assert _band_counts(band, 6).dtype == np.bincount(band).dtype


def test_group_sums_equal_one_bincount_per_grouping_exactly() -> None:
    rng = np.random.default_rng(9)
    codes = [np.sort(rng.integers(0, 12, 6000)), rng.integers(0, 2, 6000), rng.integers(0, 5, 6000)]
    values = rng.exponential(4.0, 6000)
    bins, sizes = _interleaved(codes)
    for g, got in zip(codes, _group_sums(bins, sizes, values), strict=True):
        assert got.tobytes() == np.bincount(g, weights=values, minlength=int(g.max()) + 1).tobytes()
    with pytest.raises(ValueError):
        _interleaved([np.array([0, -1, 2])])
