"""A run's outputs as the records a county keeps (synthetic records): ``townsim observe``.

Simulated day 0 is ``start_date``; day d is ``start_date + d``. What each record kind holds:

* ``hall_tickets``: every trip to a hall or service point is a ticket taken at its arrival; the
  visitor is called when service starts and leaves when it ends. A visitor turned away at closing
  (or who left the queue) holds a ticket never called; one who balked took no ticket.
* ``clinic_visits``: per clinic and day it was open, the visitors served (referred ones too),
  each counting ``1 / sample_fraction`` (the resident's weight), rounded.
* ``boardings``: per line, day and departure minute, the boardings of the line's runs leaving
  their first stop then, rounded (a run after midnight falls on the next date).
* ``survey``: every errand arisen on a measured day and completed by trips, or a share of them
  chosen by errand id: door-to-door minutes of all its trips (leaving home to back home) and the
  mode of its first trip.

With a sample fraction below 1 the ticket log and the survey hold the sampled residents only (a
sample of tickets and errands); clinic visits and boardings are scaled to the whole population.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ScenarioError, SimError
from sim.observed.records import KINDS, SCHEMAS, id_sets, schema_markdown
from sim.ownership import write_dir_owned
from sim.scenario.schema import WEEKDAYS, Scenario

__all__ = [
    "RECORDS_KIND",
    "check_start_date",
    "observe_run",
    "observe_tables",
    "records_csv",
    "write_records",
]

#: Output kind of a records folder (ownership marker).
RECORDS_KIND = "records"
#: Outcomes of trips whose visitor was served (called to a window).
_SERVED = ("completed", "referred")
#: Outcome of a visitor who did not join the queue (no ticket).
_NO_TICKET = "balked"
_TICKET_KINDS = ("hall", "service_point")
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def check_start_date(scenario: Scenario, start_date: dt.date, where: str = "start_date") -> None:
    """``start_date`` must fall on the scenario's ``simulation.start_weekday`` (day 0's weekday).

    Raises:
        ScenarioError: naming ``where`` (a file or option) otherwise.
    """
    weekday = scenario.simulation.start_weekday
    if WEEKDAYS[start_date.weekday()] != weekday:
        raise ScenarioError(
            where,
            "start_date",
            f"expected a date on a {weekday} (the scenario's simulation.start_weekday, weekday of "
            f"simulated day 0), got {start_date.isoformat()}, a {WEEKDAYS[start_date.weekday()]}",
        )


def _recode(values: pd.Series, ids: list[str], table: str) -> pd.Categorical:
    """A categorical column of a run table re-coded onto the scenario's ``ids`` (no per-row work)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):  # a CSV run folder: plain text
        values = values.astype(str).astype("category")
    cats = values.cat.categories
    lookup = pd.Index(ids, dtype=object).get_indexer(cats.astype(object))
    codes = values.cat.codes.to_numpy()
    new = np.where(codes >= 0, lookup[np.maximum(codes, 0)] if len(lookup) else -1, -1)
    if np.any((new < 0) & (codes >= 0)):
        unknown = sorted(set(cats[lookup < 0].astype(str)))
        raise SimError(
            f"table {table}: ids {unknown[:5]} are not in the scenario; expected the run's own scenario"
        )
    return pd.Categorical.from_codes(new, categories=pd.Index(ids, dtype=object))


def _in(values: pd.Series, labels: Collection[str]) -> np.ndarray:
    """Whether each value is one of ``labels``: on a categorical's codes (no string per row)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):  # a CSV run folder: plain text
        return values.astype(str).isin(list(labels)).to_numpy()
    hit = np.append(values.cat.categories.astype(str).isin(list(labels)), False)  # code -1: False
    return hit[values.cat.codes.to_numpy()]


def _day_start(start_date: dt.date, day: np.ndarray) -> np.ndarray:
    """Midnight of simulated ``day`` as datetime64[ns]."""
    return np.datetime64(start_date, "ns") + day.astype(np.int64) * np.timedelta64(1, "D")


def _seconds(minutes: np.ndarray) -> np.ndarray:
    """Minutes as whole seconds (timedelta64[ns])."""
    return np.round(minutes * 60.0).astype(np.int64) * np.timedelta64(1_000_000_000, "ns")


def _hall_tickets(
    trips: pd.DataFrame, fac_kind: Mapping[str, str], ids: dict[str, list[str]], start_date: dt.date
) -> pd.DataFrame:
    halls = [f for f, kind in fac_kind.items() if kind in _TICKET_KINDS]
    t = trips[_in(trips["facility"], halls) & ~_in(trips["outcome"], [_NO_TICKET])]
    served = _in(t["outcome"], _SERVED)
    midnight = _day_start(start_date, t["day"].to_numpy())
    arrival = t["arrival_min"].to_numpy()
    call = arrival + t["wait_min"].to_numpy()
    end = call + t["service_min"].to_numpy()
    nat = np.datetime64("NaT", "ns")
    order = np.lexsort((arrival, t["day"].to_numpy()))  # the log in time order
    frame = pd.DataFrame(
        {
            "facility": _recode(t["facility"], ids["facility"], "trips"),
            "service": _recode(t["purpose"], ids["service"], "trips"),
            "ticket_time": midnight + _seconds(arrival),
            "call_time": np.where(served, midnight + _seconds(call), nat),
            "end_time": np.where(served, midnight + _seconds(end), nat),
        }
    )
    return frame.iloc[order].reset_index(drop=True)


def _served_weight(trips: pd.DataFrame, residents: pd.DataFrame) -> np.ndarray:
    """Each trip's weight (1 / sample fraction of its resident) if served, else 0."""
    weight = residents["weight"].to_numpy()[trips["resident"].to_numpy()]
    return np.where(_in(trips["outcome"], _SERVED), weight, 0.0)


def _clinic_visits(
    trips: pd.DataFrame,
    facility_days: pd.DataFrame,
    residents: pd.DataFrame,
    ids: dict[str, list[str]],
    start_date: dt.date,
) -> pd.DataFrame:
    rows = facility_days[_in(facility_days["kind"], ["clinic"])]
    n_fac = len(ids["facility"])
    fac_code = np.asarray(_recode(trips["facility"], ids["facility"], "trips").codes, dtype=np.int64)
    days = int(
        max(
            facility_days["day"].max() + 1 if len(facility_days) else 0,
            trips["day"].max() + 1 if len(trips) else 0,
        )
    )
    visits = np.bincount(
        trips["day"].to_numpy().astype(np.int64) * n_fac + fac_code,
        weights=_served_weight(trips, residents),
        minlength=days * n_fac,
    )
    facility = _recode(rows["facility"], ids["facility"], "facility_days")
    day = rows["day"].to_numpy()
    at = day.astype(np.int64) * n_fac + np.asarray(facility.codes, dtype=np.int64)
    frame = pd.DataFrame(
        {
            "facility": facility,
            "date": _day_start(start_date, day),
            "visits": np.round(visits[at]).astype(np.int64),
        }
    )
    return frame.sort_values(["date", "facility"], kind="stable").reset_index(drop=True)


def _boardings(line_loads: pd.DataFrame, ids: dict[str, list[str]], start_date: dt.date) -> pd.DataFrame:
    minute = np.floor(line_loads["departure_min"].to_numpy() + 1e-9).astype(np.int64)
    day = line_loads["day"].to_numpy().astype(np.int64) + minute // 1440
    grouped = (
        pd.DataFrame(
            {
                "line": _recode(line_loads["line"], ids["line"], "line_loads"),
                "day": day,
                "minute": minute % 1440,
                "boardings": line_loads["boardings"].to_numpy(),
            }
        )
        .groupby(["day", "line", "minute"], observed=True, sort=True)["boardings"]
        .sum()
        .reset_index()
    )
    return pd.DataFrame(
        {
            "line": grouped["line"],
            "date": _day_start(start_date, grouped["day"].to_numpy()),
            "departure": grouped["minute"].to_numpy() * np.timedelta64(60_000_000_000, "ns"),
            "boardings": np.round(grouped["boardings"].to_numpy()).astype(np.int64),
        }
    )


def _survey(
    trips: pd.DataFrame,
    errands: pd.DataFrame,
    residents: pd.DataFrame,
    ids: dict[str, list[str]],
    share: float,
) -> pd.DataFrame:
    done = errands[_in(errands["status"], ["completed"]) & (errands["arise_day"].to_numpy() >= 0)]
    if share < 1.0:
        from sim.model.streams import Streams

        chosen = Streams(0).uniform("observe.survey", done["errand"].to_numpy()) < share
        done = done[chosen]
    errand = trips["errand"].to_numpy()
    minutes = (
        trips["arrival_min"].to_numpy()
        - trips["departure_min"].to_numpy()
        + trips["wait_min"].to_numpy()
        + trips["service_min"].to_numpy()
        + trips["return_min"].to_numpy()
    )
    order = np.lexsort((trips["day"].to_numpy(), errand))  # an errand's trips together, first first
    e_sorted = errand[order]
    first = np.flatnonzero(np.r_[True, e_sorted[1:] != e_sorted[:-1]]) if len(order) else order
    trip_errands = e_sorted[first]
    total = np.add.reduceat(minutes[order], first) if len(order) else minutes
    count = np.diff(np.r_[first, len(order)])
    mode = _recode(trips["mode"], ids["mode"], "trips").codes[order[first]]
    wanted = done["errand"].to_numpy()
    at = np.searchsorted(trip_errands, wanted)
    has_trips = at < len(trip_errands)  # errands done online, by proxy or at a mobile stop have none
    has_trips[has_trips] = trip_errands[at[has_trips]] == wanted[has_trips]
    done, at = done[has_trips], at[has_trips]
    who = done["resident"].to_numpy()
    return pd.DataFrame(
        {
            "village": _recode(residents["village"], ids["village"], "residents")[who],
            "age_band": _recode(residents["age_band"], ids["age_band"], "residents")[who],
            "service": _recode(done["service"], ids["service"], "errands"),
            "mode": pd.Categorical.from_codes(mode[at], categories=pd.Index(ids["mode"], dtype=object)),
            "door_to_door_min": np.maximum(np.round(total[at], 1), 0.1),
            "trips": count[at].astype(np.int64),
        }
    ).reset_index(drop=True)


def observe_tables(
    tables: Mapping[str, pd.DataFrame],
    scenario: Scenario,
    start_date: dt.date,
    *,
    survey_share: float = 1.0,
) -> dict[str, pd.DataFrame]:
    """The four record kinds made from a run's tables (in memory; vectorised, no per-row Python).

    The frames have the columns and dtypes :func:`sim.observed.records.read_records` returns
    (ids as categoricals over the scenario's ids), so simulated and observed records compare
    directly. Times are rounded to whole seconds, door-to-door minutes to 0.1 min.

    Args:
        tables: the run's ``trips``, ``errands``, ``facility_days``, ``residents``, ``places``
            and ``line_loads`` (as in a run folder or :class:`~sim.results.result.RunResult`).
        scenario: the scenario the run was made from.
        start_date: the date of simulated day 0 (on the scenario's start weekday).
        survey_share: share of errands surveyed, chosen by errand id (the same errands in every
            run and scenario), 0 < share <= 1.

    Returns:
        kind -> records frame, every kind of :data:`~sim.observed.records.KINDS` (possibly empty).

    Raises:
        ScenarioError: ``start_date`` is not on the scenario's start weekday.
    """
    check_start_date(scenario, start_date)
    if not 0.0 < survey_share <= 1.0:
        raise ValueError(f"survey_share must be in (0, 1], got {survey_share}")
    loads = tables["line_loads"]
    lines = list(id_sets(scenario)["line"])
    lines += [x for x in pd.unique(loads["line"].astype(str)) if x not in lines]
    ids = id_sets(scenario, lines)
    places = tables["places"]
    fac_kind = dict(zip(places["id"].astype(str), places["kind"].astype(str), strict=True))
    trips = tables["trips"]
    return {
        "hall_tickets": _hall_tickets(trips, fac_kind, ids, start_date),
        "clinic_visits": _clinic_visits(trips, tables["facility_days"], tables["residents"], ids, start_date),
        "boardings": _boardings(loads, ids, start_date),
        "survey": _survey(trips, tables["errands"], tables["residents"], ids, survey_share),
    }


def records_csv(kind: str, frame: pd.DataFrame) -> str:
    """CSV text of one records frame in its schema's format (UTF-8, LF line ends, no index)."""
    out = pd.DataFrame(index=frame.index)
    for col in SCHEMAS[kind].columns:
        values = frame[col.name]
        if col.type in ("datetime", "datetime?"):
            out[col.name] = values.dt.strftime(_DATETIME_FORMAT)
        elif col.type == "date":
            out[col.name] = values.dt.strftime("%Y-%m-%d")
        elif col.type == "clock":
            minutes = (values.dt.total_seconds() // 60).astype(np.int64)
            out[col.name] = (
                (minutes // 60).astype(str).str.zfill(2) + ":" + (minutes % 60).astype(str).str.zfill(2)
            )
        else:
            out[col.name] = values
    return out.to_csv(index=False, lineterminator="\n")


def write_records(records: Mapping[str, pd.DataFrame], out_dir: Path, *, note: str | None = None) -> Path:
    """Write records as ``<kind>.csv`` files into the folder ``out_dir`` (kinds with rows only).

    The folder is written by the ownership rule (:func:`sim.ownership.write_dir_owned`): staged,
    swapped into place, and only ever replacing a records folder townsim wrote and nobody changed.
    A ``README.md`` holds ``note`` (what the records are) and the schema of each file written.

    Raises:
        SimError: ``out_dir`` holds something townsim may not replace.
    """
    written = [k for k in KINDS if k in records and len(records[k])]

    def fill(tmp: Path) -> None:
        for kind in written:
            (tmp / f"{kind}.csv").write_text(records_csv(kind, records[kind]), encoding="utf-8")
        parts = ["# Records", "", note or "", "", "## Files", ""]
        parts += [f"- `{kind}.csv`: {len(records[kind]):,} rows" for kind in written]
        parts += ["", "## Schemas", ""]
        for kind in written:
            parts += [schema_markdown(kind), ""]
        (tmp / "README.md").write_text("\n".join(parts).replace("\n\n\n", "\n\n"), encoding="utf-8")

    return write_dir_owned(out_dir, RECORDS_KIND, fill, kinds=written)


def _run_scenario(run_dir: Path, provenance: Mapping[str, object]) -> Scenario:
    """The scenario a run was made from: its file (and overlays) loaded again, unchanged since.

    Raises:
        SimError: the file is gone or was changed after the run.
    """
    from sim.scenario.load import load_scenario, scenario_digest

    file = provenance.get("scenario_file")
    listed = provenance.get("overlays")
    overlays = [str(o["file"]) for o in listed if isinstance(o, dict)] if isinstance(listed, list) else []
    if not isinstance(file, str) or not Path(file).is_file():
        raise SimError(
            f"{run_dir}: expected the scenario file the run was made from ({file}); put it back or run again"
        )
    loaded = load_scenario(file, overlays=overlays)
    if scenario_digest(loaded) != provenance.get("scenario_sha256"):
        raise SimError(
            f"{run_dir}: the scenario file {file} (or a file it names) changed after the run; "
            "expected it unchanged (run the scenario again, then observe the new run)"
        )
    return loaded.scenario


def observe_run(run_dir: Path, start_date: dt.date, *, survey_share: float = 1.0) -> dict[str, pd.DataFrame]:
    """The four record kinds of a run folder (see :func:`observe_tables`).

    The scenario is loaded again from the file the run recorded in ``provenance.json``, which must
    be unchanged since the run.

    Raises:
        SimError: not a run folder, damaged tables, the scenario file gone or changed, or a
            ``start_date`` off the scenario's start weekday.
    """
    from sim.results.io import MARKER, read_json, read_run

    run = read_run(run_dir)
    scenario = _run_scenario(run_dir, read_json(Path(run_dir) / MARKER))
    tables = {
        name: getattr(run, name)
        for name in ("trips", "errands", "facility_days", "residents", "places", "line_loads")
    }
    return observe_tables(tables, scenario, start_date, survey_share=survey_share)
