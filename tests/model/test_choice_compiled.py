"""The compiled logit draws (``sim/model/_logit.pyx``) give the numpy versions' results bit for bit."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sim.model import choice


@pytest.fixture(scope="module")
def compiled() -> object:
    if choice._compiled is None:
        assert shutil.which("cc") is None, "a C compiler is present but sim.model._logit was not built"
        pytest.skip("installed without a C compiler: only the numpy draws exist")
    return choice._compiled


def test_totals_picks_and_mode_picks_equal_the_numpy_versions(compiled: object) -> None:
    """Random weights with zero columns, tiny (1e-300) weights, a remembered row times a factor and
    targets next to the total (the rounding edge where the last positive row is taken)."""
    rng = np.random.default_rng(3)
    for trial in range(400):
        m, n_rows, n = int(rng.integers(1, 40)), int(rng.integers(1, 30)), int(rng.integers(1, 200))
        weight = rng.exponential(1.0, (n_rows, m)) * (rng.random((n_rows, m)) < 0.7)
        weight[0] = 0.0 if trial % 7 == 0 else weight[0]
        weight *= 1e-300 if trial % 11 == 0 else 1.0
        col = rng.integers(0, n_rows, n).astype(np.int64)
        slot = np.where(rng.random(n) < 0.4, rng.integers(0, m, n), -1).astype(np.int32)
        factor = np.exp(rng.normal(0.0, 2.0, n))
        total = choice.row_totals_numpy(weight, col, slot, factor)
        assert compiled.row_totals(weight, col, slot, factor).tobytes() == total.tobytes()  # type: ignore[attr-defined]
        target = np.nextafter(total, 0.0) if trial % 5 == 0 else rng.random(n) * total
        ok = total > 0  # a draw needs some weight
        k_np, within_np = choice.row_pick_numpy(weight, col, slot, factor, target)
        k_c, within_c = compiled.row_pick(weight, col, slot, factor, target)  # type: ignore[attr-defined]
        np.testing.assert_array_equal(k_c[ok], k_np[ok])
        assert within_c[ok].tobytes() == within_np[ok].tobytes()
        within = rng.random(n)
        np.testing.assert_array_equal(
            compiled.scaled_pick(weight, col, within),  # type: ignore[attr-defined]
            choice.scaled_pick_numpy(weight, col, within),
        )
