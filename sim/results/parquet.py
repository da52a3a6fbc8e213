"""Tables as Parquet files: written whole, or a row group at a time while a run still logs their rows.

Both ways give the same bytes: each row group holds ``ROW_GROUP_ROWS`` rows (the last one the rest),
encoded from the same columns, so a file streamed during a run equals the one written at its end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

__all__ = ["ROW_GROUP_ROWS", "ParquetStream", "write_parquet"]

ROW_GROUP_ROWS = 1 << 20  # rows per row group (pyarrow's default)


def _arrow(frame: pd.DataFrame) -> tuple[pa.Table, list[str]]:
    """``frame`` as an Arrow table (pandas metadata kept, no index) and its categorical columns."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table, [f.name for f in table.schema if pa.types.is_dictionary(f.type)]


def _writer(path: Path, table: pa.Table, categorical: list[str]) -> pq.ParquetWriter:
    """A Parquet writer for tables shaped as ``table``; dictionary encoding only for ``categorical``."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(path, table.schema, use_dictionary=categorical)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """One table as Parquet (pandas metadata kept); dictionary encoding only for categorical columns."""
    table, categorical = _arrow(frame)
    with _writer(path, table, categorical) as writer:
        writer.write_table(table, row_group_size=ROW_GROUP_ROWS)


def _idle_priority() -> None:
    """Give the calling thread the lowest CPU priority (Linux, where a priority is per thread), so
    that it runs on a core the run leaves idle rather than taking turns with the run's threads."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class ParquetStream:
    """A table's Parquet file written while its rows are logged: :meth:`feed` hands each whole row
    group to an encoder thread of its own once its rows are final, :meth:`finish` encodes the rest;
    the file equals :func:`write_parquet` of the whole table.

    Args:
        path: the file to write (opened at the first row group).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._frame: Callable[[int, int], pd.DataFrame] | None = None
        self._rows = ROW_GROUP_ROWS
        self._writer: pq.ParquetWriter | None = None
        self._encoder: ThreadPoolExecutor | None = None
        self._jobs: list[tuple[Future[None], pd.DataFrame]] = []  # handed over, with their rows
        self.fed = 0  # rows handed to the encoder so far
        self._closed = False

    def source(self, frame: Callable[[int, int], pd.DataFrame]) -> None:
        """Where the rows come from: ``frame(start, stop)`` gives rows ``start`` to ``stop - 1`` as a
        DataFrame (the same columns and dtypes for every range), read when they are fed."""
        self._frame = frame

    def _rows_frame(self, start: int, stop: int) -> pd.DataFrame:
        if self._frame is None:
            raise RuntimeError(f"ParquetStream {self.path}: no source of rows")
        self.fed = stop
        return self._frame(start, stop)

    def _encode(self, frame: pd.DataFrame) -> None:
        """Append ``frame`` as row groups (on the encoder thread, or in line at the end)."""
        table, categorical = _arrow(frame)
        if self._writer is None:
            self._writer = _writer(self.path, table, categorical)
        self._writer.write_table(table, row_group_size=self._rows)

    def feed(self, n: int) -> None:
        """Hand the encoder the whole row groups among the first ``n`` rows (final from now on) not
        yet fed; raise the error of an encoding that failed. Nothing once the stream is closed (rows
        a failed run still logs)."""
        if self._closed:
            return
        while self._jobs and self._jobs[0][0].done():
            self._jobs.pop(0)[0].result()
        while n - self.fed >= self._rows:
            if self._encoder is None:
                self._encoder = ThreadPoolExecutor(
                    1, thread_name_prefix="townsim-parquet", initializer=_idle_priority
                )
            frame = self._rows_frame(self.fed, self.fed + self._rows)
            self._jobs.append((self._encoder.submit(self._encode, frame), frame))

    def finish(self, n: int) -> None:
        """Encode what the encoder has not (rows up to ``n`` in all: the row groups it was handed but
        has not started, and the rows not fed) and close the file, raising the first error of an
        encoding."""
        if n < self.fed:
            raise ValueError(f"ParquetStream {self.path}: {n} rows in all, but {self.fed} fed")
        jobs, self._jobs = self._jobs, []
        for job, frame in jobs:  # in order; what the encoder has not started is encoded here
            if job.cancel():
                self._encode(frame)
            else:
                job.result()
        self._stop_encoder()
        if n > self.fed or self._writer is None:
            self._encode(self._rows_frame(self.fed, n))
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _stop_encoder(self) -> None:
        """Stop the encoder once it is through the row group it is encoding (if any)."""
        if self._encoder is not None:
            self._encoder.shutdown(cancel_futures=True)
            self._encoder = None

    def close(self) -> None:
        """After a failure: let the encoder stop and close the file, leaving it incomplete (the
        failure being reported, errors of the encoding are not); later rows are not encoded."""
        self._closed = True
        self._jobs = []
        self._stop_encoder()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            with contextlib.suppress(Exception):
                writer.close()
