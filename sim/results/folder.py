"""One typed reader of run folders, for every command that reads one (gis, compare, report,
figures, merger-effect, explain).

A run folder is only as trustworthy as the disk it sits on: files are hand-edited, truncated,
copied from another version. :func:`load_run_folder` checks what a reader would use before it
uses it, and refuses a damaged folder with a :class:`~sim.errors.ScenarioError` (exit code 2)
naming the file and the field:

* ``summary.json``: the typed :class:`~sim.results.summary_model.RunSummary`
  (:func:`sim.results.io.read_summary`: types, finite numbers), plus ranges the type does not
  carry (populations, distances and times of the merger-effect cells >= 0);
* ``provenance.json``: :class:`Provenance` (seed and days in the documented ranges, finite
  numbers) and the same seed and days as the summary; its ``outline_file`` is read only when it
  lies inside the run folder or the folder of the run's scenario file, is a ``.geojson`` /
  ``.json`` file of at most :data:`MAX_OUTLINE_BYTES`, and parses as an outline;
* ``scenario.yaml``: a YAML mapping (errors with line and column) whose ``crs`` is a coordinate
  reference system pyproj knows;
* every table: readable Parquet (or CSV) with the columns of :data:`REQUIRED_COLUMNS`; the
  place and edge tables also with finite coordinates and lengths in range (the large tables'
  values are checked when read through :meth:`RunFolder.table`).

A replicated run folder (``townsim run --replications N``) is checked by
:func:`load_replications_folder`: ``replications.json`` (:class:`ReplicationsMeta`: unique seeds
in range, days in range), as many summaries as seeds, each a valid summary with its own seed,
and its tables' seeds among the folder's.

Typical use (a reader)::

    from sim.results.folder import load_any_folder

    folder = load_any_folder(path)          # RunFolder or ReplicationsFolder, checked
    summary = folder.summary                # RunSummary (first seed's for replications)
    places = folder.table("places")         # DataFrame, required columns and values checked
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.argtypes import MAX_DAYS, MAX_SEED
from sim.errors import ScenarioError

__all__ = [
    "MAX_COORD_KM",
    "MAX_OUTLINE_BYTES",
    "REQUIRED_COLUMNS",
    "Provenance",
    "ReplicationsFolder",
    "ReplicationsMeta",
    "RunFolder",
    "load_any_folder",
    "load_replications_folder",
    "load_run_folder",
]

#: Largest outline file a reader opens (bytes).
MAX_OUTLINE_BYTES = 64 * 1024 * 1024
#: Largest coordinate (km) a place or edge may have in a run folder.
MAX_COORD_KM = 100_000.0

#: Columns every reader may rely on, per table (a table may hold more).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "places": ("id", "kind", "x_km", "y_km", "former_unit", "population", "servers"),
    "edges": ("u", "v", "road_class", "length_km", "x0_km", "y0_km", "x1_km", "y1_km"),
    "trips": ("trip", "errand", "resident", "day", "facility", "mode", "wait_min", "travel_min"),
    "errands": ("errand", "resident", "service", "status", "burden_min"),
    "facility_days": ("day", "facility", "kind", "servers", "arrivals", "served", "mean_wait_min"),
    "residents": ("resident", "village", "former_unit", "age_band", "weight"),
    "daily": ("day",),
    "schools": ("resident", "school"),
    "line_loads": ("day", "line"),
    "proxy_trips": ("day", "village", "facility"),
}
#: Numeric columns whose every value must be finite, with their [low, high] range.
_FINITE: dict[str, dict[str, tuple[float, float]]] = {
    "places": {
        "x_km": (-MAX_COORD_KM, MAX_COORD_KM),
        "y_km": (-MAX_COORD_KM, MAX_COORD_KM),
        "population": (0, 1e10),
        "servers": (0, 1e6),
    },
    "edges": {
        "length_km": (0, MAX_COORD_KM),
        **{c: (-MAX_COORD_KM, MAX_COORD_KM) for c in ("x0_km", "y0_km", "x1_km", "y1_km")},
    },
}
#: Tables small enough to check value by value when the folder is loaded.
_CHECKED_ON_LOAD = ("places", "edges")


class _Open(BaseModel):
    """Keeps fields it does not declare (newer or feature-branch writers add some)."""

    model_config = ConfigDict(extra="allow")


class Provenance(_Open):
    """``provenance.json`` of a run folder: where and how the run was made."""

    scenario: str = Field(description="Run name (scenario name plus overlays).")
    scenario_file: str | None = Field(default=None, description="Path of the scenario YAML that was run.")
    seed: int = Field(ge=0, le=MAX_SEED, description="Seed of the run (0..2**32-1).")
    days: int = Field(ge=1, le=MAX_DAYS, description="Simulated days.")
    outline_file: str | None = Field(default=None, description="Outline GeoJSON of the scenario, if any.")
    population_scale: float | None = Field(
        default=None, gt=0, le=1, allow_inf_nan=False, description="Share of residents simulated."
    )
    wall_time_s: float | None = Field(default=None, ge=0, allow_inf_nan=False, description="Seconds.")


class ReplicationsMeta(_Open):
    """``replications.json`` of a replicated run folder."""

    scenario: str = Field(description="Run name.")
    days: int = Field(ge=1, le=MAX_DAYS, description="Simulated days per run.")
    base_seed: int = Field(ge=0, le=MAX_SEED, description="Seed the replication seeds were derived from.")
    seeds: list[int] = Field(min_length=1, description="Seed of each replication, in order.")
    n: int | None = Field(default=None, ge=1, description="Number of replications (= len(seeds)).")
    wall_time_s: list[float] = Field(default_factory=list, description="Each run's wall time, s.")


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _validated(model: type[BaseModel], data: Any, file: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        got = err.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f", got {got!r}"[:100]
        raise ScenarioError(str(file), _loc(err["loc"]), f"{err['msg']}{got_text}") from None


def _json(path: Path, expect: type) -> Any:
    from sim.errors import SimError
    from sim.results.io import read_json

    if not path.is_file():
        raise ScenarioError(str(path), "(file)", "missing; not a townsim run folder without it")
    try:
        return read_json(path, expect)
    except SimError as exc:
        raise ScenarioError(str(path), "(file)", str(exc).removeprefix(f"{path}: ")) from None


def _scenario_yaml(path: Path) -> dict[str, Any]:
    """The run's scenario.yaml as a mapping; ``crs`` checked with pyproj."""
    if not path.is_file():
        raise ScenarioError(str(path), "(file)", "expected the scenario.yaml of a townsim run folder")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), "(file)", f"expected UTF-8 text ({exc.reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"
        raise ScenarioError(
            str(path), where, f"expected valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    except RecursionError:
        raise ScenarioError(str(path), "(file)", "expected YAML nested less deeply") from None
    if not isinstance(raw, dict):
        raise ScenarioError(str(path), "(top level)", "expected a mapping (a townsim scenario)")
    crs = raw.get("crs")
    if crs is not None:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(crs)
        except (CRSError, TypeError, ValueError) as exc:
            raise ScenarioError(str(path), "crs", f"expected a coordinate reference system ({exc})") from None
    return raw


def _table_file(folder: Path, name: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        if (folder / f"{name}{suffix}").is_file():
            return folder / f"{name}{suffix}"
    return None


def _columns(path: Path) -> list[str]:
    """Column names of a table file, reading only its metadata (Parquet) or header (CSV)."""
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        return list(pd.read_csv(path, nrows=0).columns)
    except Exception as exc:  # pyarrow and pandas raise many types for a damaged file
        raise ScenarioError(
            str(path), "(file)", f"expected a table written by townsim ({type(exc).__name__}: {exc})"
        ) from None


def _check_values(frame: pd.DataFrame, name: str, path: Path) -> None:
    for col, (low, high) in _FINITE.get(name, {}).items():
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~((values >= low) & (values <= high)))  # NaN and inf fail too
        if len(bad):
            i = int(bad[0])
            raise ScenarioError(
                str(path),
                f"row {i + 1}, column {col}",
                f"expected a finite number from {low:g} to {high:g}, got {frame[col].iloc[i]!r}",
            )
    for col in frame.columns:
        if frame[col].dtype.kind == "f" and np.isinf(frame[col].to_numpy()).any():
            i = int(np.flatnonzero(np.isinf(frame[col].to_numpy()))[0])
            raise ScenarioError(str(path), f"row {i + 1}, column {col}", "expected a finite number, got inf")


def _read_table(path: Path, name: str) -> pd.DataFrame:
    from sim.errors import SimError
    from sim.results.io import read_table

    try:
        frame = read_table(path, name)
    except SimError as exc:
        raise ScenarioError(str(path), "(file)", str(exc).removeprefix(f"{path}: ")) from None
    _check_values(frame, name, path)
    return frame


def _merger_cells(summary: Any, path: Path) -> None:
    """Ranges of the merger-effect cells the summary type leaves open: populations, times,
    distances and E2SFCA indices are never negative."""
    access = getattr(summary, "access", None)
    block = getattr(access, "merger_effect_cells", None)
    for i, cell in enumerate(getattr(block, "rows", None) or []):
        for key, value in cell.to_json_dict().items():
            if isinstance(value, float | int) and not isinstance(value, bool) and value < 0:
                field = f"access.merger_effect_cells.rows[{i}].{key}"
                raise ScenarioError(str(path), field, f"expected a value >= 0, got {value!r}")


@dataclass
class RunFolder:
    """A checked run folder (see the module's docstring).

    Attributes:
        path: the folder.
        summary: ``summary.json`` as a :class:`~sim.results.summary_model.RunSummary`.
        provenance: ``provenance.json``.
        scenario: ``scenario.yaml`` as a mapping (as the run wrote it).
        tables: table name -> file, for the tables present.
    """

    path: Path
    summary: Any
    provenance: Provenance
    scenario: dict[str, Any]
    tables: dict[str, Path] = field(default_factory=dict)
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def table(self, name: str) -> pd.DataFrame:
        """One table, read once, its checked columns finite and in range.

        Raises:
            ScenarioError: the folder has no such table, or a value is out of range.
        """
        if name not in self._cache:
            path = self.tables.get(name)
            if path is None:
                raise ScenarioError(str(self.path / f"{name}.parquet"), "(file)", "expected this table")
            self._cache[name] = _read_table(path, name)
        return self._cache[name]

    def outline_file(self) -> Path | None:
        """The outline GeoJSON the run recorded, checked (None: no outline, or no longer there).

        Raises:
            ScenarioError: it is neither the file the run's ``scenario.yaml`` names as ``outline``
                (a file the scenario extends may name it relative to its own folder) nor inside
                the run folder or the scenario's folder, is not a
                ``.geojson``/``.json`` file, is larger than :data:`MAX_OUTLINE_BYTES`, or is no
                outline.
        """
        given = self.provenance.outline_file
        if not given:
            return None
        where = str(self.path / "provenance.json")
        path = Path(given)
        path = (path if path.is_absolute() else self.path / path).resolve()
        allowed = [self.path.resolve()]
        if self.provenance.scenario_file:
            allowed.append(Path(self.provenance.scenario_file).resolve().parent)
        named = self.scenario.get("outline")  # as the scenario (or a file it extends) gives it
        tail = tuple(p for p in Path(named).parts if p not in ("..", ".")) if isinstance(named, str) else ()
        by_name = bool(tail) and path.parts[-len(tail) :] == tail
        if not by_name and not any(path.is_relative_to(root) for root in allowed):
            raise ScenarioError(
                where,
                "outline_file",
                "expected the outline the run's scenario.yaml names, or a file inside the run folder or "
                f"the scenario's folder, got {given!r}",
            )
        if not path.exists():
            return None
        if path.suffix.lower() not in (".geojson", ".json") or not path.is_file():
            raise ScenarioError(where, "outline_file", f"expected a .geojson file, got {given!r}")
        if path.stat().st_size > MAX_OUTLINE_BYTES:
            raise ScenarioError(
                where, "outline_file", f"expected at most {MAX_OUTLINE_BYTES:,} bytes: {given!r}"
            )
        from sim.world.outline import read_outline

        read_outline(path)  # ScenarioError naming the outline file and feature
        return path


def load_run_folder(path: str | Path) -> RunFolder:
    """A run folder of ``townsim run``, checked (see the module's docstring).

    Raises:
        ScenarioError: naming the damaged file and field (exit code 2).
    """
    from sim.results.io import read_summary

    folder = Path(path)
    if not folder.is_dir():
        raise ScenarioError(str(folder), "(folder)", "expected a townsim run folder")
    summary_file = folder / "summary.json"
    _json(summary_file, dict)
    summary = read_summary(folder)  # SimError naming summary.json and the field
    _merger_cells(summary, summary_file)
    prov_file = folder / "provenance.json"
    provenance: Provenance = _validated(Provenance, _json(prov_file, dict), prov_file)
    for key in ("seed", "days"):
        mine = getattr(summary, key, None)
        if mine is not None and mine != getattr(provenance, key):
            raise ScenarioError(
                str(prov_file),
                key,
                f"expected the {key} of summary.json ({mine}), got {getattr(provenance, key)}",
            )
    scenario = _scenario_yaml(folder / "scenario.yaml")
    tables: dict[str, Path] = {}
    for name, required in REQUIRED_COLUMNS.items():
        file = _table_file(folder, name)
        if file is None:
            continue
        missing = [c for c in required if c not in _columns(file)]
        if missing:
            raise ScenarioError(str(file), missing[0], f"expected the columns {list(required)}")
        tables[name] = file
    run = RunFolder(folder, summary, provenance, scenario, tables)
    for name in _CHECKED_ON_LOAD:
        if name in tables:
            run.table(name)
    run.outline_file()
    return run


@dataclass
class ReplicationsFolder:
    """A checked replicated run folder.

    Attributes:
        path: the folder.
        meta: ``replications.json``.
        summaries: one RunSummary per seed, in seed order.
        scenario: ``scenario.yaml`` as a mapping.
        runs: the full run folders kept (``seed_<s>/``), checked.
    """

    path: Path
    meta: ReplicationsMeta
    summaries: list[Any]
    scenario: dict[str, Any]
    runs: list[RunFolder]

    @property
    def summary(self) -> Any:
        """The first seed's summary."""
        return self.summaries[0]

    def table(self, name: str) -> pd.DataFrame:
        """A table of the first kept run (see :meth:`RunFolder.table`)."""
        if not self.runs:
            raise ScenarioError(str(self.path), "seed_*", f"expected a kept run folder with the {name} table")
        return self.runs[0].table(name)


def load_replications_folder(path: str | Path) -> ReplicationsFolder:
    """A replicated run folder, checked (see the module's docstring).

    Raises:
        ScenarioError: naming the damaged file and field (exit code 2).
    """
    from sim.results.summary_model import load_summary

    folder = Path(path)
    meta_file = folder / "replications.json"
    meta: ReplicationsMeta = _validated(ReplicationsMeta, _json(meta_file, dict), meta_file)
    seeds = meta.seeds
    bad = next((s for s in seeds if not 0 <= s <= MAX_SEED), None)
    if bad is not None:
        raise ScenarioError(str(meta_file), "seeds", f"expected seeds from 0 to {MAX_SEED}, got {bad}")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ScenarioError(
            str(meta_file),
            "seeds",
            f"expected each seed once (replications are independent), {repeated} repeat",
        )
    if meta.n is not None and meta.n != len(seeds):
        raise ScenarioError(str(meta_file), "n", f"expected the number of seeds ({len(seeds)}), got {meta.n}")
    if any(not math.isfinite(t) or t < 0 for t in meta.wall_time_s):
        raise ScenarioError(str(meta_file), "wall_time_s", "expected finite times >= 0")
    sums_file = folder / "summaries.json"
    raw = _json(sums_file, list)
    if len(raw) != len(seeds):
        raise ScenarioError(
            str(sums_file), "(list)", f"expected one summary per seed ({len(seeds)}), got {len(raw)}"
        )
    summaries = []
    for i, (item, seed) in enumerate(zip(raw, seeds, strict=True)):
        if not isinstance(item, dict):
            raise ScenarioError(str(sums_file), f"[{i}]", "expected a run summary (a JSON object)")
        summary = load_summary(item, f"{sums_file} [{i}]")  # SimError naming the field
        if getattr(summary, "seed", seed) != seed:
            raise ScenarioError(
                str(sums_file), f"[{i}].seed", f"expected seed {seed} (replications.json), got {summary.seed}"
            )
        if getattr(summary, "days", meta.days) != meta.days:
            raise ScenarioError(
                str(sums_file),
                f"[{i}].days",
                f"expected {meta.days} days (replications.json), got {summary.days}",
            )
        _merger_cells(summary, sums_file)
        summaries.append(summary)
    for name in ("villages", "facilities", "cells", "facility_cells"):
        file = folder / f"{name}.parquet"
        if not file.is_file():
            if name in ("villages", "facilities"):
                raise ScenarioError(str(file), "(file)", "expected this table of a replicated run folder")
            continue
        frame = _read_table(file, name)
        if "seed" not in frame:
            raise ScenarioError(str(file), "seed", "expected a seed column")
        extra = sorted(set(frame["seed"].dropna().astype("int64")) - set(seeds))
        if extra:
            raise ScenarioError(str(file), "seed", f"expected seeds of replications.json, found {extra[:3]}")
    runs = [load_run_folder(p) for p in sorted(folder.glob("seed_*")) if p.is_dir()]
    return ReplicationsFolder(folder, meta, summaries, _scenario_yaml(folder / "scenario.yaml"), runs)


def load_any_folder(path: str | Path) -> RunFolder | ReplicationsFolder:
    """A run folder or a replicated run folder, checked.

    Raises:
        ScenarioError: neither, or damaged (naming the file and field).
    """
    folder = Path(path)
    if (folder / "replications.json").is_file():
        return load_replications_folder(folder)
    if (folder / "summary.json").is_file() or (folder / "provenance.json").is_file():
        return load_run_folder(folder)
    raise ScenarioError(
        str(folder),
        "(folder)",
        "not a townsim run folder (expected summary.json and provenance.json of `townsim run`, "
        "or replications.json of `townsim run --replications N`)",
    )
