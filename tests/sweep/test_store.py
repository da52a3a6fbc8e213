"""The sweep folder's Parquet store: atomic batches, newest row per key, compaction, single writer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.errors import SimError
from sim.sweep.store import SweepStore

COLUMNS = ["run_key", "status", "error", "x", "finished_at"]


def _row(key: str, status: str = "ok", when: str = "2026-01-01T00:00:00") -> dict[str, object]:
    return {
        "run_key": key,
        "status": status,
        "error": None if status == "ok" else "boom",
        "x": 1.0,
        "finished_at": when,
    }


def test_rows_are_written_in_atomic_batches(tmp_path: Path) -> None:
    store = SweepStore(tmp_path, batch_rows=2, flush_s=3600)
    store._columns = COLUMNS
    store.add(_row("a"))
    assert store.parts() == []
    store.add(_row("b"))
    store.add(_row("c"))
    store.flush()
    assert len(store.parts()) == 2
    assert not [p for p in store.results.iterdir() if p.name.startswith(".")]
    assert sorted(store.read_rows()["run_key"]) == ["a", "b", "c"]
    assert store.read_rows()["error"].isna().all()


def test_newest_row_wins_and_compaction_drops_superseded_rows(tmp_path: Path) -> None:
    store = SweepStore(tmp_path, batch_rows=1)
    store._columns = COLUMNS
    store.add(_row("a", "failed", "2026-01-01T00:00:00"))
    store.add(_row("b"))
    store.add(_row("a", "ok", "2026-01-02T00:00:00"))
    assert len(store.read_rows(latest=False)) == 3
    assert store.keys(statuses=("ok",)) == {"a", "b"}
    store.compact()
    assert len(store.parts()) == 1
    rows = store.read_rows(latest=False)
    assert sorted(rows["run_key"]) == ["a", "b"] and set(rows["status"]) == {"ok"}


def test_one_writer_at_a_time_and_stale_locks_are_taken_over(tmp_path: Path) -> None:
    first, second = SweepStore(tmp_path), SweepStore(tmp_path)
    first.acquire()
    with pytest.raises(SimError, match="another sweep"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()
    host = os.uname().nodename
    (tmp_path / ".sweep.lock").write_text(f"{host} 999999999", encoding="utf-8")  # a dead pid
    first.acquire()
    first.release()


def test_status_of_a_folder_without_sweep_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SimError, match="not a sweep folder"):
        SweepStore(tmp_path).read_plan()
