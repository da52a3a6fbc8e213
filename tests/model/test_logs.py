"""Column buffers of the run logs: rows survive growth, ids land at their rows, quantiles match pandas."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from sim.compiled import optional_extension
from sim.model.logs import ColumnLog, ErrandLog, group_quantile


def test_column_log_keeps_every_row_through_growth() -> None:
    rng = np.random.default_rng(3)
    log = ColumnLog({"day": np.int32, "x": np.float64, "ok": np.bool_}, capacity=5)
    days, xs, oks = [], [], []
    for day in range(40):
        x = rng.normal(size=int(rng.integers(0, 9)))
        ok = x > 0
        log.append(day=day, x=x, ok=ok)
        days.append(np.full(len(x), day))
        xs.append(x)
        oks.append(ok)
    cols = log.columns()
    assert len(log) == sum(len(x) for x in xs)
    np.testing.assert_array_equal(cols["day"], np.concatenate(days))
    np.testing.assert_array_equal(cols["x"], np.concatenate(xs))
    np.testing.assert_array_equal(cols["ok"], np.concatenate(oks))
    assert cols["day"].dtype == np.int32 and cols["ok"].dtype == np.bool_
    cols["x"][:] = 0.0  # the buffers are writable views


def test_errand_log_writes_rows_at_their_ids_in_any_order() -> None:
    log = ErrandLog({"key": np.uint64, "v": np.float64}, capacity=2)
    log.put(np.array([4, 1]), key=np.array([40, 10], dtype=np.uint64), v=np.array([4.0, 1.0]))
    log.put(np.array([0, 3, 2]), key=np.array([0, 30, 20], dtype=np.uint64), v=2.5)
    cols = log.columns()
    np.testing.assert_array_equal(cols["key"], [0, 10, 20, 30, 40])
    np.testing.assert_array_equal(cols["v"], [2.5, 1.0, 2.5, 2.5, 4.0])


def test_group_quantile_matches_pandas() -> None:
    rng = np.random.default_rng(5)
    key = rng.integers(0, 7, 500)
    key[key == 3] = 4  # key 3 empty
    values = rng.exponential(10.0, 500).round(1)  # ties
    got = group_quantile(values, key, 8, 0.95)
    want = pd.Series(values).groupby(key).quantile(0.95).reindex(range(8)).to_numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert np.isnan(got[3]) and np.isnan(got[7])


def test_group_quantile_equals_the_compiled_one() -> None:
    """The numpy group quantile (unstable sort by value) and ``sim/model/_fifo.pyx``'s (sorted group by
    group): the same floats bit for bit, with empty keys, ties (many zero waits) and quantiles 0, 0.5,
    0.9, 0.95 and 1."""
    compiled = optional_extension("sim.model._fifo")
    if compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.model._fifo was not built"
        pytest.skip("installed without a C compiler: only the numpy version exists")
    rng = np.random.default_rng(21)
    for trial in range(300):
        n, n_keys = int(rng.integers(1, 3000)), int(rng.integers(1, 60))
        values = rng.exponential(20.0, n) * (rng.random(n) < 0.6 if trial % 2 else 1.0)
        key = rng.integers(0, n_keys, n).astype(np.int64)
        q = (0.95, 0.5, 0.0, 1.0, 0.9)[trial % 5]
        want = compiled.group_quantile(values, key, n_keys, q)
        assert group_quantile(values, key, n_keys, q).tobytes() == want.tobytes()
