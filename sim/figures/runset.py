"""Figure set of a run folder, optionally against another run: maps, CDFs, shares, queues, Lorenz, loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.errors import SimError
from sim.figures import charts, maps
from sim.figures.figset import FigureSet
from sim.figures.fonts import Language
from sim.figures.labels import Labeller
from sim.figures.measures import (
    completed_errands,
    facility_load,
    facility_utilisation,
    hourly_queue,
    read_line_loads,
    threshold_shares,
    village_burden,
)
from sim.figures.style import figure_style
from sim.results.io import is_run_dir, read_run
from sim.results.tables import RunResult

__all__ = ["RUN_FIGURES", "read_run_dir", "run_figures", "run_labeller"]

#: Figure file stems of a run, in reading order.
RUN_FIGURES = (
    "burden_map",
    "difference_map",
    "burden_cdf",
    "threshold_shares",
    "queue_heatmap",
    "utilisation",
    "lorenz",
    "line_loads",
)

_CAPTIONS = {
    "burden_map": {
        "en": "Villages coloured by mean door-to-door minutes per completed errand (travel both ways, waits, "
        "service and repeat trips); point area grows with population; facilities sized by mean "
        "arrivals per open day.",
        "zh": "各村按每件已办结事项的平均门到门耗时着色（往返出行、排队、办理及重复跑腿）；"
        "点的面积随人口增大；设施符号大小表示开放日平均到访人次。",
    },
    "difference_map": {
        "en": "Change in mean door-to-door minutes per errand by village, this run minus the comparison run; "
        "red: longer, blue: shorter.",
        "zh": "各村每件事平均门到门耗时的变化（本次运行减对比运行）；红色变长，蓝色变短。",
    },
    "burden_cdf": {
        "en": "Cumulative distribution of door-to-door minutes per completed errand, by former township.",
        "zh": "各原乡镇每件已办结事项门到门耗时的累计分布。",
    },
    "threshold_shares": {
        "en": "Share of completed errands taking more than 15, 30 and 60 minutes door to door, by former "
        "township and by age band.",
        "zh": "门到门耗时超过15、30、60分钟的已办结事项占比，按原乡镇和年龄组。",
    },
    "queue_heatmap": {
        "en": "Mean wait in the queue by hour of arrival and day, pooled over facilities of each kind.",
        "zh": "按到达时刻和日期统计的平均排队时间（同类设施合并）。",
    },
    "utilisation": {
        "en": "Mean daily server utilisation of each facility over its open days; dots mark the busiest day.",
        "zh": "各设施开放日的平均窗口利用率；圆点为最忙一天。",
    },
    "lorenz": {
        "en": "Lorenz curves of minutes per errand and of uncongested travel time to each service, with Gini "
        "coefficients (population weighted).",
        "zh": "每件事耗时及前往各类服务的出行时间的洛伦兹曲线与基尼系数（按人口加权）。",
    },
    "line_loads": {
        "en": "Peak load of each bus departure relative to capacity, and passengers left behind per day.",
        "zh": "各班次最大满载率及每日滞留乘客。",
    },
}


def read_run_dir(path: str | Path) -> RunResult:
    """A run folder's tables.

    Raises:
        SimError: ``path`` is not a townsim run folder.
    """
    path = Path(path)
    if not is_run_dir(path):
        raise SimError(f"{path}: not a townsim run folder (expected summary.json and provenance.json)")
    return read_run(path)


def _scenario(run_dir: Path) -> dict[str, Any]:
    file = run_dir / "scenario.yaml"
    return yaml.safe_load(file.read_text(encoding="utf-8")) or {} if file.is_file() else {}


def run_labeller(run_dir: Path, places: pd.DataFrame, language: Language) -> Labeller:
    """Labeller naming former townships, merged units, facilities and transit lines of a run."""
    scenario = _scenario(run_dir)
    names = {
        **((scenario.get("transit") or {}).get("lines") or {}),
        **((scenario.get("merger") or {}).get("units") or {}),
    }
    return Labeller(language.lang, places=places, extra_units=names)


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


def run_figures(run_dir: str | Path, *, language: Language, vs: str | Path | None = None) -> FigureSet:
    """Every figure of a run folder in ``language`` (the difference map needs ``vs``, bus loads need transit).

    Raises:
        SimError: ``run_dir`` or ``vs`` is not a run folder.
    """
    run_dir = Path(run_dir)
    result = read_run_dir(run_dir)
    other = read_run_dir(vs) if vs is not None else None
    figset = FigureSet(source=run_dir, language=language)
    lang = language.lang
    with figure_style(language):
        labels = run_labeller(run_dir, result.places, language)
        name = str(result.summary.get("scenario", run_dir.name))
        done = completed_errands(result.residents, result.errands)
        villages = village_burden(result.places, done)
        facilities = facility_load(result.places, result.facility_days)
        figs = figset.figures
        figs["burden_map"] = maps.burden_map(villages, result.edges, facilities, labels=labels, run=name)
        if other is not None:
            other_name = str(other.summary.get("scenario", Path(vs or "").name))
            before = village_burden(other.places, completed_errands(other.residents, other.errands))
            change = villages.assign(
                burden_change_min=villages["burden_min"]
                - villages["id"].map(before.set_index("id")["burden_min"])
            )
            figs["difference_map"] = maps.difference_map(
                change, result.edges, facilities, labels=labels, run=name, other=other_name
            )
        else:
            figset.skipped["difference_map"] = labels.t("skip_vs")
        figs["burden_cdf"] = charts.burden_cdf(done, by="former_unit", labels=labels)
        figs["threshold_shares"] = charts.threshold_shares_chart(
            threshold_shares(done, by="former_unit"), threshold_shares(done, by="age_band"), labels=labels
        )
        figs["queue_heatmap"] = charts.queue_heatmap(
            hourly_queue(result.trips, result.facility_days), labels=labels
        )
        figs["utilisation"] = charts.utilisation_chart(
            facility_utilisation(result.facility_days), labels=labels
        )
        samples = _lorenz_samples(result, labels)
        dashed: tuple[str, ...] = ()
        if other is not None:
            extra = _lorenz_samples(other, labels, suffix=f" ({other_name})")
            first = next(iter(extra))
            samples[first] = extra[first]
            dashed = (first,)
        figs["lorenz"] = charts.lorenz_chart(samples, labels=labels, dashed=dashed)
        loads = read_line_loads(run_dir)
        if loads is not None:
            figs["line_loads"] = charts.line_loads_chart(loads, labels=labels)
        else:
            figset.skipped["line_loads"] = labels.t("skip_transit")
    figset.captions = {k: _CAPTIONS[k][lang] for k in figs}
    return figset
