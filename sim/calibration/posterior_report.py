"""A posterior comparison as a folder (``compare --posterior DIR --out FOLDER``) and its report section.

The folder holds ``comparison.csv`` (the table of :func:`~sim.calibration.posterior_compare.total_variance`),
``draws.parquet`` (the parameter draws), ``per_draw.parquet`` (per draw and metric: mean difference
and seed variance) and ``posterior_compare.json`` (the inputs), with townsim's ownership marker.
``townsim report FOLDER`` renders it (:func:`build_posterior_compare_report`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from sim.calibration.posterior_compare import HEADLINE, VARIANCE_COLUMNS, PosteriorComparison
from sim.errors import SimError
from sim.figures.fonts import Language
from sim.figures.report_cells import Cell, Table
from sim.metrics.answer import decimals, fmt

__all__ = [
    "POSTERIOR_COMPARE_KIND",
    "build_posterior_compare_report",
    "is_posterior_compare_dir",
    "write_posterior_comparison",
]

#: Output kind in the folder's ownership marker.
POSTERIOR_COMPARE_KIND = "posterior-compare"
INPUTS = "posterior_compare.json"
TABLE = "comparison.csv"

#: Sentence names and units of the headline metrics (others are named by their summary path).
_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "burden_min.mean": {"en": ("mean burden per errand", " min"), "zh": ("每次办事平均耗时", "分钟")},
    "burden_min.p90": {
        "en": ("the 90th percentile of burden per errand", " min"),
        "zh": ("每次办事耗时的第90百分位数", "分钟"),
    },
    "trips_per_completed_errand": {"en": ("trips per errand", ""), "zh": ("每次办事出行次数", "次")},
    "queues_by_kind.hall.mean_wait_min": {
        "en": ("the mean wait at service halls", " min"),
        "zh": ("服务大厅平均等候时间", "分钟"),
    },
}


class _Heads(TypedDict):
    title: str
    about: str
    sentence: str
    few: str
    flat: str
    all: str
    answers: str
    table: str
    inputs: str
    cols: list[str]
    i_cols: list[str]


_HEADS: dict[str, _Heads] = {
    "en": {
        "title": "{b} vs {a} under the posterior of {posterior}",
        "about": "Both plans run at {draws} parameter draws from the calibration's posterior, with "
        "{reps} paired seeds per draw ({days} days each). The 95% intervals include parameter "
        "uncertainty; the variance of one run's difference B − A is split by the law of total "
        "variance into a parameter part (draw to draw) and a stochastic part (seed to seed).",
        "sentence": "{b} would change {name} by {x}{unit} (95% interval {low} to {high}{unit}, including "
        "parameter uncertainty); {share} of the variance of one run's difference comes from the parameters.",
        "few": "{b} would change {name} by {x}{unit} (too few draws for an interval).",
        "flat": "{b} would change {name} by {x}{unit} (95% interval {low} to {high}{unit}, including "
        "parameter uncertainty); the difference does not vary between runs.",
        "all": "Headline metrics; every metric is in {table} in the folder.",
        "answers": "Answer",
        "table": "Differences and the variance split",
        "inputs": "Inputs",
        "cols": [
            "metric",
            "draws",
            "B − A",
            "95% interval",
            "parameter variance",
            "stochastic variance",
            "parameter share",
        ],
        "i_cols": ["input", "value"],
    },
    "zh": {
        "title": "{b} 对比 {a}（后验 {posterior}）",
        "about": "两个方案均在校准后验的 {draws} 组参数抽样下运行，每组抽样 {reps} 个配对随机种子"
        "（各 {days} 天）。95%区间包含参数不确定性；单次运行差值 B − A 的方差按全方差公式分解为"
        "参数部分（抽样之间）与随机部分（种子之间）。",
        "sentence": "{b} 将使{name}改变 {x}{unit}（95%区间 {low} 至 {high}{unit}，含参数不确定性）；"
        "单次运行差值的方差中有 {share} 来自参数。",
        "few": "{b} 将使{name}改变 {x}{unit}（抽样太少，无区间）。",
        "flat": "{b} 将使{name}改变 {x}{unit}（95%区间 {low} 至 {high}{unit}，含参数不确定性）；"
        "该差值在各次运行间不变。",
        "all": "主要指标；全部指标见文件夹中的 {table}。",
        "answers": "结论",
        "table": "差值与方差分解",
        "inputs": "输入",
        "cols": ["指标", "抽样数", "B − A", "95%区间", "参数方差", "随机方差", "参数占比"],
        "i_cols": ["输入", "值"],
    },
}


def is_posterior_compare_dir(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by ``compare --posterior --out``."""
    return (Path(path) / INPUTS).is_file() and (Path(path) / TABLE).is_file()


def write_posterior_comparison(result: PosteriorComparison, out: Path, *, inputs: dict[str, Any]) -> Path:
    """Write the comparison folder by the ownership rule (staging, marker; only townsim's own
    folder of this kind is replaced).

    Raises:
        SimError: ``out`` exists and is not an unchanged posterior-comparison folder.
    """
    from sim.ownership import write_dir_owned

    def fill(tmp: Path) -> None:
        result.table.to_csv(tmp / TABLE, index=False)
        result.draws.to_parquet(tmp / "draws.parquet", index=False)
        result.per_draw.to_parquet(tmp / "per_draw.parquet", index=False)
        text = json.dumps({**inputs, "replications": result.replications}, indent=1, ensure_ascii=False)
        (tmp / INPUTS).write_text(text + "\n", encoding="utf-8")

    return write_dir_owned(out, POSTERIOR_COMPARE_KIND, fill)


def _places(row: dict[str, Any]) -> int:
    return decimals((float(row["ci_high"]) - float(row["ci_low"])) / 2, default=3)


def _share(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.0%}"


def _var(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.3g}"


def sentences(table: pd.DataFrame, label_b: str, lang: str) -> list[str]:
    """One sentence per headline metric present in ``table`` (rounded to the interval's precision)."""
    h = _HEADS[lang]
    t = {str(r["metric"]): {str(k): v for k, v in r.items()} for r in table.to_dict("records")}
    out = []
    for metric in [m for m in HEADLINE if m in t]:
        row = t[metric]
        name, unit = _NAMES[metric][lang]
        p = _places(row)
        words = {"b": label_b, "name": name, "unit": unit, "x": fmt(float(row["mean_diff"]), p, sign=True)}
        if math.isfinite(float(row["ci_low"])):
            low, high = fmt(float(row["ci_low"]), p), fmt(float(row["ci_high"]), p)
            share = float(row["share_parameter"])
            if math.isfinite(share):
                out.append(h["sentence"].format(**words, low=low, high=high, share=_share(share)))
            else:
                out.append(h["flat"].format(**words, low=low, high=high))
        else:
            out.append(h["few"].format(**words))
    return out


def build_posterior_compare_report(folder: str | Path, *, language: Language) -> dict[str, Any]:
    """Template context of a posterior comparison folder's report.

    Raises:
        SimError: the folder's files are missing or damaged.
    """
    folder = Path(folder)
    try:
        inputs = json.loads((folder / INPUTS).read_text(encoding="utf-8"))
        table = pd.read_csv(folder / TABLE)
        label_a, label_b = Path(inputs["scenario_a"]).stem, Path(inputs["scenario_b"]).stem
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SimError(f"{folder}: {INPUTS} or {TABLE} is missing or damaged ({exc})") from None
    missing = {"metric", "draws", *VARIANCE_COLUMNS} - set(table.columns)
    if missing:
        raise SimError(
            f"{folder}: {TABLE} lacks column {sorted(missing)[0]!r}; write it again with compare --out"
        )
    h = _HEADS[language.lang]
    rows = Table(h["cols"])
    headline = [m for m in HEADLINE if m in set(table["metric"])]
    order = headline or list(table["metric"][:5])
    t = {str(r["metric"]): {str(k): v for k, v in r.items()} for r in table.to_dict("records")}
    for metric in order:
        row = t[metric]
        p = _places(row)
        interval = f"{fmt(float(row['ci_low']), p)} to {fmt(float(row['ci_high']), p)}"
        if language.lang == "zh":
            interval = f"{fmt(float(row['ci_low']), p)} 至 {fmt(float(row['ci_high']), p)}"
        rows.rows.append(
            [
                Cell(str(metric), "code"),
                Cell(str(int(row["draws"])), "num"),
                Cell(fmt(float(row["mean_diff"]), p, sign=True), "num"),
                Cell(interval, "num"),
                Cell(_var(float(row["var_parameter"])), "num"),
                Cell(_var(float(row["var_stochastic"])), "num"),
                Cell(_share(float(row["share_parameter"])), "num"),
            ]
        )
    facts = Table(h["i_cols"])
    for key in ("scenario_a", "scenario_b", "posterior", "draws", "replications", "seed", "days"):
        facts.rows.append([Cell(key, "code"), Cell(str(inputs.get(key, "–")), "text")])
    return {
        "title": h["title"].format(
            a=label_a, b=label_b, posterior=Path(str(inputs.get("posterior", ""))).name
        ),
        "about": h["about"].format(
            draws=inputs.get("draws", "–"),
            reps=inputs.get("replications", "–"),
            days=inputs.get("days") or "–",
        ),
        "heads": h,
        "sentences": sentences(table, label_b, language.lang),
        "table": rows,
        "table_note": h["all"].format(table=TABLE),
        "inputs": facts,
    }
