"""The year by month: burden per trip, waits and escort time, with the days without ferries marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.figures.style import new_figure

__all__ = ["CAPTION", "monthly_calendar", "year_chart"]

_TEXT = {
    "burden": {"en": "Door-to-door min per trip", "zh": "每次出行门到门分钟"},
    "wait": {"en": "Mean wait, min", "zh": "平均排队分钟"},
    "suspended": {"en": "No ferry", "zh": "渡轮停航"},
    "holiday": {"en": "Public holiday", "zh": "法定节假日"},
    "daily": {"en": "Daily mean", "zh": "日均值"},
    "monthly": {"en": "Monthly mean", "zh": "月均值"},
    "title": {"en": "{run}: the year by month", "zh": "{run}：逐月负担"},
}
#: Caption of the figure in each language.
CAPTION = {
    "en": "Mean door-to-door minutes per trip (travel both ways, wait, service) and mean wait at the "
    "facility, daily (thin) and per calendar month (steps), over the measured days; grey bands: days "
    "without ferries, hatched: public holidays.",
    "zh": "每次出行的平均门到门分钟（往返出行、排队、办理）与平均排队时间，细线为日均值，阶梯为月均值；"
    "灰色带为渡轮停航日，斜线为法定节假日。",
}


def monthly_calendar(trips: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """Per measured day: date, trips, mean door-to-door minutes per trip, mean wait, no ferry, holiday.

    Args:
        trips: the run's trips table.
        daily: the run's daily table with the calendar's date, ferry_suspended, public_holiday.
    """
    burden = trips["travel_min"] + trips["wait_min"] + trips["service_min"] + trips["return_min"]
    per_day = (
        pd.DataFrame({"day": trips["day"].to_numpy(), "burden": burden.to_numpy(), "wait": trips["wait_min"]})
        .groupby("day")
        .agg(trips=("burden", "size"), burden=("burden", "mean"), wait=("wait", "mean"))
    )
    days = daily[daily["day"] >= 0].set_index("day")[["date", "ferry_suspended", "public_holiday"]]
    return days.join(per_day, how="left").fillna({"trips": 0})


def _spans(ax: object, dates: pd.Series, flag: np.ndarray, **style: object) -> None:
    for d in dates[flag]:
        ax.axvspan(d, d + pd.Timedelta(days=1), lw=0, **style)  # type: ignore[attr-defined]


def year_chart(table: pd.DataFrame, *, lang: str, run: str) -> Figure:
    """Two panels over the year: burden per trip and mean wait, daily and by month, with the days
    without ferries shaded and public holidays hatched (``table`` from :func:`monthly_calendar`)."""
    fig, axes = new_figure(width="double", height_in=3.6, nrows=2, sharex=True)
    dates = table["date"]
    month = dates.dt.to_period("M")
    for ax, col in zip(axes, ("burden", "wait"), strict=True):
        _spans(ax, dates, table["ferry_suspended"].to_numpy(bool), color="#bdbdbd", alpha=0.6)
        _spans(ax, dates, table["public_holiday"].to_numpy(bool), fill=False, hatch="////", color="#9e9ac8")
        ax.plot(dates, table[col], lw=0.5, color="#6baed6")
        weights = table["trips"].to_numpy(float)
        values = table[col].to_numpy(float)
        ok = np.isfinite(values)
        frame = pd.DataFrame({"m": month[ok], "wv": values[ok] * weights[ok], "w": weights[ok]})
        by_month = frame.groupby("m").sum()
        mean = by_month["wv"] / by_month["w"].where(by_month["w"] > 0)
        starts = pd.PeriodIndex(mean.index).to_timestamp()
        edges = [*starts, starts[-1] + pd.offsets.MonthBegin(1)] if len(starts) else []
        if len(starts):
            ax.stairs(mean.to_numpy(float), edges, baseline=None, color="#08519c", lw=1.2)
        ax.set_ylabel(_TEXT[col][lang], fontsize=7)
        ax.set_ylim(bottom=0)
    axes[0].set_title(_TEXT["title"][lang].format(run=run), loc="left", fontsize=8)
    handles = [
        Patch(color="#bdbdbd", alpha=0.6, label=_TEXT["suspended"][lang]),
        Patch(fill=False, hatch="////", edgecolor="#9e9ac8", label=_TEXT["holiday"][lang]),
        Patch(color="#6baed6", label=_TEXT["daily"][lang]),
        Patch(color="#08519c", label=_TEXT["monthly"][lang]),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncol=4, fontsize=6.5)
    return fig
