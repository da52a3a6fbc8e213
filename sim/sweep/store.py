"""Sweep folder: resolved experiment, plan, and a Parquet dataset of run rows written in atomic batches."""

from __future__ import annotations

import os
import re
import socket
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ScenarioError, SimError
from sim.ownership import MARKER, adopt_folder, check_replaceable, read_marker, write_marker

__all__ = ["SweepStore", "write_atomic"]


def write_atomic(frame: pd.DataFrame, path: Path, *, csv: bool = False) -> None:
    """Write a table to ``path`` via a temporary sibling and a rename (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        if csv:
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class SweepStore:
    """The folder of one sweep.

    Layout: ``experiment.yaml`` (resolved experiment), ``plan.parquet`` (planned runs),
    ``results/part-*.parquet`` (one row per finished run, one file per flushed batch),
    ``analysis/`` (tables of ``townsim analyze``).

    Rows are buffered and flushed as one file when ``batch_rows`` rows or ``flush_s`` seconds
    have gathered, and on ``flush()``; a crash loses at most the unflushed batch (which the
    next run of the sweep re-runs), never a half-written file.
    """

    def __init__(
        self, root: str | Path, *, batch_rows: int = 64, flush_s: float = 2.0, kind: str = "sweep"
    ) -> None:
        self.root = Path(root)
        self.kind = kind  # output kind in the ownership marker (a calibration folder is "calibration")
        self.results = self.root / "results"
        self.batch_rows = batch_rows
        self.flush_s = flush_s
        self._buffer: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()
        self._columns: Sequence[str] = ()
        self._lock: Path | None = None

    # -- folder-level files -------------------------------------------------------------
    def write_setup(self, *, experiment_yaml: str, plan: pd.DataFrame, columns: Sequence[str]) -> None:
        """Write ``experiment.yaml`` and ``plan.parquet`` and fix the column order of result rows."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".experiment.yaml.{uuid.uuid4().hex}.tmp"
        tmp.write_text(experiment_yaml, encoding="utf-8")
        os.replace(tmp, self.root / "experiment.yaml")
        write_atomic(plan, self.root / "plan.parquet")
        self._columns = columns

    def read_plan(self) -> pd.DataFrame:
        """The planned runs of the last sweep started in this folder.

        Raises:
            SimError: the folder holds no sweep.
        """
        path = self.root / "plan.parquet"
        if not path.is_file():
            raise SimError(f"{self.root}: not a sweep folder (no plan.parquet); run `townsim sweep` first")
        return _read_part(path, ("run_key",))

    # -- single writer ------------------------------------------------------------------
    def acquire(self, *, adopt: bool = False) -> None:
        """Take the folder's writer lock (a stale lock of a dead process on this host is taken over).

        The folder gets townsim's ownership marker; a non-empty folder without one is refused,
        except with ``adopt`` a sweep folder of an older townsim holding only a sweep's files.
        Temporary files a killed sweep left behind are removed.

        Raises:
            SimError: another live sweep writes this folder, or it holds files townsim did not write.
        """
        if self.root.is_dir() and not self.root.is_symlink() and read_marker(self.root) is None:
            looks_like_sweep = (self.root / "plan.parquet").is_file()
            if adopt and looks_like_sweep:
                adopt_folder(self.root, "sweep", _sweep_file)
            elif looks_like_sweep:
                raise SimError(
                    f"{self.root}: a sweep folder of an older townsim (no {MARKER} marker); to continue "
                    "it, run again with --adopt (taken over only if it holds nothing but a sweep's "
                    "files), or choose another --out"
                )
        check_replaceable(self.root, self.kind)  # never write into a folder townsim did not make
        self.root.mkdir(parents=True, exist_ok=True)
        lock = self.root / ".sweep.lock"
        me = f"{socket.gethostname()} {os.getpid()}"
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                host, _, pid = lock.read_text(encoding="utf-8").partition(" ")
                if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
                    lock.unlink(missing_ok=True)
                    continue
                raise SimError(
                    f"{self.root}: another sweep ({host} pid {pid}) is writing this folder"
                ) from None
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(me)
            self._lock = lock
            if read_marker(self.root) is None:
                write_marker(self.root, self.kind, files=False)
            for stale in [*self.root.glob(".*.tmp"), *self.results.glob(".*.tmp")]:
                stale.unlink(missing_ok=True)  # temporary files of a killed sweep
            return
        raise SimError(f"{self.root}: could not take the sweep lock {lock}")

    def release(self) -> None:
        """Give the writer lock back."""
        if self._lock is not None:
            self._lock.unlink(missing_ok=True)
            self._lock = None

    # -- rows ---------------------------------------------------------------------------
    def add(self, row: Mapping[str, Any]) -> None:
        """Buffer one result row; flush when the batch is full or old enough."""
        self._buffer.append(dict(row))
        if len(self._buffer) >= self.batch_rows or time.monotonic() - self._last_flush >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        """Write buffered rows as one new Parquet file in ``results/`` (atomic)."""
        self._last_flush = time.monotonic()
        if not self._buffer:
            return
        frame = _typed(pd.DataFrame(self._buffer, columns=list(self._columns) or None))
        name = f"part-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.parquet"
        write_atomic(frame, self.results / name)
        self._buffer.clear()

    def parts(self) -> list[Path]:
        """Result files, oldest first."""
        return sorted(self.results.glob("part-*.parquet")) if self.results.is_dir() else []

    def read_rows(self, *, latest: bool = True) -> pd.DataFrame:
        """Stored rows; with ``latest`` only the newest row per run_key (a retried failure is superseded)."""
        frames = [_read_part(p, ("run_key", "status", "finished_at")) for p in self.parts()]
        frames = [f for f in frames if not f.empty]
        if not frames:
            return pd.DataFrame(columns=["run_key", "status", "error", "finished_at"])
        rows = pd.concat(frames, ignore_index=True)
        if latest:
            rows = rows.sort_values("finished_at", kind="stable").drop_duplicates("run_key", keep="last")
        return rows.reset_index(drop=True)

    def keys(self, *, statuses: Iterable[str]) -> set[str]:
        """Run keys whose newest stored row has one of ``statuses``."""
        rows = self.read_rows()
        return set(rows.loc[rows["status"].isin(list(statuses)), "run_key"])

    def compact(self) -> None:
        """Rewrite the results as one file holding the newest row per run_key, if any row is superseded."""
        parts = self.parts()
        everything = self.read_rows(latest=False)
        if everything["run_key"].is_unique:
            return
        latest = self.read_rows()
        write_atomic(_typed(latest), self.results / f"part-{time.strftime('%Y%m%dT%H%M%S')}-compact.parquet")
        for part in parts:
            part.unlink()


def _read_part(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """A table of the sweep folder with the ``columns`` readers need.

    Raises:
        ScenarioError: unreadable (e.g. truncated) or a column is missing, naming the file.
    """
    from sim.results.io import read_table

    try:
        frame = read_table(path, path.stem)
    except SimError as exc:
        raise ScenarioError(str(path), "(file)", str(exc).removeprefix(f"{path}: ")) from None
    missing = [c for c in columns if c not in frame]
    if missing and not frame.empty:
        raise ScenarioError(str(path), missing[0], f"expected the columns {list(columns)} of a sweep table")
    return frame


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Fix column types that an all-empty batch would otherwise leave untyped."""
    out = frame.copy()
    for column in ("error", "worker", "finished_at", "status", "lever", "run_key"):
        if column in out:
            out[column] = out[column].astype("string")
    return out


#: Files a sweep writes in its folder (relative paths): what ``--adopt`` accepts.
_SWEEP_FILES = re.compile(
    r"experiment\.yaml|plan\.parquet|\.sweep\.lock|results/part-[\w-]+\.parquet"
    r"|analysis/(points|sensitivity)\.(parquet|csv)|((results|analysis)/)?\.[^/]+\.tmp"
)


def _sweep_file(name: str) -> bool:
    return _SWEEP_FILES.fullmatch(name) is not None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
