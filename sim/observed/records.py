"""Records a county keeps: four CSV formats, their schemas, and a strict reader for each.

The four kinds (:data:`KINDS`) are what a county's offices can export: queue-ticket logs of halls
and service points (叫号系统), daily visit counts of clinics (health-information system),
boardings per bus departure (IC-card system) and a survey of errands. :data:`SCHEMAS` describes
each column once; the reader (:func:`read_records`), ``townsim observe`` and ``docs/records.md``
use it. Ids are the scenario's: facility, line, village, age-band, service and mode ids.

A file is refused with :class:`~sim.errors.ScenarioError` (exit code 2) naming the file, the line
and column and what was expected: not UTF-8 (a byte-order mark is accepted), a header other than
the schema's columns (any order), a row with too few or too many fields, an empty or non-finite
number (NaN, inf), an unknown id, an impossible date or time, times out of order, a repeated key.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.scenario.load import MAX_FILE_BYTES
from sim.scenario.schema import Scenario

__all__ = [
    "KINDS",
    "MAX_COUNT",
    "MAX_MINUTES",
    "SCHEMAS",
    "Column",
    "RecordSchema",
    "id_sets",
    "read_records",
    "read_records_dir",
    "schema_markdown",
]

KINDS = ("hall_tickets", "clinic_visits", "boardings", "survey")
#: Largest count in a record (visits, boardings, trips).
MAX_COUNT = 1_000_000_000
#: Longest door-to-door time of one surveyed errand, minutes (30 days).
MAX_MINUTES = 43_200.0
#: Mode id of the bus (walk, bus, walk), present in every scenario with transit.
BUS_MODE = "bus"


@dataclass(frozen=True)
class Column:
    """One column of a record format.

    Attributes:
        name: header name.
        type: ``id`` (one of the scenario's ``ids``), ``datetime`` (ISO 8601 local date-time),
            ``datetime?`` (the same, or blank), ``date`` (YYYY-MM-DD), ``clock`` (HH:MM, 00:00 to
            23:59), ``count`` (whole number, ``minimum`` to :data:`MAX_COUNT`) or ``minutes`` (a finite
            number of minutes above 0, at most :data:`MAX_MINUTES`).
        ids: for ``id`` columns, which ids: facility, service, line, village, age_band or mode.
        meaning: what the value is, with its unit.
        example: a value as written in the file.
        minimum: for ``count`` columns, the smallest value allowed.
    """

    name: str
    type: str
    meaning: str
    example: str
    ids: str | None = None
    minimum: int = 0


@dataclass(frozen=True)
class RecordSchema:
    """A record format: one CSV file of one kind.

    Attributes:
        kind: one of :data:`KINDS` (also the file name: ``<kind>.csv``).
        title: what the records are.
        source: which office system exports them.
        row: what one row stands for.
        columns: the columns, in the order ``townsim observe`` writes them.
        key: columns that identify a row (a repeated key is refused); empty: rows may repeat.
        facility_kinds: for a ``facility`` column, the facility kinds it may name.
    """

    kind: str
    title: str
    source: str
    row: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    facility_kinds: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """Column names in file order."""
        return [c.name for c in self.columns]


SCHEMAS: dict[str, RecordSchema] = {
    "hall_tickets": RecordSchema(
        kind="hall_tickets",
        title="Queue tickets of halls, service points and clinics",
        source="the queue-ticket system's export (叫号系统), one file for all facilities",
        row="one ticket: a visitor who took a number. A ticket never called (the visitor left, or "
        "the office closed first) has blank call_time and end_time; a ticket called but not "
        "completed has a blank end_time.",
        columns=(
            Column(
                "facility",
                "id",
                "facility id of the scenario (hall, service point or clinic)",
                "hall_tancheng",
                "facility",
            ),
            Column("service", "id", "service (errand type) id of the scenario", "admin_simple", "service"),
            Column(
                "ticket_time",
                "datetime",
                "when the ticket was taken, local time (ISO 8601)",
                "2021-05-10T09:12:05",
            ),
            Column(
                "call_time",
                "datetime?",
                "when the ticket was called to a window, same day; blank if never called",
                "2021-05-10T09:40:31",
            ),
            Column(
                "end_time",
                "datetime?",
                "when service ended, same day; blank if not completed",
                "2021-05-10T09:52:10",
            ),
        ),
        facility_kinds=("hall", "service_point", "clinic"),
    ),
    "clinic_visits": RecordSchema(
        kind="clinic_visits",
        title="Daily visits of clinics and health centres",
        source="the health-information system's daily outpatient counts",
        row="one clinic on one day: the visits registered (patients seen) that day",
        columns=(
            Column(
                "facility", "id", "facility id of a clinic of the scenario", "clinic_tancheng", "facility"
            ),
            Column("date", "date", "local date (YYYY-MM-DD)", "2021-05-10"),
            Column("visits", "count", "visits registered that day, persons", "86"),
        ),
        key=("facility", "date"),
        facility_kinds=("clinic",),
    ),
    "boardings": RecordSchema(
        kind="boardings",
        title="Boardings per bus departure",
        source="IC-card (公交卡) boardings counted per vehicle run",
        row="one line, day and departure time: the boardings on the run(s) of the line leaving "
        "their first stop at that minute (both directions together when both leave at that minute)",
        columns=(
            Column("line", "id", "line id of the scenario's transit lines", "haitan_aoqian", "line"),
            Column("date", "date", "local date of the departure (YYYY-MM-DD)", "2021-05-10"),
            Column(
                "departure", "clock", "departure from the first stop, local time HH:MM (00:00-23:59)", "07:30"
            ),
            Column("boardings", "count", "passengers boarding that run, persons", "12"),
        ),
        key=("line", "date", "departure"),
    ),
    "survey": RecordSchema(
        kind="survey",
        title="Survey of errands",
        source="a household or exit survey: one row per errand a respondent reported",
        row="one surveyed errand (done): who made it, how, and what it cost in time",
        columns=(
            Column("village", "id", "home village id of the respondent", "tancheng_01", "village"),
            Column(
                "age_band", "id", "age band of the respondent (the scenario's age bands)", "60+", "age_band"
            ),
            Column("service", "id", "service (errand type) id", "clinic", "service"),
            Column("mode", "id", "main travel mode (the scenario's modes, or bus)", "ebike", "mode"),
            Column(
                "door_to_door_min",
                "minutes",
                "minutes from leaving home to being back, all trips of the errand together",
                "95.5",
            ),
            Column(
                "trips",
                "count",
                "trips the errand took (1 if done the first time), at least 1",
                "1",
                minimum=1,
            ),
        ),
    ),
}

_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLOCK = re.compile(r"(?P<h>[01]?[0-9]|2[0-3]):(?P<m>[0-5][0-9])")
_COUNT = re.compile(r"[0-9]{1,10}")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")
#: Dates a record may carry (years 1900 to 2199; pandas' nanosecond times end in 2262).
_FIRST_DAY, _LAST_DAY = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")
_EXPECTED = {
    "datetime": "an ISO 8601 local date-time YYYY-MM-DDTHH:MM[:SS] (or a space for T; years 1900-2199)",
    "datetime?": "an ISO 8601 local date-time YYYY-MM-DDTHH:MM[:SS] (years 1900-2199) or blank",
    "date": "a date YYYY-MM-DD (years 1900-2199)",
    "clock": "a time HH:MM from 00:00 to 23:59",
    "minutes": f"a finite number of minutes above 0, at most {MAX_MINUTES:g}",
}


def id_sets(scenario: Scenario, lines: Collection[str] | None = None) -> dict[str, list[str]]:
    """The ids a record may name, by id kind (facility, service, line, village, age_band, mode).

    Args:
        scenario: the scenario the records belong to.
        lines: line ids (default: the scenario's ``transit.lines``; give the timetable's line ids
            for a scenario whose lines come from a GTFS feed).
    """
    transit = scenario.transit
    modes = list(scenario.modes)
    if transit is not None and transit.runs and BUS_MODE not in modes:
        modes.append(BUS_MODE)
    return {
        "facility": list(scenario.facilities),
        "service": list(scenario.services),
        "line": list(lines) if lines is not None else list(transit.lines) if transit is not None else [],
        "village": [v.id for v in scenario.villages],
        "age_band": list(scenario.age_bands),
        "mode": modes,
    }


def schema_markdown(kind: str) -> str:
    """A Markdown table of one record format's columns (for docs and the README ``observe`` writes)."""
    schema = SCHEMAS[kind]
    rows = [
        "| column | type | meaning | example |",
        "|---|---|---|---|",
        *(f"| `{c.name}` | {c.type} | {c.meaning} | `{c.example}` |" for c in schema.columns),
    ]
    key = f"Rows are unique by ({', '.join(schema.key)})." if schema.key else "Rows may repeat."
    row = schema.row.rstrip(".")
    return "\n".join([f"`{kind}.csv`: {schema.title.lower()}; one row = {row}. {key}", "", *rows])


@dataclass(frozen=True)
class _Bad:
    """A problem found: row index (0-based, data rows), column name and what was expected."""

    row: int
    column: str
    expected: str


def _where(data: bytes, at: int) -> str:
    """``line N, column C`` of byte offset ``at``: C is the header's name of the field (counting
    commas before it on its line), or its number on the header line itself."""
    line_start = data.rfind(b"\n", 0, at) + 1
    line = data[:at].count(b"\n") + 1
    header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8", "replace").strip("\r")]), [])
    field = data[line_start:at].count(b",")
    column = header[field] if line > 1 and field < len(header) else f"{field + 1}"
    return f"line {line}, column {column}"


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 text of ``data`` without a byte-order mark; a bad byte or a NUL is named by line and column."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            str(path),
            _where(data, exc.start),
            f"expected UTF-8 text, byte 0x{data[exc.start]:02x} is not UTF-8; save the file as UTF-8 "
            "(e.g. iconv -f GBK -t UTF-8 for a GBK/GB18030 export)",
        ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ScenarioError(str(path), _where(data, nul), "expected text, found a NUL byte (a binary file?)")
    return text


def _rows(path: Path, text: str, schema: RecordSchema) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The cells of a records CSV by column (stripped strings) and each row's line number."""
    reader = csv.reader(io.StringIO(text, newline=""))
    limit = csv.field_size_limit(MAX_FILE_BYTES)  # a long cell is checked as a cell, naming its column
    try:
        header = next(reader, None)
        wanted = schema.names
        if header is None:
            raise ScenarioError(
                str(path), "line 1", f"expected a header row {','.join(wanted)}, got an empty file"
            )
        header = [h.strip() for h in header]
        repeated = sorted({h for h in header if header.count(h) > 1})
        missing = [c for c in wanted if c not in header]
        other = [h for h in header if h not in wanted]
        if repeated or missing or other:
            what = (
                f"column(s) {repeated} repeat"
                if repeated
                else f"missing {missing}"
                if missing
                else f"found other column(s) {other}"
            )
            raise ScenarioError(
                str(path),
                f"line 1, column {(repeated or missing or other)[0]}",
                f"expected the {schema.kind} columns {','.join(wanted)} (any order), {what}",
            )
        records: list[list[str]] = []
        lines: list[int] = []
        end = 1
        for record in reader:
            start, end = end + 1, reader.line_num
            if not record or record == [""]:  # a blank line
                continue
            if len(record) != len(header):
                column = (
                    header[len(record)]
                    if len(record) < len(header)
                    else f"{len(header) + 1} (beyond the header)"
                )
                raise ScenarioError(
                    str(path),
                    f"line {start}, column {column}",
                    f"expected {len(header)} fields ({','.join(header)}), got {len(record)}",
                )
            records.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise ScenarioError(str(path), f"line {reader.line_num}", f"expected valid CSV ({exc})") from None
    finally:
        csv.field_size_limit(limit)
    if not records:
        raise ScenarioError(
            str(path), "line 2", f"expected at least one {schema.kind} record after the header"
        )
    cells = np.array(records, dtype=object).reshape(len(records), len(header))
    columns = {name: pd.Series(cells[:, i]).str.strip().to_numpy(object) for i, name in enumerate(header)}
    return columns, np.asarray(lines)


def _first(bad: np.ndarray) -> int | None:
    hit = np.flatnonzero(bad)
    return int(hit[0]) if len(hit) else None


def _check(bad: np.ndarray, column: str, expected: str, errors: list[_Bad]) -> None:
    """Note the first row where ``bad`` holds (each column's first error; the earliest row wins)."""
    row = _first(bad)
    if row is not None:
        errors.append(_Bad(row, column, expected))


def _matches(values: np.ndarray, pattern: re.Pattern[str]) -> np.ndarray:
    return pd.Series(values, dtype=object).str.fullmatch(pattern).to_numpy(dtype=bool)


def _parse_column(
    col: Column, values: np.ndarray, ids: Mapping[str, list[str]], errors: list[_Bad]
) -> pd.Series | pd.Categorical | np.ndarray:
    """One column's typed values; a bad cell is noted in ``errors`` (its value is then undefined)."""

    def shown(row: int) -> str:
        return f", got {values[row]!r}"

    if col.type == "id":
        allowed = ids[col.ids or ""]
        index = pd.Index(allowed, dtype=object)
        codes = index.get_indexer(pd.Index(values, dtype=object))
        cat = pd.Categorical.from_codes(np.maximum(codes, 0) if len(allowed) else codes, categories=index)
        row = _first(codes < 0)
        if row is not None:
            listing = ", ".join(allowed[:8]) + (f" ... ({len(allowed)} in all)" if len(allowed) > 8 else "")
            known = f"one of: {listing}" if allowed else "none: the scenario has none"
            errors.append(
                _Bad(row, col.name, f"expected a {col.ids} id of the scenario ({known}){shown(row)}")
            )
        return cat
    if col.type in ("datetime", "datetime?", "date"):
        blank = values == ""
        ok = _matches(values, _DATE if col.type == "date" else _DATETIME)
        cells = pd.Series(values, dtype=object).where(ok)  # malformed cells parse as NaT
        parsed = pd.to_datetime(cells, format="ISO8601", errors="coerce")
        allowed_blank = blank if col.type == "datetime?" else np.zeros(len(values), bool)
        in_range = ((parsed >= _FIRST_DAY) & (parsed < _LAST_DAY)).to_numpy()
        row = _first(~allowed_blank & (~ok | ~in_range))
        if row is not None:
            errors.append(_Bad(row, col.name, f"expected {_EXPECTED[col.type]}{shown(row)}"))
        return parsed.where(in_range).astype("datetime64[ns]")
    if col.type == "clock":
        parts = pd.Series(values, dtype=object).str.extract(f"^{_CLOCK.pattern}$")
        ok = parts["h"].notna().to_numpy()
        row = _first(~ok)
        if row is not None:
            errors.append(_Bad(row, col.name, f"expected {_EXPECTED['clock']}{shown(row)}"))
        minutes = np.where(
            ok, pd.to_numeric(parts["h"].fillna(0)) * 60 + pd.to_numeric(parts["m"].fillna(0)), 0
        )
        return pd.Series(minutes.astype(np.int64) * np.timedelta64(60_000_000_000, "ns"))
    if col.type == "count":
        ok = _matches(values, _COUNT)
        numbers = np.where(ok, values, "0").astype(np.int64)
        row = _first(~ok | (numbers > MAX_COUNT) | (numbers < col.minimum))
        if row is not None:
            expected = f"a whole number from {col.minimum} to {MAX_COUNT:,}"
            errors.append(_Bad(row, col.name, f"expected {expected}{shown(row)}"))
        return numbers
    if col.type == "minutes":
        ok = _matches(values, _NUMBER)
        with np.errstate(over="ignore"):
            numbers = np.where(ok, values, "1").astype(np.float64)
        row = _first(~ok | ~np.isfinite(numbers) | (numbers <= 0) | (numbers > MAX_MINUTES))
        if row is not None:
            errors.append(_Bad(row, col.name, f"expected {_EXPECTED['minutes']}{shown(row)}"))
        return numbers
    raise ValueError(f"unknown column type {col.type!r}")


def _check_kinds(schema: RecordSchema, frame: pd.DataFrame, scenario: Scenario, errors: list[_Bad]) -> None:
    """A ``facility`` column names facilities of the kinds the format allows."""
    if not schema.facility_kinds or "facility" not in frame:
        return
    kinds = pd.Series({k: f.kind for k, f in scenario.facilities.items()}, dtype=object)
    fac = frame["facility"].astype(object)
    bad = ~fac.map(kinds).isin(schema.facility_kinds).to_numpy() & fac.notna().to_numpy()
    row = _first(bad)
    if row is not None:
        name = fac.iloc[row]
        errors.append(
            _Bad(
                row,
                "facility",
                f"expected a facility of kind {' or '.join(schema.facility_kinds)}, "
                f"got '{name}' (a {scenario.facilities[name].kind})",
            )
        )


def _check_tickets(frame: pd.DataFrame, errors: list[_Bad]) -> None:
    """Ticket, call and end times in order, the call on the ticket's day; an end needs a call."""
    ticket, call, end = frame["ticket_time"], frame["call_time"], frame["end_time"]
    _check(
        (end.notna() & call.isna()).to_numpy(), "end_time", "expected blank when call_time is blank", errors
    )
    _check((call < ticket).to_numpy(), "call_time", "expected a time no earlier than ticket_time", errors)
    _check((end < call).to_numpy(), "end_time", "expected a time no earlier than call_time", errors)
    other_day = (call.notna() & (call.dt.normalize() != ticket.dt.normalize())).to_numpy()
    _check(
        other_day,
        "call_time",
        "expected a time on the ticket's day (a ticket is called the day it is taken)",
        errors,
    )


def _check_key(
    schema: RecordSchema, frame: pd.DataFrame, columns: Mapping[str, np.ndarray], errors: list[_Bad]
) -> None:
    """No two rows with the same key (typed values compared: 7:30 is 07:30); the cells as written shown."""
    if not schema.key:
        return
    row = _first(frame.duplicated(subset=list(schema.key), keep="first").to_numpy())
    if row is not None:
        values = ", ".join(f"{k}={columns[k][row]}" for k in schema.key)
        errors.append(
            _Bad(row, schema.key[-1], f"expected one row per ({', '.join(schema.key)}), {values} repeats")
        )


def read_records(
    kind: str, path: Path, scenario: Scenario, *, lines: Collection[str] | None = None
) -> pd.DataFrame:
    """Read and check one records CSV of ``kind`` against ``scenario``'s ids.

    Columns come back typed, in the schema's order: ids as categoricals over the scenario's ids,
    ``ticket_time``/``call_time``/``end_time`` and ``date`` as ``datetime64[ns]`` (blank: NaT),
    ``departure`` as ``timedelta64[ns]`` after midnight, counts as int64, minutes as float64.
    Rows keep file order.

    Args:
        kind: one of :data:`KINDS`.
        path: the CSV file (UTF-8, a byte-order mark accepted; CRLF or LF line ends).
        scenario: the scenario whose ids the records use.
        lines: line ids for ``boardings`` (default: the scenario's ``transit.lines``).

    Raises:
        ScenarioError: naming the file, line and column and what was expected: the first
            malformed cell in file order, else the first inconsistent row (wrong facility kind,
            times out of order, a repeated key).
    """
    if kind not in SCHEMAS:
        raise ScenarioError(
            str(path), "(kind)", f"expected a record kind among {', '.join(KINDS)}, got {kind!r}"
        )
    schema = SCHEMAS[kind]
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                str(path), "(file)", f"expected at most {MAX_FILE_BYTES:,} bytes, got {size:,}"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(str(path), "(file)", f"expected an existing {kind} CSV file") from None
    except IsADirectoryError:
        raise ScenarioError(str(path), "(file)", f"expected a {kind} CSV file, got a folder") from None
    except OSError as exc:
        raise ScenarioError(str(path), "(file)", f"expected a readable file ({exc.strerror})") from None
    columns, line_of = _rows(path, _decode(path, data), schema)
    ids = id_sets(scenario, lines)
    errors: list[_Bad] = []
    frame = pd.DataFrame({c.name: _parse_column(c, columns[c.name], ids, errors) for c in schema.columns})
    if not errors:  # checks across columns need every cell well-formed
        _check_kinds(schema, frame, scenario, errors)
        if kind == "hall_tickets":
            _check_tickets(frame, errors)
        _check_key(schema, frame, columns, errors)
    if errors:
        first = min(errors, key=lambda e: (e.row, schema.names.index(e.column)))
        raise ScenarioError(str(path), f"line {line_of[first.row]}, column {first.column}", first.expected)
    return frame


def read_records_dir(
    folder: Path, scenario: Scenario, *, lines: Collection[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Every ``<kind>.csv`` in a records folder (at least one of the four), read by :func:`read_records`.

    Raises:
        ScenarioError: the folder holds none of the four files, or a file is malformed.
    """
    found = {kind: folder / f"{kind}.csv" for kind in KINDS if (folder / f"{kind}.csv").is_file()}
    if not found:
        raise ScenarioError(
            str(folder), "(folder)", f"expected at least one of {', '.join(f'{k}.csv' for k in KINDS)}"
        )
    return {kind: read_records(kind, path, scenario, lines=lines) for kind, path in found.items()}
