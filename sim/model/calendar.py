"""The run's calendar: which simulated days have no ferries, which are public holidays, who is home.

Every draw is keyed by the date (its ordinal) or the resident, so two scenarios with one seed and
one start date have the same windy days, typhoons and absent residents.
"""

from __future__ import annotations

import calendar as pycal
import datetime as dt
from dataclasses import dataclass

import chinese_calendar
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sim.errors import ScenarioError
from sim.model.streams import Streams
from sim.scenario.calendar import Calendar, FerryDraw, SpringFestival
from sim.scenario.fields import WEEKDAYS
from sim.world.world import FACILITY_KINDS, World

__all__ = [
    "CalendarDays",
    "RunCalendar",
    "closed_grid",
    "draw_suspensions",
    "expected_suspension",
    "festival_starts",
    "pupil_school_days",
    "statutory_holidays",
    "water_crossing",
]


def _days_in_month(dates: list[dt.date]) -> np.ndarray:
    return np.array([pycal.monthrange(d.year, d.month)[1] for d in dates], dtype=float)


def _typhoon_start_prob(spec: FerryDraw, dates: list[dt.date]) -> np.ndarray:
    """Per date, the probability that a typhoon closure starts that day (Poisson arrivals)."""
    ty = spec.typhoons
    if ty is None:
        return np.zeros(len(dates))
    rate = np.array([ty.month_share.get(d.month, 0.0) for d in dates]) * ty.per_year / _days_in_month(dates)
    return -np.expm1(-rate)


def expected_suspension(spec: FerryDraw, dates: list[dt.date]) -> tuple[np.ndarray, np.ndarray]:
    """Per date, the probability of a windy day without ferries and of a day under a typhoon closure.

    A windy day has probability ``monthly_days[month] / days in the month``, so over a month the
    expected windy days equal the monthly figure; a day is closed by a typhoon when one started on
    it or on one of the ``closure_days - 1`` days before. Returns (p_wind, p_typhoon).
    """
    p_wind = np.array([spec.monthly_days.get(d.month, 0.0) for d in dates]) / _days_in_month(dates)
    ty = spec.typhoons
    if ty is None:
        return p_wind, np.zeros(len(dates))
    first = dates[0] - dt.timedelta(days=ty.closure_days - 1)
    span = [first + dt.timedelta(days=i) for i in range((dates[-1] - first).days + 1)]
    log_calm = np.log1p(-_typhoon_start_prob(spec, span))
    window = np.convolve(log_calm, np.ones(ty.closure_days))[ty.closure_days - 1 : len(span)]
    return p_wind, -np.expm1(window)


def draw_suspensions(spec: FerryDraw, dates: list[dt.date], streams: Streams) -> np.ndarray:
    """Which dates have no ferries: windy days (a uniform keyed by the date's ordinal below the day's
    probability) and typhoon closures (a start on a date keyed likewise closes it and the next
    ``closure_days - 1`` days). The draws of a date do not depend on the other dates asked for."""
    if not dates:
        return np.zeros(0, dtype=bool)
    ordinal = np.array([d.toordinal() for d in dates], dtype=np.int64)
    p_wind = np.array([spec.monthly_days.get(d.month, 0.0) for d in dates]) / _days_in_month(dates)
    out = streams.uniform("calendar.wind", ordinal) < p_wind
    ty = spec.typhoons
    if ty is not None:
        first = dates[0] - dt.timedelta(days=ty.closure_days - 1)
        span = [first + dt.timedelta(days=i) for i in range((dates[-1] - first).days + 1)]
        span_ord = np.array([d.toordinal() for d in span], dtype=np.int64)
        start = streams.uniform("calendar.typhoon", span_ord) < _typhoon_start_prob(spec, span)
        covered = np.convolve(start.astype(np.int64), np.ones(ty.closure_days, dtype=np.int64))
        out |= covered[ty.closure_days - 1 : len(span)] > 0
    return out


def statutory_holidays(dates: list[dt.date], file: str) -> tuple[np.ndarray, dict[int, dt.date]]:
    """Per date, whether it is a statutory public holiday, and the first day of each year's Spring
    Festival holiday (from the chinese-calendar package, which holds the State Council notices).

    Raises:
        ScenarioError: a date outside the years the package covers.
    """
    holiday = np.zeros(len(dates), dtype=bool)
    for i, d in enumerate(dates):
        try:
            on, name = chinese_calendar.get_holiday_detail(d)
        except NotImplementedError:
            years = sorted({h.year for h in chinese_calendar.constants.holidays})
            raise ScenarioError(
                file,
                "calendar.start_date",
                f"expected simulated dates within {years[0]}-{years[-1]} (the public holidays the "
                f"chinese-calendar package knows), the run reaches {d.isoformat()}",
            ) from None
        holiday[i] = bool(on and name is not None)
    return holiday, festival_starts({d.year for d in dates})


def festival_starts(years: set[int]) -> dict[int, dt.date]:
    """First day of the Spring Festival public holiday of each year the package covers."""
    firsts: dict[int, dt.date] = {}
    for day, name in chinese_calendar.constants.holidays.items():
        if name == chinese_calendar.Holiday.spring_festival.value and day.year in years:
            firsts[day.year] = min(firsts.get(day.year, day), day)
    return firsts


def water_crossing(world: World) -> np.ndarray:
    """(facilities, villages) bool: the facility is on another landmass than the village (every route
    there crosses water: no road joins them, only ferries)."""
    edges = world.edges
    road = ~edges.is_ferry
    n = len(world.nodes)
    graph = coo_matrix((np.ones(int(road.sum())), (edges.u[road], edges.v[road])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return label[world.fac_node][:, None] != label[world.village_node][None, :]


@dataclass(frozen=True)
class CalendarDays:
    """The calendar of days ``first_day``..``first_day + len(dates) - 1`` of a run.

    Attributes:
        first_day: simulation day of ``dates[0]`` (minus the warm-up days).
        dates: the date of each simulated day.
        suspended: no ferry that day.
        holiday: statutory public holiday that day.
        home: migrants are home that day (Spring Festival window).
    """

    first_day: int
    dates: list[dt.date]
    suspended: np.ndarray
    holiday: np.ndarray
    home: np.ndarray

    @classmethod
    def build(cls, spec: Calendar, *, first_day: int, days: int, streams: Streams, file: str) -> CalendarDays:
        """The calendar of ``days`` days from ``first_day`` (negative: warm-up days)."""
        dates = [spec.start_date + dt.timedelta(days=first_day + i) for i in range(days)]
        suspended = np.zeros(days, dtype=bool)
        if spec.ferry is not None:
            listed = set(spec.ferry.dates)
            suspended |= np.array([d in listed for d in dates], dtype=bool)
            if spec.ferry.draw is not None:
                suspended |= draw_suspensions(spec.ferry.draw, dates, streams)
        need_holidays = spec.public_holidays or spec.spring_festival is not None
        holiday, firsts = statutory_holidays(dates, file) if need_holidays else (np.zeros(days, bool), {})
        if not spec.public_holidays:
            holiday = np.zeros(days, dtype=bool)
        home = np.zeros(days, dtype=bool)
        if spec.spring_festival is not None:
            home = _home_window(spec.spring_festival, dates, firsts)
        return cls(first_day=first_day, dates=dates, suspended=suspended, holiday=holiday, home=home)


class RunCalendar:
    """A run's calendar, extended as the run goes on (every draw is keyed by date, so a longer
    calendar agrees with a shorter one on the days both hold).

    Attributes:
        spec: the scenario's calendar block.
        absent: per resident, registered but away outside the Spring Festival window.
        crossing: (facilities, villages) bool, the trip crosses water.
        closed_kinds: facility-kind indices closed on public holidays.
        held_by_ferry: simulation day -> errands that could not go that day for want of a ferry.
    """

    def __init__(
        self,
        spec: Calendar,
        *,
        first_day: int,
        days: int,
        world: World,
        resident_key: np.ndarray,
        resident_village: np.ndarray,
        streams: Streams,
        file: str,
    ) -> None:
        self.spec = spec
        self._streams = streams
        self._file = file
        self.days = CalendarDays.build(spec, first_day=first_day, days=days, streams=streams, file=file)
        self.crossing = water_crossing(world)
        self.closed_kinds = np.array([FACILITY_KINDS.index(k) for k in spec.holiday_closes], dtype=np.int64)
        self.absent = np.zeros(len(resident_key), dtype=bool)
        if spec.spring_festival is not None:
            self.absent = _absent(spec.spring_festival, world, resident_key, resident_village, streams)
        self.held_by_ferry: dict[int, int] = {}

    def _at(self, day: int) -> int:
        """Position of simulation day ``day`` in the calendar (extending it when needed)."""
        cal = self.days
        i = day - cal.first_day
        if i >= len(cal.dates):
            self.days = CalendarDays.build(
                self.spec, first_day=cal.first_day, days=i + 366, streams=self._streams, file=self._file
            )
        return i

    def date(self, day: int) -> dt.date:
        """Date of simulation day ``day``."""
        return self.spec.start_date + dt.timedelta(days=day)

    def is_suspended(self, day: int) -> bool:
        """No ferries on ``day``."""
        i = self._at(day)  # first: may extend the calendar
        return bool(self.days.suspended[i])

    def is_holiday(self, day: int) -> bool:
        """``day`` is a statutory public holiday (and the scenario closes facilities on them)."""
        i = self._at(day)
        return bool(self.days.holiday[i])

    def closed_today(self, day: int, fac_kind: np.ndarray) -> np.ndarray | None:
        """Facilities closed by a public holiday on ``day`` (None: none)."""
        if not self.is_holiday(day):
            return None
        return np.isin(fac_kind, self.closed_kinds)

    def present(self, day: int, resident: np.ndarray) -> np.ndarray:
        """Which of ``resident`` rows are at home on ``day``."""
        i = self._at(day)
        if self.days.home[i]:
            return np.ones(len(resident), dtype=bool)
        return ~self.absent[resident]

    def hold_crossings(self, day: int, eligible: np.ndarray, cand: np.ndarray, village: np.ndarray) -> None:
        """On a day without ferries, strike candidates across water from ``eligible`` (candidates x
        choosers, in place) and count the choosers left with none."""
        if not self.is_suspended(day):
            return
        had = eligible.any(axis=0)
        eligible &= ~self.crossing[cand][:, village]
        held = int((had & ~eligible.any(axis=0)).sum())
        self.held_by_ferry[day] = self.held_by_ferry.get(day, 0) + held


def _home_window(spec: SpringFestival, dates: list[dt.date], firsts: dict[int, dt.date]) -> np.ndarray:
    """Per date, within ``days_before`` before to ``days_after`` after a Spring Festival holiday start."""
    home = np.zeros(len(dates), dtype=bool)
    for first in firsts.values():
        lo, hi = first - dt.timedelta(days=spec.days_before), first + dt.timedelta(days=spec.days_after)
        home |= np.array([lo <= d <= hi for d in dates], dtype=bool)
    return home


def _absent(
    spec: SpringFestival,
    world: World,
    resident_key: np.ndarray,
    resident_village: np.ndarray,
    streams: Streams,
) -> np.ndarray:
    """Per resident, registered but away: a uniform keyed by identity below the village's share."""
    share = np.array([spec.by_village.get(v, spec.absent_share) for v in world.village_ids])
    return streams.uniform("calendar.absent", resident_key) < share[resident_village]


def closed_grid(calendar: RunCalendar | None, days: np.ndarray, fac_kind: np.ndarray) -> np.ndarray:
    """(days, facilities) bool: closed by a public holiday (all False without a calendar)."""
    out = np.zeros((len(days), len(fac_kind)), dtype=bool)
    if calendar is None:
        return out
    closes = np.isin(fac_kind, calendar.closed_kinds)
    for i, d in enumerate(days.tolist()):
        if calendar.is_holiday(d):
            out[i] = closes
    return out


def pupil_school_days(
    calendar: RunCalendar,
    *,
    days: int,
    start_weekday: int,
    school_days: tuple[str, ...],
    holidays: tuple[tuple[int, int], ...],
    crosses: np.ndarray,
) -> np.ndarray:
    """School days each pupil attends over measured days 0..days-1: school weekdays outside the
    school holidays and public holidays; pupils whose daily trip ``crosses`` water miss the days
    without ferries."""
    day = np.arange(days)
    weekday = (start_weekday + day) % 7
    open_ = np.array([WEEKDAYS[w] in school_days for w in weekday.tolist()], dtype=bool)
    for first, last in holidays:
        open_ &= ~((day >= first) & (day <= last))
    open_ &= ~np.array([calendar.is_holiday(d) for d in day.tolist()], dtype=bool)
    stormy = open_ & np.array([calendar.is_suspended(d) for d in day.tolist()], dtype=bool)
    return np.where(crosses, int(open_.sum()) - int(stormy.sum()), int(open_.sum())).astype(np.int32)
