"""validate-patterns: the school service radius and the agreement table (sign, size, disagreements said)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.calibration.patterns import PATTERNS, format_patterns, pattern_table, service_radius_km


def test_service_radius_is_the_mean_pupil_distance_by_level() -> None:
    schools = pd.DataFrame(
        {
            "level": pd.Categorical(["primary", "primary", "middle", "middle", "middle"]),
            "school": ["p1", "p2", "m1", None, "m1"],  # an unplaced pupil does not count
            "distance_km": [1.0, 3.0, 4.0, 99.0, 6.0],
        }
    )
    assert service_radius_km(schools) == {"middle": pytest.approx(5.0), "primary": pytest.approx(2.0)}


def test_table_says_where_sign_or_size_disagree() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for p in PATTERNS:
        centre = {"km": p.published, "%": -p.published}[
            p.unit
        ]  # km patterns agree, % ones have the wrong sign
        rows += [
            {"draw": 0, "seed": s, "pattern": p.name, "value": centre + rng.normal(0, 0.1)} for s in range(4)
        ]
    table = pattern_table(pd.DataFrame(rows)).set_index("pattern")
    km = [p.name for p in PATTERNS if p.unit == "km"]
    pct = [p.name for p in PATTERNS if p.unit == "%"]
    assert table.loc[km, "sign_agrees"].all() and table.loc[km, "size_agrees"].all()
    assert not table.loc[pct, "sign_agrees"].any() and not table.loc[pct, "size_agrees"].any()
    assert (table["ci_low"] < table["model"]).all() and (table["model"] < table["ci_high"]).all()
    assert table["source"].str.contains("CDEMS 2026|Audit Office").all()
    text = format_patterns(table.reset_index())
    assert text.count("disagreement:") == len(pct) and "opposite sign" in text
