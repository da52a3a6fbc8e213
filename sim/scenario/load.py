"""Read scenario YAML files: ``extends:`` chains, overlays, village CSVs, path overrides."""

from __future__ import annotations

import copy
import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario.checks import check_consistency
from sim.scenario.schema import Scenario

__all__ = ["LoadedScenario", "get_path", "load_raw", "load_scenario", "set_path"]

Raw = dict[str, Any]


class LoadedScenario:
    """A validated scenario plus where each part came from.

    Attributes:
        scenario: the typed, frozen scenario.
        path: the file asked for.
        base_dir: folder of that file (data files are resolved against the file that named them).
        raw: the merged raw mapping (what ``provenance/scenario.yaml`` records).
        origins: field path prefix -> file that set it.
    """

    def __init__(self, scenario: Scenario, path: Path, raw: Raw, origins: dict[str, str]) -> None:
        self.scenario = scenario
        self.path = path
        self.base_dir = path.parent
        self.raw = raw
        self.origins = origins

    def origin(self, field: str) -> str:
        """File that set ``field`` (longest matching prefix), or the top file."""
        return _origin(self.origins, self.path, field)

    def data_path(self, field: str, name: str) -> Path:
        """Resolve a data file named at ``field`` relative to the file that named it."""
        return Path(self.origin(field)).parent / name


def _origin(origins: Mapping[str, str], top: Path, field: str) -> str:
    parts = field.replace("[", ".").replace("]", "").split(".")
    for cut in range(len(parts), 0, -1):
        hit = origins.get(".".join(parts[:cut]))
        if hit:
            return hit
    return str(top)


def _read_yaml(path: Path) -> Raw:
    if not path.is_file():
        raise ScenarioError(str(path), "(file)", "expected an existing YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), "(file)", f"expected valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(str(path), "(top level)", "expected a mapping of fields")
    return data


def _merge(base: Raw, top: Mapping[str, Any], origins: dict[str, str], file: str, prefix: str = "") -> Raw:
    """Deep-merge ``top`` into ``base``: mappings merge, anything else replaces, null deletes."""
    out = dict(base)
    for key, value in top.items():
        path = f"{prefix}{key}"
        if value is None:
            out.pop(key, None)
            origins[path] = file
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value, origins, file, path + ".")
        else:
            out[key] = copy.deepcopy(value)
            for old in [p for p in origins if p.startswith(path + ".")]:
                del origins[old]
            origins[path] = file
    return out


def load_raw(path: str | Path, *, _chain: tuple[Path, ...] = ()) -> tuple[Raw, dict[str, str]]:
    """Read one scenario file and its ``extends:`` ancestors into one merged mapping.

    Returns:
        The merged mapping (without ``extends``) and the origin file per field path.
    """
    path = Path(path).resolve()
    if path in _chain:
        loop = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(str(path), "extends", f"expected no loop of extends, found {loop}")
    data = _read_yaml(path)
    parent = data.pop("extends", None)
    origins: dict[str, str] = {}
    if parent is None:
        base: Raw = {}
    elif isinstance(parent, str):
        base, origins = load_raw(path.parent / parent, _chain=(*_chain, path))
    else:
        raise ScenarioError(str(path), "extends", "expected a relative path to a scenario file")
    merged = _merge(base, data, origins, str(path))
    return merged, origins


def get_path(raw: Raw, field: str) -> Any:
    """Value at a dotted field path, e.g. ``services.clinic.rate_per_person_year.60+``."""
    node: Any = raw
    for part in field.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(field)
        node = node[part]
    return node


def set_path(raw: Raw, field: str, value: Any, *, file: str = "(override)") -> None:
    """Set a dotted field path in place, creating missing parent mappings.

    Unknown fields are caught by validation afterwards (the schema refuses extra fields).
    """
    parts = field.split(".")
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            where = ".".join(parts[: depth + 1])
            raise ScenarioError(file, field, f"expected a path into mappings, '{where}' is a value")
    node[parts[-1]] = value


def _read_villages_csv(file: Path, bands: Sequence[str]) -> list[Raw]:
    """Villages from a CSV with columns id, unit, x_km, y_km, pop_<band>..., source."""
    if not file.is_file():
        raise ScenarioError(str(file), "villages.file", "expected an existing CSV file")
    with file.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows: list[Raw] = []
        for line, row in enumerate(reader, start=2):
            try:
                population = {band: int(row.pop(f"pop_{band}")) for band in bands}
                rows.append(
                    {
                        "id": row.pop("id"),
                        "unit": row.pop("unit"),
                        "x_km": float(row.pop("x_km")),
                        "y_km": float(row.pop("y_km")),
                        "population": population,
                        **({"source": row.pop("source")} if "source" in row else {}),
                    }
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ScenarioError(
                    str(file),
                    f"line {line}",
                    f"expected id, unit, x_km, y_km and integer pop_<band> columns ({exc})",
                ) from None
            if row:
                raise ScenarioError(
                    str(file), f"line {line}", f"expected no other columns, found {sorted(row)}"
                )
    return rows


def _format_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_scenario(
    path: str | Path,
    *,
    overlays: Sequence[str | Path] = (),
    overrides: Mapping[str, Any] | None = None,
) -> LoadedScenario:
    """Load, merge and validate a scenario.

    Args:
        path: the scenario YAML file.
        overlays: further YAML files merged on top, in order (each may itself ``extends:``).
        overrides: dotted field path -> value, applied last (used by sweeps).

    Raises:
        ScenarioError: with the file, the field path and what was expected.
    """
    path = Path(path).resolve()
    raw, origins = load_raw(path)
    for overlay in overlays:
        top, top_origins = load_raw(overlay)
        origins.update(top_origins)
        raw = _merge(raw, top, origins, str(Path(overlay).resolve()))
    for field, value in (overrides or {}).items():
        set_path(raw, field, value)
        origins[field] = "(override)"
    villages = raw.get("villages")
    resolved = copy.deepcopy(raw)
    if isinstance(villages, Mapping) and set(villages) == {"file"}:
        bands = raw.get("age_bands") or []
        resolved["villages"] = _read_villages_csv(
            Path(_origin(origins, path, "villages")).parent / str(villages["file"]), bands
        )
    try:
        scenario = Scenario.model_validate(resolved)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _format_loc(err["loc"]) or "(top level)"
        got = err.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f", got {got!r}"
        message = "expected no such field (unknown field)" if err["type"] == "extra_forbidden" else err["msg"]
        raise ScenarioError(_origin(origins, path, field), field, f"{message}{got_text}") from None
    loaded = LoadedScenario(scenario, path, raw, origins)
    check_consistency(loaded)
    return loaded
