"""Run folders: atomic writes of tables (Parquet or CSV), summary.json and provenance."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.errors import SimError
from sim.results.tables import TABLES, RunResult

__all__ = ["is_run_dir", "read_run", "read_summary", "replace_dir", "write_run"]

MARKER = "provenance.json"


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` is a townsim run folder."""
    return (path / MARKER).is_file() and (path / "summary.json").is_file()


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False, default=str)


def replace_dir(tmp: Path, out: Path) -> None:
    """Move a finished folder ``tmp`` to ``out``, swapping out an existing ``out`` by renames."""
    if out.exists():
        trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        out.rename(trash / out.name)
        tmp.rename(out)
        shutil.rmtree(trash)
    else:
        tmp.rename(out)


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    """One table as Parquet (pandas metadata kept); dictionary encoding only for categorical columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    categorical = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    pq.write_table(table, path, use_dictionary=categorical)


def write_tables(result: RunResult, folder: Path, *, csv: bool = False) -> None:
    """Write every table of ``result`` into ``folder``, largest first, on one thread per core.

    Arrow's encoders release the GIL, so the tables are encoded in parallel.
    """
    frames = sorted(((name, getattr(result, name)) for name in TABLES), key=lambda nf: -nf[1].size)
    with ThreadPoolExecutor(max_workers=max(1, min(len(frames), os.cpu_count() or 1))) as pool:
        jobs = [
            pool.submit(frame.to_csv, folder / f"{name}.csv", index=False)
            if csv
            else pool.submit(_write_table, frame, folder / f"{name}.parquet")
            for name, frame in frames
        ]
        for job in jobs:
            job.result()


def write_run(result: RunResult, out: str | Path, *, csv: bool = False, scenario_raw: dict[str, Any]) -> Path:
    """Write a run folder atomically.

    Everything is written to a temporary sibling folder, then renamed into place. An existing
    *run folder* at ``out`` is replaced; any other existing path is refused (never overwritten).

    Raises:
        SimError: ``out`` exists and is not a run folder.
    """
    out = Path(out)
    if out.exists() and not is_run_dir(out):
        raise SimError(f"{out}: exists and is not a townsim run folder; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write_tables(result, tmp, csv=csv)
        (tmp / "summary.json").write_text(_json(result.summary), encoding="utf-8")
        (tmp / "scenario.yaml").write_text(
            yaml.safe_dump(scenario_raw, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        (tmp / MARKER).write_text(_json(result.provenance), encoding="utf-8")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    """summary.json of a run folder."""
    run_dir = Path(run_dir)
    if not is_run_dir(run_dir):
        raise SimError(f"{run_dir}: not a townsim run folder (expected summary.json and {MARKER})")
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def read_run(run_dir: str | Path) -> RunResult:
    """Load a run folder (Parquet or CSV tables) back into a RunResult."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        parquet, csv = run_dir / f"{name}.parquet", run_dir / f"{name}.csv"
        frames[name] = pd.read_parquet(parquet) if parquet.is_file() else pd.read_csv(csv)
    provenance = json.loads((run_dir / MARKER).read_text(encoding="utf-8"))
    return RunResult(**frames, summary=summary, provenance=provenance)
