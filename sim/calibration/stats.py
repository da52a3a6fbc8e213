"""Summary statistics of records and their observation-error variances.

One function (:func:`statistics`) summarises observed records and the records a simulated run
produces (``sim.observed.observe.observe_tables``), so the two cannot diverge. Statistics, named
``kind/id/weekday/measure`` (survey: ``survey/age band/mode/measure``):

* ``hall_tickets``, per facility and weekday: ``arrivals`` (tickets a day), ``mean_wait_min`` and
  ``p90_wait_min`` (ticket to call, called tickets), ``turned_away`` (share of tickets never called);
  per facility (all days): ``mean_service_min`` (call to end, completed tickets);
* ``clinic_visits``, per clinic and weekday: ``visits`` (a day);
* ``boardings``, per line: ``per_departure`` (boardings per recorded departure);
* ``survey``, per age band and main mode: ``door_to_door_min`` and ``trips`` (per errand) and
  ``share`` (of the band's surveyed errands made by that mode).

Observation-error variances (:func:`observed_statistics`) come from the records themselves: a
delete-one-date jackknife for every dated statistic (days are the independent units: waits on one
day share one queue), the variance of the mean for survey rows; each is floored at what a
count or share of that size cannot beat (Poisson for daily counts, binomial for shares, one
minute of resolution for waits). A statistic backed by fewer than ``min_records`` records or two
dates is dropped (listed, with the reason).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from sim.scenario.schema import WEEKDAYS

__all__ = ["ObservedStatistics", "Window", "observed_statistics", "statistics"]

#: Smallest wait variance of one statistic, minutes squared (ticket times are recorded to the minute).
_WAIT_FLOOR = 1.0 / 12.0


@dataclass(frozen=True)
class Window:
    """The days records cover: ``days`` days from ``start`` (simulation day 0)."""

    start: dt.date
    days: int

    def dates(self) -> pd.DatetimeIndex:
        """Every date of the window."""
        return pd.date_range(pd.Timestamp(self.start), periods=self.days, freq="D")


@dataclass
class _Group:
    """Records of one statistic group, split by date (dated kinds) or pooled (survey)."""

    values: dict[str, float] = field(default_factory=dict)
    variances: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _weekday(dates: pd.Series) -> np.ndarray:
    return np.asarray(WEEKDAYS)[dates.dt.day_of_week.to_numpy()]


def _jackknife(estimate: Callable[[np.ndarray], float], n_dates: int) -> float:
    """Delete-one-date jackknife variance of ``estimate(mask of dates kept)``."""
    if n_dates < 2:
        return float("nan")
    keep = np.ones(n_dates, dtype=bool)
    leave = np.empty(n_dates)
    for d in range(n_dates):
        keep[d] = False
        leave[d] = estimate(keep)
        keep[d] = True
    leave = leave[np.isfinite(leave)]
    if len(leave) < 2:
        return 0.0  # the floor applies
    return float((len(leave) - 1) / len(leave) * np.sum((leave - leave.mean()) ** 2))


def _mean(values: np.ndarray) -> float:
    """Mean of the finite values (NaN when there are none)."""
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")


def _p90(values: np.ndarray) -> float:
    """90th percentile of the finite values (NaN when there are none)."""
    values = values[np.isfinite(values)]
    return float(np.quantile(values, 0.9)) if len(values) else float("nan")


def _ticket_frame(tickets: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Tickets inside the window: facility, day, weekday, wait and service minutes (NaN: not called)."""
    day = tickets["ticket_time"].dt.normalize()
    inside = day.isin(window.dates()).to_numpy()
    minutes = lambda a, b: ((tickets[b] - tickets[a]).dt.total_seconds() / 60.0).to_numpy()[inside]  # noqa: E731
    frame = pd.DataFrame(
        {
            "facility": tickets["facility"].astype(str).to_numpy()[inside],
            "day": day.to_numpy()[inside],
            "wait": minutes("ticket_time", "call_time"),
            "service": minutes("call_time", "end_time"),
        }
    )
    frame["weekday"] = _weekday(frame["day"])
    return frame


def _ratio_variance(
    values: np.ndarray,
    day_index: np.ndarray,
    n_days: int,
    estimate: Callable[[np.ndarray], float],
    floor: float,
) -> float:
    """Delete-one-date jackknife variance of ``estimate(values of the dates kept)``, floored."""
    return max(_jackknife(lambda keep: estimate(values[keep[day_index]]), n_days), floor)


def _tickets(
    tickets: pd.DataFrame,
    window: Window,
    out: dict[str, float],
    var: dict[str, float] | None,
    counts: dict[str, int],
    weight: float,
) -> None:
    dates = window.dates()
    frame = _ticket_frame(tickets, window)
    day_weekday = np.asarray(WEEKDAYS)[dates.day_of_week]
    for facility, group in frame.groupby("facility", sort=True):
        service = group["service"].to_numpy()
        name = f"hall_tickets/{facility}/all/mean_service_min"
        out[name] = _mean(service)
        counts[name] = int(np.isfinite(service).sum())
        if var is not None and counts[name] >= 2:
            day_index = dates.get_indexer(pd.Index(group["day"]))
            var[name] = _ratio_variance(service, day_index, len(dates), _mean, _WAIT_FLOOR / counts[name])
    for (hall, weekday), group in frame.groupby(["facility", "weekday"], sort=True):
        window_days = dates[day_weekday == weekday]
        day_index = window_days.get_indexer(group["day"])
        wait = group["wait"].to_numpy()
        never_called = (~np.isfinite(wait)).astype(float)
        name = f"hall_tickets/{hall}/{weekday}"
        per_day = np.bincount(day_index, minlength=len(window_days)).astype(float)
        n, m = len(group), int(np.isfinite(wait).sum())
        out[f"{name}/arrivals"] = float(per_day.mean()) * weight
        out[f"{name}/turned_away"] = float(never_called.mean())
        out[f"{name}/mean_wait_min"] = _mean(wait)
        out[f"{name}/p90_wait_min"] = _p90(wait)
        counts.update({f"{name}/arrivals": n, f"{name}/turned_away": n})
        counts.update({f"{name}/mean_wait_min": m, f"{name}/p90_wait_min": m})
        if var is None:
            continue
        n_days = len(window_days)
        var[f"{name}/arrivals"] = max(float(per_day.var(ddof=1) / n_days), per_day.mean() / n_days)
        p = (never_called.sum() + 0.5) / (n + 1.0)
        var[f"{name}/turned_away"] = _ratio_variance(never_called, day_index, n_days, _mean, p * (1 - p) / n)
        if m >= 2:
            var[f"{name}/mean_wait_min"] = _ratio_variance(wait, day_index, n_days, _mean, _WAIT_FLOOR / m)
            var[f"{name}/p90_wait_min"] = _ratio_variance(wait, day_index, n_days, _p90, _WAIT_FLOOR / m)


def _visits(
    visits: pd.DataFrame,
    window: Window,
    out: dict[str, float],
    var: dict[str, float] | None,
    counts: dict[str, int],
) -> None:
    dates = window.dates()
    day_weekday = np.asarray(WEEKDAYS)[dates.day_of_week]
    frame = visits[visits["date"].isin(dates)]
    for facility, group in frame.groupby(frame["facility"].astype(str), sort=True):
        for weekday in WEEKDAYS:
            window_days = dates[day_weekday == weekday]
            rows = group[_weekday(group["date"]) == weekday]
            if rows.empty:
                continue
            per_day = np.zeros(len(window_days))
            per_day[window_days.get_indexer(rows["date"])] = rows["visits"].to_numpy(dtype=float)
            name = f"clinic_visits/{facility}/{weekday}/visits"
            out[name] = float(per_day.mean())
            counts[name] = int(per_day.sum())
            if var is not None:
                var[name] = max(float(per_day.var(ddof=1) / len(per_day)), per_day.mean() / len(per_day))


def _boardings(
    boardings: pd.DataFrame,
    window: Window,
    out: dict[str, float],
    var: dict[str, float] | None,
    counts: dict[str, int],
) -> None:
    dates = window.dates()
    frame = boardings[boardings["date"].isin(dates)]
    for line, group in frame.groupby(frame["line"].astype(str), sort=True):
        name = f"boardings/{line}/all/per_departure"
        values = group["boardings"].to_numpy(dtype=float)
        out[name] = float(values.mean())
        counts[name] = len(values)
        if var is not None:
            day_index = pd.DatetimeIndex(group["date"]).normalize()
            days = np.unique(day_index)
            code = np.searchsorted(days, day_index)
            sums = np.bincount(code, weights=values, minlength=len(days))
            ns = np.bincount(code, minlength=len(days)).astype(float)
            ratio = lambda keep, sums=sums, ns=ns: float(sums[keep].sum() / ns[keep].sum())  # noqa: E731
            var[name] = max(_jackknife(ratio, len(days)), max(values.mean(), 1.0) / len(values))


def _survey(
    survey: pd.DataFrame, out: dict[str, float], var: dict[str, float] | None, counts: dict[str, int]
) -> None:
    keys = [survey["age_band"].astype(str), survey["mode"].astype(str)]
    band_size = survey.groupby(keys[0], sort=True).size()
    for (band, mode), group in survey.groupby(keys, sort=True):
        name, n = f"survey/{band}/{mode}/share", int(band_size[cast(str, band)])
        out[name] = len(group) / n
        counts[name] = len(group)
        if var is not None:
            p = (len(group) + 0.5) / (n + 1.0)
            var[name] = p * (1 - p) / n
        for measure, column, floor in (
            ("door_to_door_min", "door_to_door_min", _WAIT_FLOOR),
            ("trips", "trips", 0.0),
        ):
            values = group[column].to_numpy(dtype=float)
            name = f"survey/{band}/{mode}/{measure}"
            out[name] = float(values.mean())
            counts[name] = len(values)
            if var is not None and len(values) >= 2:
                p_floor = 1.0 / (4.0 * len(values) ** 2) if measure == "trips" else floor / len(values)
                var[name] = max(float(values.var(ddof=1) / len(values)), p_floor)


def _summarise(
    records: Mapping[str, pd.DataFrame], window: Window, *, variances: bool, ticket_weight: float = 1.0
) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    out: dict[str, float] = {}
    var: dict[str, float] | None = {} if variances else None
    counts: dict[str, int] = {}
    if "hall_tickets" in records:
        _tickets(records["hall_tickets"], window, out, var, counts, ticket_weight)
    if "clinic_visits" in records:
        _visits(records["clinic_visits"], window, out, var, counts)
    if "boardings" in records:
        _boardings(records["boardings"], window, out, var, counts)
    if "survey" in records:
        _survey(records["survey"], out, var, counts)
    return out, var or {}, counts


def statistics(
    records: Mapping[str, pd.DataFrame], window: Window, *, ticket_weight: float = 1.0
) -> dict[str, float]:
    """Statistic name -> value of a set of records (any subset of the four kinds).

    Args:
        records: record kind -> DataFrame as ``sim.observed.records.read_records`` returns it.
        window: the dates the records cover (records outside are left out; days without a
            record count as days without visitors).
        ticket_weight: residents each ticket stands for (1 / sample fraction of a sampled run,
            whose ticket log holds the sampled residents only).
    """
    return _summarise(records, window, variances=False, ticket_weight=ticket_weight)[0]


@dataclass(frozen=True)
class ObservedStatistics:
    """Observed statistics kept for calibration, in a fixed order.

    Attributes:
        names: statistic names.
        values: observed values.
        variances: observation-error variances (estimated or given).
        counts: records behind each statistic.
        dropped: statistic name -> why it is not used.
    """

    names: list[str]
    values: np.ndarray
    variances: np.ndarray
    counts: np.ndarray
    dropped: dict[str, str]


def observed_statistics(
    records: Mapping[str, pd.DataFrame],
    window: Window,
    *,
    min_records: int = 5,
    given_variance: Mapping[str, float] | None = None,
) -> ObservedStatistics:
    """Statistics of the observed records with their observation-error variances.

    Args:
        records: record kind -> DataFrame.
        window: the dates the records cover.
        min_records: statistics backed by fewer records are dropped.
        given_variance: statistic name -> variance replacing the estimate.
    """
    values, var, counts = _summarise(records, window, variances=True)
    given = dict(given_variance or {})
    names: list[str] = []
    dropped: dict[str, str] = {}
    for name in sorted(values):
        v = given.get(name, var.get(name, float("nan")))
        if counts[name] < min_records:
            dropped[name] = f"{counts[name]} records (fewer than {min_records})"
        elif not np.isfinite(values[name]):
            dropped[name] = "no value"
        elif not (np.isfinite(v) and v > 0):
            dropped[name] = "no variance estimate (fewer than two dates or rows)"
        else:
            names.append(name)
    return ObservedStatistics(
        names=names,
        values=np.array([values[n] for n in names]),
        variances=np.array([given.get(n, var.get(n, np.nan)) for n in names]),
        counts=np.array([counts[n] for n in names]),
        dropped=dropped,
    )
