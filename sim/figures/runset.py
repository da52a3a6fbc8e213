"""Figure set of a run folder, optionally against another run: maps, CDFs, shares, queues, Lorenz, loads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.errors import SimError
from sim.figures import charts, maps
from sim.figures.answer_chart import CAPTION as UNIT_AGE_CAPTION
from sim.figures.answer_chart import SKIP as UNIT_AGE_SKIP
from sim.figures.answer_chart import unit_age_change
from sim.figures.calendar_chart import CAPTION as CALENDAR_CAPTION
from sim.figures.calendar_chart import monthly_calendar, year_chart
from sim.figures.figset import FigureSet
from sim.figures.fonts import Language
from sim.figures.geometry import land_rings, line_paths, township_hulls
from sim.figures.labels import TEXT, Labeller, scenario_names
from sim.figures.measures import (
    FIGURE_METRICS,
    completed_errands,
    facility_load,
    facility_utilisation,
    read_line_loads,
    threshold_shares,
    unit_differences,
    village_burden,
    village_differences,
    weekly_queue,
)
from sim.figures.style import figure_style
from sim.metrics.explain import crossed_difference
from sim.replications import ReplicationSet, is_replications_dir, read_replications
from sim.results.io import is_run_dir, read_run
from sim.results.result import RunResult

__all__ = [
    "RUN_FIGURES",
    "Comparison",
    "cdf_panels",
    "compare_with",
    "primary_dir",
    "read_run_dir",
    "read_scenario",
    "run_figures",
    "run_labeller",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Figure file stems of a run, in reading order.
RUN_FIGURES = (
    "burden_map",
    "difference_map",
    "difference_bars",
    "unit_age_change",
    "burden_cdf",
    "threshold_shares",
    "queue_heatmap",
    "utilisation",
    "lorenz",
    "line_loads",
)

_CAPTIONS = {
    "calendar_year": CALENDAR_CAPTION,
    "unit_age_change": UNIT_AGE_CAPTION,
    "burden_map": {
        "en": "Villages coloured by mean door-to-door minutes per completed errand (travel both ways, waits, "
        "service and repeat trips); point area grows with population; dashed outlines: former townships "
        "(convex hulls of their villages); numbered lines: the scenario's buses and ferries; facilities "
        "sized by mean arrivals per open day, side by side where they share a place.",
        "zh": "各村按每件已办结事项的平均门到门耗时着色（往返出行、排队、办理及重复跑腿）；"
        "点的面积随人口增大；虚线为原乡镇范围（村庄凸包）；编号线为情景中的公交和轮渡；"
        "设施符号大小表示开放日平均到访人次，同址设施并排显示。",
    },
    "difference_map": {
        "en": "Change in mean door-to-door minutes per errand by village, this run minus the comparison run; "
        "red: longer, blue: shorter; with replications, hollow villages' 95% interval includes 0.",
        "zh": "各村每件事平均门到门耗时的变化（本次运行减对比运行）；红色变长，蓝色变短；"
        "有重复运行时，空心村的95%置信区间含0。",
    },
    "difference_bars": {
        "en": "Change in mean, 90th percentile and share over 60 min of door-to-door minutes per errand "
        "by former township, this run minus the comparison run; with replications, 95% confidence "
        "intervals of the paired difference (hollow: the interval includes 0).",
        "zh": "各原乡镇每件事门到门耗时的均值、第90百分位及超过60分钟占比的变化（本次运行减对比运行）；"
        "有重复运行时给出配对差的95%置信区间（空心：区间含0）。",
    },
    "burden_cdf": {
        "en": "Cumulative distribution of door-to-door minutes per completed errand (log scale), one panel "
        "per township after the merger, one colour per former township; dashed: the comparison run.",
        "zh": "每件已办结事项门到门耗时的累计分布（对数坐标），每个撤并后乡镇一幅小图，每个原乡镇一种颜色；"
        "虚线为对比运行。",
    },
    "threshold_shares": {
        "en": "Share of completed errands taking more than 15, 30 and 60 minutes door to door, by former "
        "township and by age band; black ticks: the comparison run.",
        "zh": "门到门耗时超过15、30、60分钟的已办结事项占比，按原乡镇和年龄组；黑色短线为对比运行。",
    },
    "queue_heatmap": {
        "en": "Mean wait in the queue by weekday and hour of arrival, pooled over the simulated weeks and "
        "the facilities of each kind (blank: closed); visitors still queued at closing wait until "
        "closing and are turned away, which makes the longest waits.",
        "zh": "按星期和到达时刻统计的平均排队时间，合并各模拟周和同类设施（空白：不开放）；"
        "关门时仍在排队者一直等到关门后被劝返，这是最长等待的来源。",
    },
    "utilisation": {
        "en": "Mean daily utilisation of doctors (health centres) and windows (halls, service points) over "
        "open days, by the kind each site has in this run; dots: busiest day; diamonds: the comparison "
        "run. Over 100%: service begun before closing runs past it.",
        "zh": "各设施开放日医生（卫生院）或窗口（便民服务中心、服务点）的平均利用率，按本次运行中的设施类型；"
        "圆点为最忙一天，菱形为对比运行。超过100%：关门前开始的办理延续到关门之后。",
    },
    "lorenz": {
        "en": "Lorenz curves of minutes per errand and of uncongested travel time to each service, with Gini "
        "coefficients (population weighted).",
        "zh": "每件事耗时及前往各类服务的出行时间的洛伦兹曲线与基尼系数（按人口加权）。",
    },
    "line_loads": {
        "en": "Peak load of each departure relative to capacity by direction, averaged over the days it ran; "
        "passengers left behind per day when any were.",
        "zh": "各班次按方向的最大满载率（运行日平均）；有滞留时给出每日滞留乘客。",
    },
}


def primary_dir(path: str | Path) -> Path:
    """The run folder whose full tables figures of ``path`` are drawn from: the folder itself, or for a
    replicated run folder (``townsim run --replications N``) the first seed with full tables.

    Raises:
        SimError: neither a run folder nor a replicated run folder with a seed's full tables.
    """
    path = Path(path)
    if is_run_dir(path):
        return path
    if is_replications_dir(path):
        for seed in read_replications(path).seeds:
            if is_run_dir(path / f"seed_{seed}"):
                return path / f"seed_{seed}"
        raise SimError(
            f"{path}: replicated run folder without the full tables of any seed "
            "(expected seed_<seed>/ as `townsim run --replications N` writes it)"
        )
    raise SimError(
        f"{path}: not a townsim run folder (expected summary.json and provenance.json, or replications.json "
        "of `townsim run --replications N`)"
    )


def read_run_dir(path: str | Path) -> RunResult:
    """A run folder's tables (the first replication's for a replicated run).

    Raises:
        SimError: ``path`` is not a townsim run folder.
    """
    return read_run(primary_dir(path))


def read_scenario(run_dir: Path) -> dict[str, Any]:
    """The resolved scenario a run folder records (empty when absent)."""
    file = primary_dir(run_dir) / "scenario.yaml"
    return (yaml.safe_load(file.read_text(encoding="utf-8")) or {}) if file.is_file() else {}


def run_labeller(run_dir: Path, places: pd.DataFrame, language: Language) -> Labeller:
    """Labeller naming former townships, merged units, facilities and transit lines of a run."""
    return Labeller(language.lang, places=places, extra_units=scenario_names(read_scenario(run_dir)))


def cdf_panels(
    scenario: Mapping[str, Any], other: Mapping[str, Any], units: Sequence[str]
) -> dict[str, list[str]]:
    """Former townships grouped for small multiples: by the township they merged into (this run's
    merger, else the comparison run's), townships left alone together; without a merger, one panel
    (up to 6 townships) or panels of 5 in scenario order."""
    merged = ((scenario.get("merger") or {}).get("units")) or ((other.get("merger") or {}).get("units")) or {}
    panels: dict[str, list[str]] = {}
    for new, entry in merged.items():
        members = [str(m) for m in (entry or {}).get("members", []) if str(m) in units]
        if members:
            panels[str(new)] = members
    rest = [u for u in units if not any(u in m for m in panels.values())]
    if panels and rest:
        panels[UNCHANGED] = rest
    elif not panels:
        chunks = [rest] if len(rest) <= 6 else [rest[i : i + 5] for i in range(0, len(rest), 5)]
        panels = {f"{FORMER}{i}" if i else FORMER: chunk for i, chunk in enumerate(chunks)}
    return panels


UNCHANGED = "__not_merged"
FORMER = "__former"


def _lorenz_samples(result: RunResult, labels: Labeller, suffix: str = "") -> dict[str, pd.DataFrame]:
    res = result.residents
    weight = res["weight"]
    samples = {
        labels.t("lorenz_burden") + suffix: pd.DataFrame(
            {"value": res["burden_min_per_errand"], "weight": weight}
        )
    }
    for col in [c for c in res.columns if c.startswith("access_") and c.endswith("_min")]:
        service = labels.service(col[len("access_") : -len("_min")])
        samples[labels.t("lorenz_access", service=service) + suffix] = pd.DataFrame(
            {"value": res[col], "weight": weight}
        )
    return samples


@dataclass
class Comparison:
    """The comparison run of a figure set and the paired differences against it."""

    result: RunResult  # the comparison run's full tables (its first seed's when replicated)
    name: str
    scenario: dict[str, Any]
    before: ReplicationSet  # the comparison run, per seed
    after: ReplicationSet  # this run, per seed
    n: int  # seeds paired
    units: pd.DataFrame  # sim.replications.DIFFERENCE_COLUMNS by former township and ALL
    note: str  # "single run, no CI" or "N paired replications, 95% CI"


def paired_sets(run_dir: Path, vs: Path) -> tuple[ReplicationSet, ReplicationSet]:
    """(comparison run, this run) per seed, for ``sim.replications``' paired differences; one single
    run on each side is one pair even when their seeds differ."""
    before, after = read_replications(vs), read_replications(run_dir)
    if before.n == 1 and after.n == 1 and before.seeds != after.seeds:
        seed = after.seeds[0]
        before = replace(
            before,
            seeds=[seed],
            villages=before.villages.assign(seed=seed),
            facilities=before.facilities.assign(seed=seed),
        )
    return before, after


def compare_with(run_dir: Path, vs: Path, labels: Labeller) -> Comparison:
    """Read the comparison run and the paired differences (this run minus ``vs``).

    Raises:
        SimError: ``vs`` is not a run folder, or the two runs share no seed.
    """
    other = read_run_dir(vs)
    before, after = paired_sets(run_dir, vs)
    units = unit_differences(before, after)
    n = len(set(before.seeds) & set(after.seeds))
    note = labels.t("single_run") if n == 1 else labels.t("replicated", n=n)
    return Comparison(
        result=other,
        name=labels.scenario(other.checked_summary().scenario, read_scenario(vs).get("title")),
        scenario=read_scenario(vs),
        before=before,
        after=after,
        n=n,
        units=units,
        note=note,
    )


def _unit_order(result: RunResult, panels: Mapping[str, Sequence[str]]) -> list[str]:
    return ["ALL", *[u for members in panels.values() for u in members]]


def run_figures(run_dir: str | Path, *, language: Language, vs: str | Path | None = None) -> FigureSet:
    """Every figure of a run folder in ``language``; with ``vs`` the comparison run is drawn in each
    figure where a before/after means something, and the difference figures are added.

    Raises:
        SimError: ``run_dir`` or ``vs`` is not a run folder.
    """
    run_dir = Path(run_dir)
    result = read_run_dir(run_dir)
    figset = FigureSet(source=run_dir, language=language)
    lang = language.lang
    with figure_style(language):
        labels = run_labeller(run_dir, result.places, language)
        scenario = read_scenario(run_dir)
        cmp = compare_with(run_dir, Path(vs), labels) if vs is not None else None
        name = labels.scenario(result.checked_summary().scenario, scenario.get("title"))
        done = completed_errands(result.residents, result.errands)
        layers = maps.MapLayers(
            edges=result.edges,
            facilities=facility_load(result.places, result.facility_days),
            hulls=township_hulls(result.places),
            lines=line_paths(scenario.get("transit"), result.places, result.edges),
            land=land_rings(result.provenance, scenario),
        )
        figs = figset.figures
        figs["burden_map"] = maps.burden_map(
            village_burden(result.places, done), layers, labels=labels, run=name
        )
        units = [str(u) for u in result.places.loc[result.places["kind"] == "seat", "former_unit"]]
        panels = cdf_panels(scenario, cmp.scenario if cmp else {}, units)
        labels.add_names(
            {UNCHANGED: TEXT["unchanged"], **{k: TEXT["former_unit"] for k in panels if k.startswith(FORMER)}}
        )
        if cmp is not None:
            figs["difference_map"] = maps.difference_map(
                village_differences(result.places, cmp.before, cmp.after),
                layers,
                labels=labels,
                run=name,
                other=cmp.name,
                note=cmp.note,
            )
            figs["difference_bars"] = charts.difference_bars(
                cmp.units,
                metrics=DIFFERENCE_METRICS,
                order=_unit_order(result, panels),
                labels=labels,
                title=labels.t("t_diff_bars", run=name, other=cmp.name),
                note=cmp.note,
            )
            if len(cmp.before.cells) and len(cmp.after.cells):
                crossed = crossed_difference(
                    cmp.before.cells, cmp.after.cells, ["former_unit", "age_band"], ["burden_min.mean"]
                )
                figs["unit_age_change"] = unit_age_change(crossed, labels=labels, run=name, other=cmp.name)
            else:
                figset.skipped["unit_age_change"] = UNIT_AGE_SKIP[lang]
        else:
            figset.skipped["difference_map"] = labels.t("skip_vs")
            figset.skipped["difference_bars"] = labels.t("skip_vs")
            figset.skipped["unit_age_change"] = labels.t("skip_vs")
        other_done = completed_errands(cmp.result.residents, cmp.result.errands) if cmp else None
        figs["burden_cdf"] = charts.burden_cdf(
            done,
            panels=panels,
            labels=labels,
            run_name=name,
            other=other_done,
            other_name=cmp.name if cmp else "",
        )
        figs["threshold_shares"] = charts.threshold_shares_chart(
            threshold_shares(done, by="former_unit"),
            threshold_shares(done, by="age_band"),
            labels=labels,
            other_unit=threshold_shares(other_done, by="former_unit") if other_done is not None else None,
            other_band=threshold_shares(other_done, by="age_band") if other_done is not None else None,
            other_name=cmp.name if cmp else "",
        )
        weekday = _start_weekday(scenario)
        figs["queue_heatmap"] = charts.queue_heatmap(
            weekly_queue(result.trips, result.facility_days, start_weekday=weekday),
            labels=labels,
            other=weekly_queue(
                cmp.result.trips, cmp.result.facility_days, start_weekday=_start_weekday(cmp.scenario)
            )
            if cmp
            else None,
            names=(name, cmp.name) if cmp else (),
        )
        figs["utilisation"] = charts.utilisation_chart(
            facility_utilisation(result.facility_days),
            labels=labels,
            other=facility_utilisation(cmp.result.facility_days) if cmp else None,
            other_name=cmp.name if cmp else "",
        )
        samples = _lorenz_samples(result, labels)
        dashed: tuple[str, ...] = ()
        if cmp is not None:
            extra = _lorenz_samples(cmp.result, labels, suffix=f" ({cmp.name})")
            samples.update(extra)
            dashed = tuple(extra)
        figs["lorenz"] = charts.lorenz_chart(samples, labels=labels, dashed=dashed)
        loads = read_line_loads(primary_dir(run_dir))
        if loads is not None:
            figs["line_loads"] = charts.line_loads_chart(loads, labels=labels)
        else:
            figset.skipped["line_loads"] = labels.t("skip_transit")
        if "ferry_suspended" in result.daily.columns:  # a run with a calendar: the year by month
            figs["calendar_year"] = year_chart(
                monthly_calendar(result.trips, result.daily), lang=lang, run=name
            )
    figset.captions = {k: _CAPTIONS[k][lang] for k in figs}
    return figset


DIFFERENCE_METRICS = tuple(FIGURE_METRICS.values())


def _start_weekday(scenario: Mapping[str, Any]) -> int:
    day = str((scenario.get("simulation") or {}).get("start_weekday", "mon"))[:3].lower()
    return WEEKDAYS.index(day) if day in WEEKDAYS else 0
