"""Errand batches: gathering rows of several batches is indexing each and concatenating, column by column."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from sim.model.needs import Needs


def _batch(n: int, first: int, day: int) -> Needs:
    rng = np.random.default_rng(first)
    return Needs.new(
        np.arange(first, first + n),
        rng.integers(0, 2**63, n).astype(np.uint64),
        rng.integers(0, 1000, n),
        rng.integers(0, 5, n),
        day,
        day + 1,
        rng.random(n) < 0.5,
    )


def test_gather_is_index_then_concatenate() -> None:
    a, b = _batch(30, 0, 3), _batch(12, 30, 4)
    a.burden_min[:] = np.random.default_rng(1).random(30)
    rows_a = np.flatnonzero(np.random.default_rng(2).random(30) < 0.6)
    got = Needs.gather([(a, rows_a), (b, None), (a, np.array([], dtype=np.int64))])
    for f in fields(Needs):
        column, want = getattr(got, f.name), np.concatenate([getattr(a, f.name)[rows_a], getattr(b, f.name)])
        assert column.dtype == want.dtype == getattr(a, f.name).dtype
        assert column.tobytes() == want.tobytes()
    assert len(Needs.gather([])) == 0 and len(Needs.concat([])) == 0
