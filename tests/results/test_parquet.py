"""Parquet files streamed during a run equal those written whole, row group by row group."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.results import parquet
from sim.results.parquet import ParquetStream, write_parquet

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny" / "baseline.yaml"


def _table(n: int, seed: int) -> pd.DataFrame:
    """A table with the kinds of columns townsim writes: integers, floats with NaN and inf,
    categoricals (some labels unused) and booleans."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    x[rng.random(n) < 0.05] = np.inf
    return pd.DataFrame(
        {
            "trip": np.arange(n, dtype=np.int64),
            "day": rng.integers(0, 9, n).astype(np.int32),
            "minutes": x,
            "place": pd.Categorical.from_codes(
                rng.integers(0, 3, n), categories=pd.Index(["a", "b", "c", "d"])
            ),
            "lines": pd.Categorical.from_codes(rng.integers(0, 2, n), categories=pd.Index(["", "b1>f2"])),
            "home": rng.random(n) < 0.5,
        }
    )


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 60),
    group=st.integers(1, 12),
    steps=st.lists(st.integers(0, 25), max_size=12),
    seed=st.integers(0, 2**16),
)
def test_a_streamed_file_is_the_file_written_whole(
    tmp_path_factory: pytest.TempPathFactory, n: int, group: int, steps: list[int], seed: int
) -> None:
    """Rows fed in any increments (the days' trips), then finished: the same bytes as the whole
    table written at once, with whole row groups of ``group`` rows and the rest last."""
    folder = tmp_path_factory.mktemp("parquet")
    frame = _table(n, seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parquet, "ROW_GROUP_ROWS", group)
        write_parquet(frame, folder / "whole.parquet")
        stream = ParquetStream(folder / "streamed.parquet")
        stream.source(lambda start, stop: frame.iloc[start:stop].reset_index(drop=True))
        fed = 0
        for step in steps:
            fed = min(n, fed + step)
            stream.feed(fed)
            assert stream.fed <= fed and stream.fed % group == 0
        stream.finish(n)
    whole = (folder / "whole.parquet").read_bytes()
    assert (folder / "streamed.parquet").read_bytes() == whole
    meta = pq.ParquetFile(folder / "whole.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    expected = [group] * (n // group) + ([n % group] if n % group else [])
    assert sizes == (expected or [0])  # (an empty table: one empty row group)


def test_row_groups_the_encoder_has_not_started_are_encoded_by_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The encoder thread starts late (a slow start, as a thread at idle priority on a busy machine):
    finish encodes the row groups still queued itself, in order, and waits for the one under way."""
    frame = _table(47, 3)
    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 10)
    monkeypatch.setattr(parquet, "_idle_priority", lambda: time.sleep(0.3))
    write_parquet(frame, tmp_path / "whole.parquet")
    stream = ParquetStream(tmp_path / "streamed.parquet")
    stream.source(lambda start, stop: frame.iloc[start:stop])
    stream.feed(45)
    queued = [job for job, _ in stream._jobs]
    stream.finish(47)
    assert len(queued) == 4 and sum(job.cancelled() for job in queued) >= 3
    assert (tmp_path / "streamed.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()


def test_a_stream_reports_what_went_wrong_and_closes_its_file(tmp_path: Path) -> None:
    frame = _table(30, 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parquet, "ROW_GROUP_ROWS", 10)
        stream = ParquetStream(tmp_path / "t.parquet")
        with pytest.raises(RuntimeError, match="no source of rows"):
            stream.feed(10)
        # rows whose columns change type between row groups: the encoder's error reaches the caller
        stream = ParquetStream(tmp_path / "t.parquet")
        stream.source(lambda a, b: frame.iloc[a:b] if a == 0 else frame.iloc[a:b].astype({"day": str}))
        stream.feed(20)
        with pytest.raises(ValueError, match="schema"):
            stream.finish(30)
        stream.close()  # after the failure: closes quietly, and takes no more rows
        stream.feed(30)
        assert stream.fed == 20 and stream._encoder is None
        stream = ParquetStream(tmp_path / "u.parquet")
        stream.source(lambda a, b: frame.iloc[a:b])
        stream.feed(25)
        with pytest.raises(ValueError, match="15 rows in all, but 20 fed"):
            stream.finish(15)
        stream.close()


def test_townsim_run_streams_trips_in_row_groups_that_equal_the_whole_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``townsim run`` encodes trips.parquet while the days are logged: with row groups of 200 rows
    the file has several, and holds the same bytes as the trips table written whole afterwards."""
    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 200)
    out = tmp_path / "run"
    assert main(["run", str(TINY), "--days", "60", "--out", str(out), "--quiet"]) == 0
    trips = pd.read_parquet(out / "trips.parquet")
    meta = pq.ParquetFile(out / "trips.parquet").metadata
    assert len(trips) > 3 * 200 and meta.num_row_groups == -(-len(trips) // 200)
    write_parquet(trips, tmp_path / "whole.parquet")
    assert (tmp_path / "whole.parquet").read_bytes() == (out / "trips.parquet").read_bytes()


def test_a_run_that_fails_midway_leaves_no_streamed_file_and_the_old_run_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["run", str(TINY), "--days", "5", "--out", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 50)
    from sim.model.model import AccessModel

    step = AccessModel.step

    def failing(self: AccessModel) -> None:
        if self.day == 30:
            raise OSError(28, "No space left on device")
        step(self)

    monkeypatch.setattr(AccessModel, "step", failing)
    assert main(["run", str(TINY), "--days", "60", "--out", str(out), "--quiet"]) != 0
    assert "No space left" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder or lock left
