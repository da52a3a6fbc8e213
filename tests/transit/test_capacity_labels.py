"""Label codes of the lines ridden after capacity moved riders: one number per row of lines, codes
of rows met in earlier batches kept, new labels added in the order their first rider comes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from sim.transit.capacity import CapacityDay


def _reference(line_ids: list[str], labels: list[str], lines: np.ndarray) -> np.ndarray:
    """Row by row: the "line>line" text, its code (appended to ``labels`` when new)."""
    codes = []
    for row in lines.tolist():
        text = ">".join(line_ids[x] for x in row if x >= 0)
        if text not in labels:
            labels.append(text)
        codes.append(labels.index(text))
    return np.array(codes, dtype=np.int64)


def _day(line_ids: list[str], labels: list[str]) -> SimpleNamespace:
    return SimpleNamespace(
        tt=SimpleNamespace(line_ids=line_ids),
        bus=SimpleNamespace(labels=labels),
        _label_code={text: i for i, text in enumerate(labels)},
        _key_code={},
    )


def test_label_codes_match_a_row_by_row_lookup_over_batches() -> None:
    rng = np.random.default_rng(11)
    for n_lines in (3, 40):
        line_ids = [f"L{i}" for i in range(n_lines)]
        day = _day(line_ids, ["L0", "L1>L2"])
        ref_labels = ["L0", "L1>L2"]
        for _ in range(8):
            n = int(rng.integers(1, 200))
            lines = rng.integers(0, min(n_lines, 6), (n, 4))
            lines[rng.random((n, 4)) < 0.4] = -1  # unused legs, a gap in a row now and then
            lines[:, 0] = np.maximum(lines[:, 0], 0)
            got = CapacityDay._labels(day, lines)  # type: ignore[arg-type]
            np.testing.assert_array_equal(got, _reference(line_ids, ref_labels, lines))
            assert day.bus.labels == ref_labels


def test_label_codes_without_room_for_one_number_per_row() -> None:
    """Too many lines for a row's digits in one int64: numbered within the batch, same codes."""
    rng = np.random.default_rng(12)
    line_ids = [f"L{i}" for i in range(70000)]
    day, ref_labels = _day(line_ids, []), []
    for _ in range(4):
        lines = rng.integers(-1, 5, (50, 4))
        lines[:, 0] = rng.integers(0, 70000, 50)
        got = CapacityDay._labels(day, lines)  # type: ignore[arg-type]
        np.testing.assert_array_equal(got, _reference(line_ids, ref_labels, lines))
    assert day._key_code == {}
