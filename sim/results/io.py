"""Run folders: atomic writes of tables (Parquet or CSV), summary.json and provenance."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from sim.errors import SimError
from sim.ownership import check_replaceable, commit_dir, output_lock, staged_dir, write_marker
from sim.results.parquet import ParquetStream, write_parquet

if TYPE_CHECKING:
    from sim.results.result import RunResult
    from sim.results.summary_model import RunSummary

__all__ = [
    "RunWriter",
    "check_run_out",
    "is_run_dir",
    "read_json",
    "read_run",
    "read_summary",
    "read_table",
    "replace_dir",
    "write_run",
    "write_tables",
    "writing_run",
    "writing_tables",
]

MARKER = "provenance.json"
KIND = "run"


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` looks like a townsim run folder (summary and provenance present)."""
    return (path / MARKER).is_file() and (path / "summary.json").is_file()


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False, default=str)


def _yaml(data: dict[str, Any]) -> str:
    """YAML text of a resolved scenario (libyaml's emitter where PyYAML has it: same text, faster)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False)


def replace_dir(tmp: Path, out: Path) -> None:
    """Put the finished folder ``tmp`` at ``out`` in one atomic swap (:func:`sim.ownership.commit_dir`)."""
    commit_dir(tmp, out)


@contextmanager
def writing_tables(
    result: RunResult, folder: Path, *, csv: bool = False, streamed: Mapping[str, ParquetStream] | None = None
) -> Iterator[None]:
    """Write every table of ``result`` into ``folder`` on one thread per core (largest first) while
    the block runs; on leaving, wait for all of them (raising the first error).

    Arrow's encoders release the GIL, so the tables are encoded in parallel with each other and
    with the caller's own work (the small files of a run folder). Tables in ``streamed`` were
    encoded while the run logged them: only their last rows are (:meth:`ParquetStream.finish`).
    """
    from sim.results.result import OPTIONAL_TABLES, TABLES

    streamed = streamed or {}
    named = [*TABLES, *(n for n in OPTIONAL_TABLES if getattr(result, n) is not None)]
    frames = sorted(((name, getattr(result, name)) for name in named), key=lambda nf: -nf[1].size)
    with ThreadPoolExecutor(max_workers=max(1, min(len(frames), os.cpu_count() or 1))) as pool:
        jobs = [
            pool.submit(streamed[name].finish, len(frame))
            if name in streamed
            else pool.submit(frame.to_csv, folder / f"{name}.csv", index=False)
            if csv
            else pool.submit(write_parquet, frame, folder / f"{name}.parquet")
            for name, frame in frames
        ]
        try:
            yield
        finally:
            for job in jobs:
                job.result()


def write_tables(result: RunResult, folder: Path, *, csv: bool = False) -> None:
    """Write every table of ``result`` into ``folder`` (:func:`writing_tables`)."""
    with writing_tables(result, folder, csv=csv):
        pass


def check_run_out(out: Path, scenario_hash: str | None, *, force: bool = False) -> None:
    """Refuse ``out`` unless townsim may put a run of this scenario there (see :func:`write_run`).

    Raises:
        SimError: ``out`` is not replaceable, or holds a run of another scenario and not ``force``.
    """
    existing = check_replaceable(out, KIND) or {}
    old_hash = existing.get("scenario_hash")
    if old_hash and scenario_hash and old_hash != scenario_hash and not force:
        raise SimError(
            f"{out}: holds a run of another scenario ({existing.get('scenario')}); "
            "use --force to replace it or choose another --out"
        )


class RunWriter:
    """What :func:`writing_run` gives its block: :meth:`stream` a table while the run logs it, then
    :meth:`start` writing the rest once the run's tables exist."""

    def __init__(
        self, stack: ExitStack, out: Path, *, csv: bool, scenario_hash: str | None, force: bool
    ) -> None:
        self._stack, self._out, self._csv = stack, out, csv
        self._hash, self._force = scenario_hash, force
        self._tmp: Path | None = None
        self._streams: dict[str, ParquetStream] = {}
        self.started: tuple[RunResult, ExitStack] | None = None

    def staging_folder(self) -> Path:
        """The staging folder, made (with ``out`` locked and checked) on first use."""
        if self._tmp is None:
            self._stack.enter_context(output_lock(self._out))
            check_run_out(self._out, self._hash, force=self._force)
            self._tmp = self._stack.enter_context(staged_dir(self._out))
        return self._tmp

    def stream(self, name: str) -> ParquetStream | None:
        """A stream writing table ``name`` into the staging folder while the run logs its rows (its
        rows' source set by the run: :func:`sim.runner.run_loaded`); None when tables are CSV."""
        if self._csv:
            return None
        stream = ParquetStream(self.staging_folder() / f"{name}.parquet")
        self._stack.callback(stream.close)  # after a failure (its file goes with the staging folder)
        self._streams[name] = stream
        return stream

    def start(self, result: RunResult) -> None:
        """Start writing ``result``'s tables (those streamed: their last rows) on other threads."""
        tmp = self.staging_folder()
        tables = self._stack.enter_context(ExitStack())
        tables.enter_context(writing_tables(result, tmp, csv=self._csv, streamed=self._streams))
        self.started = (result, tables)


@contextmanager
def writing_run(
    out: str | Path,
    *,
    csv: bool = False,
    scenario_raw: dict[str, Any],
    scenario_hash: str | None,
    force: bool = False,
) -> Iterator[RunWriter]:
    """Write a run folder atomically while the caller finishes the run.

    The block gets a :class:`RunWriter`. Its ``start(result)``, to call once the tables exist,
    takes the lock, checks ``out`` (see :func:`write_run`), makes the staging folder and starts
    writing the tables on other threads, so the caller can fill ``result.summary`` and
    ``result.provenance`` meanwhile; ``stream(name)`` does the first three earlier, for a table
    written during the run. When the block ends, the small files are written, the tables awaited
    and the folder swapped into place; if it fails, the staging folder is removed and ``out`` is
    left as it was.

    Raises:
        SimError: as :func:`write_run`.
    """
    out = Path(out)
    from sim.results.summary_model import summary_json

    with ExitStack() as stack:
        writer = RunWriter(stack, out, csv=csv, scenario_hash=scenario_hash, force=force)
        yield writer
        if writer.started is None:
            raise RuntimeError("writing_run: the block never called start(result)")
        result, tables = writer.started
        tmp = writer.staging_folder()
        summary = result.checked_summary()
        with tables:  # small files written while the tables are
            (tmp / "summary.json").write_text(summary_json(summary), encoding="utf-8")
            (tmp / "scenario.yaml").write_text(_yaml(scenario_raw), encoding="utf-8")
            (tmp / MARKER).write_text(_json(result.provenance), encoding="utf-8")
        write_marker(tmp, KIND, scenario=summary.scenario, scenario_hash=scenario_hash)
        commit_dir(tmp, out)


def write_run(
    result: RunResult,
    out: str | Path,
    *,
    csv: bool = False,
    scenario_raw: dict[str, Any],
    force: bool = False,
) -> Path:
    """Write a run folder atomically (staging folder, then one swap into place).

    ``out`` is replaced only if townsim wrote it as a run folder and nothing was added since
    (:mod:`sim.ownership`); a run folder of a different resolved scenario (provenance
    ``scenario_sha256``) is replaced only with ``force``.

    Raises:
        SimError: ``out`` is not replaceable, or holds a run of another scenario and not ``force``.
    """
    scenario_hash = result.provenance.get("scenario_sha256")
    with writing_run(
        out, csv=csv, scenario_raw=scenario_raw, scenario_hash=scenario_hash, force=force
    ) as writer:
        writer.start(result)
    return Path(out)


def read_json(path: Path, expect: type = dict) -> Any:
    """A JSON file townsim wrote: an object (or ``expect``), with SimError naming the file otherwise."""
    what = "object" if expect is dict else "list"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise SimError(f"{path}: expected a JSON {what} written by townsim (nested too deeply)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SimError(f"{path}: expected a JSON {what} written by townsim ({exc})") from None
    if not isinstance(data, expect):
        raise SimError(f"{path}: expected a JSON {what} written by townsim")
    return data


def read_table(path: Path, name: str) -> pd.DataFrame:
    """One table of a run folder (Parquet, else CSV), with SimError naming the file if damaged."""
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # pyarrow and pandas raise many types for a damaged file
        raise SimError(
            f"{path}: expected the '{name}' table of a townsim run ({type(exc).__name__}: {exc})"
        ) from None


def read_summary(run_dir: str | Path) -> RunSummary:
    """summary.json of a run folder, validated (:func:`sim.results.summary_model.load_summary`).

    Raises:
        SimError: not a run folder, or its summary.json is damaged or of a layout this townsim
            cannot read (the message names the file and the field).
    """
    from sim.results.summary_model import load_summary

    run_dir = Path(run_dir)
    if not is_run_dir(run_dir):
        raise SimError(f"{run_dir}: not a townsim run folder (expected summary.json and {MARKER})")
    path = run_dir / "summary.json"
    return load_summary(read_json(path), str(path))


def read_run(run_dir: str | Path) -> RunResult:
    """Load a run folder (Parquet or CSV tables) back into a RunResult."""
    from sim.results.result import OPTIONAL_TABLES, TABLES, RunResult

    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        parquet, csv = run_dir / f"{name}.parquet", run_dir / f"{name}.csv"
        frames[name] = read_table(parquet if parquet.is_file() else csv, name)
    for name in OPTIONAL_TABLES:  # written only by runs with the feature on
        parquet, csv = run_dir / f"{name}.parquet", run_dir / f"{name}.csv"
        if parquet.is_file() or csv.is_file():
            frames[name] = read_table(parquet if parquet.is_file() else csv, name)
    provenance = read_json(run_dir / MARKER)
    return RunResult(**frames, summary=summary, provenance=provenance)
