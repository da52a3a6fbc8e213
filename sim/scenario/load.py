"""Read scenario YAML files: ``extends:`` chains, overlays, village CSVs, path overrides."""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario.checks import check_consistency
from sim.scenario.schema import Scenario

__all__ = [
    "LoadedScenario",
    "extends_chain",
    "get_path",
    "load_raw",
    "load_scenario",
    "parse_yaml",
    "read_text",
    "scenario_digest",
    "set_path",
]

Raw = dict[str, Any]

#: Largest scenario or data file read, bytes (a bound, not a limit anyone should meet).
MAX_FILE_BYTES = 200_000_000
#: Longest ``extends:`` chain.
MAX_EXTENDS = 32
#: Most villages in a village CSV.
MAX_VILLAGES = 1_000_000
#: Largest absolute number in a village CSV cell.
MAX_CSV_VALUE = 1e9


class LoadedScenario:
    """A validated scenario plus where each part came from.

    Attributes:
        scenario: the typed, frozen scenario.
        path: the file asked for.
        base_dir: folder of that file (data files are resolved against the file that named them).
        raw: the merged raw mapping (what ``provenance/scenario.yaml`` records).
        origins: field path prefix -> file that set it.
        overlays: the overlay files applied, in order.
        files: every YAML and data file read -> SHA-256 of its bytes.
        run_name: the name of a run of it: ``--name``, or the scenario's name followed by
            ``+<overlay file stem>`` per overlay applied after the file that set the name.
    """

    def __init__(
        self,
        scenario: Scenario,
        path: Path,
        raw: Raw,
        origins: dict[str, str],
        *,
        overlays: Sequence[Path] = (),
        files: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        self.scenario = scenario
        self.path = path
        self.base_dir = path.parent
        self.raw = raw
        self.origins = origins
        self.overlays = tuple(overlays)
        self.files = dict(files or {})
        names = [str(o) for o in self.overlays]
        named_by = origins.get("name")
        after = self.overlays[names.index(named_by) + 1 :] if named_by in names else self.overlays
        self.run_name = name or scenario.name + "".join(f"+{o.stem}" for o in after)

    def origin(self, field: str) -> str:
        """File that set ``field`` (longest matching prefix), or the top file."""
        return _origin(self.origins, self.path, field)

    def data_path(self, field: str, name: str) -> Path:
        """Resolve a data file named at ``field`` relative to the file that named it."""
        return Path(self.origin(field)).parent / name

    def overlay_records(self) -> list[dict[str, str]]:
        """Each overlay file with the SHA-256 of its bytes (for provenance)."""
        return [{"file": str(o), "sha256": self.files.get(str(o), "")} for o in self.overlays]


def _origin(origins: Mapping[str, str], top: Path, field: str) -> str:
    """File that last set ``field``, anything below it, or the nearest mapping holding it.

    ``origins`` keeps insertion order = order of setting, so the newest candidate wins: an
    overlay that changed ``hours.open`` is named for an error about ``hours`` as a whole.
    """
    parts = field.replace("[", ".").replace("]", "").split(".")
    key = ".".join(parts)
    holder = next(
        (".".join(parts[:cut]) for cut in range(len(parts), 0, -1) if ".".join(parts[:cut]) in origins), None
    )
    candidates = [p for p in origins if p.startswith(key + ".")] + ([holder] if holder else [])
    if not candidates:
        return str(top)
    order = {p: i for i, p in enumerate(origins)}
    return origins[max(candidates, key=order.__getitem__)]


def read_text(path: Path, field: str = "(file)") -> str:
    """A UTF-8 text file (a byte-order mark is accepted), as the project's error otherwise.

    Raises:
        ScenarioError: missing, unreadable, or not UTF-8 (naming the byte and the encoding expected).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(str(path), field, "expected an existing file") from None
    except OSError as exc:
        raise ScenarioError(str(path), field, f"expected a readable file ({exc.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(str(path), field, f"expected at most {MAX_FILE_BYTES:,} bytes, got {len(data):,}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            str(path),
            field,
            f"expected UTF-8 text, byte {exc.start} (0x{data[exc.start]:02x}) is not UTF-8; "
            "save the file as UTF-8 (e.g. iconv -f GBK -t UTF-8 for GBK/GB18030)",
        ) from None


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(key, line)
        self.key, self.line = key, line


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML loading that refuses duplicate keys and aliases (no silent wins, no alias bombs)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (list, dict)):
                raise yaml.constructor.ConstructorError(
                    None, None, "expected a plain key", key_node.start_mark
                )
            if key in seen:
                raise _DuplicateKey(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "expected no aliases (*name): write the values out", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date or time, refused with its line when it does not exist (2024-02-30)."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a date that exists ({exc})", node.start_mark
            ) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def parse_yaml(path: Path) -> Any:
    """Parse one YAML file strictly (UTF-8, no duplicate keys, no aliases), as the project's error."""
    text = read_text(path)
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except _DuplicateKey as exc:
        raise ScenarioError(
            str(path),
            str(exc.key),
            f"expected each key once in a mapping, '{exc.key}' repeats on line {exc.line}",
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(
            str(path), "(file)", f"expected valid YAML: {' '.join(str(exc).split())}"
        ) from None
    except RecursionError:
        raise ScenarioError(str(path), "(file)", "expected YAML nested less deeply") from None


def _read_yaml(path: Path) -> Raw:
    data = parse_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(str(path), "(top level)", "expected a mapping of fields")
    return data


def _merge(base: Raw, top: Mapping[str, Any], origins: dict[str, str], file: str, prefix: str = "") -> Raw:
    """Apply the diff ``top`` to ``base``: mappings merge, anything else replaces, null deletes."""
    out = dict(base)
    for key, value in top.items():
        path = f"{prefix}{key}"
        if value is None:
            out.pop(key, None)
            _forget(origins, path)
            origins.pop(path, None)
            origins[path] = file
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value, origins, file, path + ".")
        else:
            out[key] = _strip_nulls(value)
            _forget(origins, path)
            origins.pop(path, None)  # re-inserted last: the newest setting
            origins[path] = file
    return out


def _forget(origins: dict[str, str], path: str) -> None:
    for old in [p for p in origins if p.startswith(path + ".")]:
        del origins[old]


def _strip_nulls(value: Any) -> Any:
    """A deep copy of a new value with null mapping entries dropped (nothing to delete below it)."""
    if isinstance(value, Mapping):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return copy.deepcopy(value)


def extends_chain(path: str | Path, *, _seen: tuple[Path, ...] = ()) -> list[tuple[Path, Raw]]:
    """A file and its ``extends:`` ancestors, root first, each with its own content (a diff)."""
    path = Path(path).resolve()
    if path in _seen:
        loop = " -> ".join(p.name for p in (*_seen, path))
        raise ScenarioError(str(path), "extends", f"expected no loop of extends, found {loop}")
    if len(_seen) >= MAX_EXTENDS:
        raise ScenarioError(str(path), "extends", f"expected a chain of at most {MAX_EXTENDS} files")
    data = _read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return [(path, data)]
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", "expected a relative path to a scenario file")
    if not (path.parent / parent).is_file():
        raise ScenarioError(str(path), "extends", f"expected an existing scenario file, '{parent}' not found")
    return [*extends_chain(path.parent / parent, _seen=(*_seen, path)), (path, data)]


def load_raw(path: str | Path, *, overlays: Sequence[str | Path] = ()) -> tuple[Raw, dict[str, str]]:
    """Resolve a scenario file and its overlays into one merged mapping.

    Every file of the scenario's ``extends:`` chain is applied root first as a diff on an empty
    mapping, then each overlay's chain, skipping files already applied: so ``--overlay O`` where
    ``O`` extends the scenario gives exactly what running ``O`` does.

    Returns:
        The merged mapping (without ``extends``) and the origin file per field path.
    """
    raw, origins, _ = _resolve(path, overlays)
    return raw, origins


def _resolve(
    path: str | Path, overlays: Sequence[str | Path], titles: list[Any] | None = None
) -> tuple[Raw, dict[str, str], list[Path]]:
    """Merge the scenario and overlay chains; ``titles`` (if given) receives each top file's own
    ``title`` (None where its chain sets none), in order."""
    raw: Raw = {}
    origins: dict[str, str] = {}
    applied: list[Path] = []
    for top in (path, *overlays):
        own = None
        for file, diff in extends_chain(top):
            if file not in applied:
                applied.append(file)
                own = diff.get("title", own) if isinstance(diff, Mapping) else own
                raw = _merge(raw, diff, origins, str(file))
        if titles is not None:
            titles.append(own)
    return raw, origins, applied


def _run_title(raw: Raw, titles: list[Any], path: Path, overlays: Sequence[Path], after: int) -> Any:
    """The title of a run with overlays: the scenario's title, then `` + `` and each overlay's own
    title (its file stem where it has none) for the overlays from index ``after`` on; the merged
    title unchanged when no title is involved or no overlay follows."""
    for file, title in zip([path, *overlays], titles, strict=True):
        ok = isinstance(title, Mapping) and all(
            isinstance(title.get(k), str) and title[k] for k in ("zh", "en")
        )
        if title is not None and (not ok or set(title) != {"zh", "en"}):
            raise ScenarioError(str(file), "title", f"expected {{zh: <name>, en: <name>}}, got {title!r}")
    base = next((t for t in reversed(titles[: after + 1]) if t is not None), None)
    tail = list(zip(overlays[after:], titles[after + 1 :], strict=True))
    if not tail or (base is None and all(t is None for _, t in tail)):
        return raw.get("title")
    name = str(raw.get("name", ""))
    parts = [base if isinstance(base, Mapping) else {"zh": name, "en": name}]
    parts += [t if isinstance(t, Mapping) else {"zh": o.stem, "en": o.stem} for o, t in tail]
    return {lang: " + ".join(str(p.get(lang, "")) for p in parts) for lang in ("zh", "en")}


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


def _finite(
    text: str | None, column: str, convert: type[float] | type[int], *, low: float = -MAX_CSV_VALUE
) -> float | int:
    """One CSV cell as a finite number in [low, MAX_CSV_VALUE] (``_BadCell`` naming the column otherwise)."""
    try:
        value = convert(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        kind = "a whole number" if convert is int else "a number"
        raise _BadCell(column, f"expected {kind}, got {text!r}") from None
    if not math.isfinite(value) or not low <= value <= MAX_CSV_VALUE:
        raise _BadCell(column, f"expected a finite number from {low:g} to {MAX_CSV_VALUE:g}, got {text!r}")
    return value


class _BadCell(ValueError):
    def __init__(self, column: str, expected: str) -> None:
        super().__init__(expected)
        self.column = column


#: Optional text columns of a villages CSV (kept on each village).
_VILLAGE_TEXT = ("source", "name", "zh", "en")


def _read_villages_csv(file: Path, bands: Sequence[str]) -> list[Raw]:
    """Villages from a CSV with columns id, unit, x_km, y_km, pop_<band>... and optional source,
    name, zh, en."""
    text = read_text(file, "villages.file")
    wanted = ["id", "unit", "x_km", "y_km", *(f"pop_{band}" for band in bands)]
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None:
            raise ScenarioError(str(file), "line 1", f"expected a header row with columns {wanted}")
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise ScenarioError(str(file), "line 1", f"expected each column once, {repeated} repeat")
        missing = [c for c in wanted if c not in header]
        other = [c for c in header if c not in wanted and c not in _VILLAGE_TEXT]
        if missing or other:
            found = f"missing {missing}" if missing else f"found other columns {other}"
            raise ScenarioError(
                str(file),
                "line 1",
                f"expected columns {wanted} (and optional {list(_VILLAGE_TEXT)}), {found}",
            )
        rows: list[Raw] = []
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            if len(record) != len(header):
                raise ScenarioError(
                    str(file), f"line {line}", f"expected {len(header)} fields, got {len(record)}"
                )
            if len(rows) >= MAX_VILLAGES:
                raise ScenarioError(str(file), f"line {line}", f"expected at most {MAX_VILLAGES:,} villages")
            row = dict(zip(header, record, strict=True))
            try:
                population = {band: _finite(row[f"pop_{band}"], f"pop_{band}", int, low=0) for band in bands}
                rows.append(
                    {
                        "id": row["id"],
                        "unit": row["unit"],
                        "x_km": _finite(row["x_km"], "x_km", float),
                        "y_km": _finite(row["y_km"], "y_km", float),
                        "population": population,
                        **{c: row[c] for c in _VILLAGE_TEXT if c in row},
                    }
                )
            except _BadCell as exc:
                raise ScenarioError(str(file), f"line {line}, column {exc.column}", str(exc)) from None
    except csv.Error as exc:
        raise ScenarioError(str(file), f"line {reader.line_num}", f"expected valid CSV ({exc})") from None
    return rows


def _format_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def scenario_digest(loaded: LoadedScenario) -> str:
    """Hash of a scenario's merged content and the data files it names (villages, roads)."""
    digest = hashlib.sha256(json.dumps(loaded.raw, sort_keys=True, default=str).encode())
    for field in ("villages", "roads"):
        node = loaded.raw.get(field)
        if isinstance(node, Mapping) and isinstance(node.get("file"), str):
            digest.update(loaded.data_path(field, node["file"]).read_bytes())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def load_scenario(
    path: str | Path,
    *,
    overlays: Sequence[str | Path] = (),
    overrides: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> LoadedScenario:
    """Load, merge and validate a scenario.

    Args:
        path: the scenario YAML file.
        overlays: further YAML files merged on top, in order (each may itself ``extends:``).
        overrides: dotted field path -> value, applied last (used by sweeps).
        name: the run name (default: the scenario's name plus ``+<stem>`` per overlay).

    Raises:
        ScenarioError: with the file, the field path and what was expected.
    """
    path = Path(path).resolve()
    overlay_paths = [Path(o).resolve() for o in overlays]
    titles: list[Any] = []
    raw, origins, applied = _resolve(path, overlay_paths, titles)
    if overlay_paths and any(t is not None for t in titles):  # checked here: the merge keeps only the last
        named_by = origins.get("name")
        after = (
            next((i + 1 for i, o in enumerate(overlay_paths) if str(o) == named_by), 0) if name is None else 0
        )
        raw["title"] = _run_title(raw, titles, path, overlay_paths, after)
    files = [*applied]
    for field, value in (overrides or {}).items():
        set_path(raw, field, value)
        origins.pop(field, None)
        origins[field] = "(override)"
    villages = raw.get("villages")
    resolved = copy.deepcopy(raw)
    if isinstance(villages, Mapping) and set(villages) == {"file"}:
        bands = raw.get("age_bands") or []
        if not isinstance(bands, list) or not all(isinstance(b, str) for b in bands):
            raise ScenarioError(_origin(origins, path, "age_bands"), "age_bands", "expected a list of labels")
        village_file = Path(_origin(origins, path, "villages")).parent / str(villages["file"])
        resolved["villages"] = _read_villages_csv(village_file, bands)
        files.append(village_file)
    if isinstance(raw.get("outline"), str):  # map background: resolved like the village file
        outline_file = Path(_origin(origins, path, "outline")).parent / str(raw["outline"])
        if not outline_file.is_file():
            where = _origin(origins, path, "outline")
            raise ScenarioError(where, "outline", "expected an existing GeoJSON file")
        resolved["outline"] = str(outline_file.resolve())
        files.append(outline_file)
    try:
        scenario = Scenario.model_validate(resolved)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _format_loc(err["loc"]) or "(top level)"
        got = err.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f", got {got!r}"
        message = "expected no such field (unknown field)" if err["type"] == "extra_forbidden" else err["msg"]
        raise ScenarioError(_origin(origins, path, field), field, f"{message}{got_text}") from None
    loaded = LoadedScenario(
        scenario,
        path,
        raw,
        origins,
        overlays=overlay_paths,
        files={str(f): _sha256(f) for f in files},
        name=name,
    )
    check_consistency(loaded)
    return loaded
