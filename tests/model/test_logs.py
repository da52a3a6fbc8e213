"""Column buffers of the run logs: rows survive growth, ids land at their rows, quantiles match pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def test_a_watcher_sees_each_append_and_reads_the_rows_without_waiting() -> None:
    """``on_append`` watchers run after each append with the rows so far and read them with ``rows``
    (no sync: the appending thread's own rows), through the buffers' growth."""
    waits = []
    log = ColumnLog({"x": np.float64}, capacity=3, sync=lambda: waits.append(1))
    seen: list[tuple[int, list[float]]] = []
    log.on_append(lambda n: seen.append((n, log.rows(max(0, n - 2), n)["x"].tolist())))
    for k in range(4):
        log.append(x=np.arange(k, dtype=float) + 10 * k)
    assert seen == [(0, []), (1, [10.0]), (3, [20.0, 21.0]), (6, [31.0, 32.0])]
    assert waits == []  # rows() never waits; columns() and len() do
    assert len(log) == 6 and log.columns()["x"].tolist() == [10.0, 20.0, 21.0, 30.0, 31.0, 32.0]
    assert len(waits) == 2


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
