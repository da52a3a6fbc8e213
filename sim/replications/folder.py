"""Replicated run folders: write one atomically, read it back (or a single run as a set of one)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.errors import SimError
from sim.metrics.cells import cell_tables
from sim.replications.stats import ReplicationSet, facility_table, village_table
from sim.results.io import is_run_dir
from sim.results.result import RunResult

__all__ = ["MARKER", "REPLICATIONS_KIND", "is_replications_dir", "read_replications", "write_replications"]

MARKER = "replications.json"
#: Kind of a replicated run folder in its ownership marker (:mod:`sim.ownership`).
REPLICATIONS_KIND = "replications"
CELL_TABLES = ("cells", "facility_cells")
"""Per-seed cell tables of a replicated run folder (crossed groups and explain), when written."""


def is_replications_dir(path: str | Path) -> bool:
    """Whether ``path`` is a replicated run folder (written by :func:`write_replications`)."""
    return (Path(path) / MARKER).is_file()


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str)


def write_replications(
    rset: ReplicationSet,
    out: str | Path,
    *,
    scenario_raw: dict[str, Any],
    tables_from: str | Path | None = None,
) -> Path:
    """Write a replicated run folder atomically (a temporary sibling renamed into place).

    Layout: ``replications.json`` (scenario, base seed, seeds, days, provenance),
    ``summaries.json`` (the summary.json of every run, in seed order), ``villages.parquet`` and
    ``facilities.parquet`` (one row per seed and place), ``cells.parquet`` and
    ``facility_cells.parquet`` (one row per seed and cell, :mod:`sim.metrics.cells`),
    ``scenario.yaml``, and the full run folders ``seed_<s>/`` found in ``tables_from`` (moved
    in). ``out`` is replaced only if townsim wrote it as a replicated run folder and nothing
    was added since (:mod:`sim.ownership`).

    Raises:
        SimError: ``out`` exists and is not an unchanged replicated run folder townsim wrote.
    """
    from sim.ownership import write_dir_owned

    meta = {
        "scenario": rset.scenario,
        "base_seed": rset.base_seed,
        "seeds": rset.seeds,
        "days": rset.days,
        "n": rset.n,
        "wall_time_s": rset.wall_time_s,
        "provenance": rset.provenance,
        **({"title": rset.title} if rset.title is not None else {}),
    }

    def fill(tmp: Path) -> None:
        summaries = [s.to_json_dict() for s in rset.summaries]
        (tmp / "summaries.json").write_text(_json(summaries), encoding="utf-8")
        rset.villages.to_parquet(tmp / "villages.parquet", index=False)
        rset.facilities.to_parquet(tmp / "facilities.parquet", index=False)
        for name in CELL_TABLES:
            if len(getattr(rset, name)):
                getattr(rset, name).to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "scenario.yaml").write_text(
            yaml.safe_dump(scenario_raw, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        if tables_from is not None and Path(tables_from).is_dir():
            for run in sorted(Path(tables_from).iterdir()):
                if is_run_dir(run):
                    shutil.move(str(run), tmp / run.name)
        (tmp / MARKER).write_text(_json(meta), encoding="utf-8")

    return write_dir_owned(Path(out), REPLICATIONS_KIND, fill)


def _single_run_set(run_dir: Path) -> ReplicationSet:
    """A single run folder as a set of one replication (its compact tables from its own tables)."""
    from sim.results.io import read_json, read_summary, read_table

    summary = read_summary(run_dir)
    prov = read_json(run_dir / "provenance.json")

    def table(name: str) -> pd.DataFrame:
        parquet = run_dir / f"{name}.parquet"
        if parquet.is_file():
            return read_table(parquet, name)
        frame = read_table(run_dir / f"{name}.csv", name)
        for col in ("village", "status", "kind", "facility", "mode", "outcome"):
            if col in frame:
                frame[col] = frame[col].astype("category")
        return frame

    result = RunResult(
        trips=table("trips"),
        errands=table("errands"),
        facility_days=table("facility_days"),
        residents=table("residents"),
        schools=pd.DataFrame(),
        daily=pd.DataFrame(),
        places=pd.DataFrame(),
        edges=pd.DataFrame(),
    )
    seed = summary.seed
    cells, facility_cells = cell_tables(result.residents, result.errands, result.trips)
    return ReplicationSet(
        scenario=summary.scenario,
        days=summary.days,
        base_seed=seed,
        seeds=[seed],
        summaries=[summary],
        villages=village_table(result).assign(seed=seed),
        facilities=facility_table(result).assign(seed=seed),
        wall_time_s=[float(prov.get("wall_time_s", float("nan")))],
        provenance=prov,
        cells=cells.assign(seed=seed),
        facility_cells=facility_cells.assign(seed=seed),
    )


def _cell_table(file: Path, name: str) -> pd.DataFrame:
    """A cell table of a replicated run folder, checked for the columns the answers read."""
    from sim.metrics.cells import CELL_SUMS, FACILITY_SUMS
    from sim.results.io import read_table

    frame = read_table(file, name)
    need = ("seed", "n", *CELL_SUMS) if name == "cells" else ("seed", "facility", *FACILITY_SUMS)
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise SimError(f"{file}: field '{missing[0]}': expected the {name} table townsim writes (a column)")
    bad = [c for c in need if c != "facility" and not pd.api.types.is_numeric_dtype(frame[c])]
    bad += [c for c in need if frame[c].isna().any()]
    if bad:
        raise SimError(f"{file}: field '{bad[0]}': expected numbers, no missing values")
    return frame


def read_replications(path: str | Path) -> ReplicationSet:
    """A replicated run folder, or a single run folder as a set of one replication.

    Raises:
        SimError: ``path`` is neither, or is damaged (:mod:`sim.results.folder` names the file and field).
    """
    from sim.results.folder import load_any_folder
    from sim.results.io import read_json, read_table
    from sim.results.summary_model import load_summary

    load_any_folder(path)  # a damaged folder stops here, before any number is read

    path = Path(path)
    if is_replications_dir(path):
        meta = read_json(path / MARKER)
        missing = [key for key in ("scenario", "days", "base_seed", "seeds") if key not in meta]
        if missing:
            raise SimError(
                f"{path / MARKER}: field '{missing[0]}': expected a townsim replicated run description"
            )
        summaries = [
            load_summary(s, f"{path / 'summaries.json'} (run {i + 1})")
            for i, s in enumerate(read_json(path / "summaries.json", list))
        ]
        return ReplicationSet(
            scenario=meta["scenario"],
            days=int(meta["days"]),
            base_seed=int(meta["base_seed"]),
            seeds=[int(s) for s in meta["seeds"]],
            summaries=summaries,
            villages=read_table(path / "villages.parquet", "villages"),
            facilities=read_table(path / "facilities.parquet", "facilities"),
            wall_time_s=[float(x) for x in meta.get("wall_time_s", [])],
            provenance=meta.get("provenance", {}),
            title=meta.get("title"),
            **{
                name: _cell_table(path / f"{name}.parquet", name)
                for name in CELL_TABLES
                if (path / f"{name}.parquet").is_file()
            },
        )
    if is_run_dir(path):
        return _single_run_set(path)
    raise SimError(
        f"{path}: not a townsim run folder (expected {MARKER} of `townsim run --replications N`, "
        "or summary.json and provenance.json of a single run)"
    )
