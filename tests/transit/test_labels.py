"""Journey label codes: the lookup table gives what ``np.unique`` gives."""

from __future__ import annotations

import numpy as np
import pytest

from sim.transit import tables


@pytest.mark.parametrize("table_keys", [1 << 24, 0])  # the lookup table, then np.unique
def test_codes_equal_np_unique(monkeypatch: pytest.MonkeyPatch, table_keys: int) -> None:
    monkeypatch.setattr(tables, "_TABLE_KEYS", table_keys)
    keys = np.random.default_rng(1).integers(0, 13**4, 50_000)
    uniq, inverse = tables._codes(keys, 13**4)
    want_uniq, want_inverse = np.unique(keys, return_inverse=True)
    np.testing.assert_array_equal(uniq, want_uniq)
    np.testing.assert_array_equal(inverse, want_inverse)
