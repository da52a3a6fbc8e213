"""Figure: the paired change of mean burden per errand by former township × age band, with intervals."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from sim.figures.labels import Labeller
from sim.figures.style import footnote, new_figure
from sim.metrics.answer import decimals, fmt, group_name, group_order

__all__ = ["CAPTION", "SKIP", "unit_age_change"]

TEXT = {
    "title": {
        "en": "Change in mean burden per errand (min): {run} − {other}",
        "zh": "每次办事平均耗时变化（分钟）：{run} − {other}",
    },
    "note": {
        "en": "Under each value its 95% interval over the paired seeds; grey cells: the interval includes 0.",
        "zh": "数值下方为配对随机种子上的95%置信区间；灰色：区间包含0。",
    },
    "age": {"en": "Age band (years)", "zh": "年龄组（岁）"},
    "unit": {"en": "min per errand (interval excludes 0)", "zh": "每次办事分钟数（区间不含0）"},
}

CAPTION = {
    "en": "Paired change in mean door-to-door minutes per completed errand, by former township (rows) "
    "and age band (columns), with its 95% interval; blue shorter, red longer, grey where the interval "
    "includes 0. Reproduce the table: townsim compare OTHER RUN --by former_unit,age_band.",
    "zh": "按原乡镇（行）和年龄组（列）的每次办事平均门到门耗时配对变化及其95%置信区间；"
    "蓝色缩短，红色增加，灰色为区间包含0。复现此表：townsim compare OTHER RUN --by former_unit,age_band。",
}


SKIP = {
    "en": "needs runs with cell tables (townsim run of this version)",
    "zh": "需要含分组单元表的运行结果（用本版本 townsim run 重新运行）",
}


def unit_age_change(crossed: pd.DataFrame, *, labels: Labeller, run: str, other: str) -> Figure:
    """A heat table of ``crossed`` (rows of ``crossed_difference`` for ``burden_min.mean`` by
    ``former_unit`` and ``age_band``): cells coloured by the change where its 95% interval excludes
    0, each with its value and interval rounded to the interval's precision."""
    lang = labels.lang
    units = list(dict.fromkeys(group_order(crossed, ["former_unit"])["former_unit"]))
    bands = list(dict.fromkeys(group_order(crossed, ["age_band"])["age_band"]))
    table = crossed.set_index(["former_unit", "age_band"])
    values = np.full((len(units), len(bands)), np.nan)
    for i, u in enumerate(units):
        for j, b in enumerate(bands):
            if (u, b) in table.index:
                r = table.loc[(u, b)]
                if r["n"] >= 2 and (r["ci_low"] > 0 or r["ci_high"] < 0):
                    values[i, j] = r["diff"]
    top = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    fig, ax = new_figure(width="double", height_in=1.2 + 0.32 * len(units))
    shown = np.ma.masked_invalid(values)
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#eeeeee")
    image = ax.imshow(shown, cmap=cmap, norm=TwoSlopeNorm(0, -top, top), aspect="auto")
    for i, u in enumerate(units):
        for j, b in enumerate(bands):
            if (u, b) not in table.index:
                continue
            r = table.loc[(u, b)]
            places = decimals((r["ci_high"] - r["ci_low"]) / 2, default=2)
            text = fmt(r["diff"], places, sign=True)
            if r["n"] >= 2 and np.isfinite(r["ci_low"]):
                text += f"\n[{fmt(r['ci_low'], places)}, {fmt(r['ci_high'], places)}]"
            strong = np.isfinite(values[i, j]) and abs(values[i, j]) > 0.6 * top
            ax.text(j, i, text, ha="center", va="center", fontsize=5.5, color="white" if strong else "black")
    ax.set_xticks(np.arange(len(bands)), bands, fontsize=6)
    ax.set_yticks(np.arange(len(units)), [group_name("former_unit", u, labels) for u in units], fontsize=6)
    ax.set_xlabel(TEXT["age"][lang], fontsize=7)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.ax.tick_params(labelsize=6)
    bar.set_label(TEXT["unit"][lang], fontsize=6)
    fig.suptitle(TEXT["title"][lang].format(run=run, other=other), fontsize=8)
    footnote(fig, TEXT["note"][lang])
    return fig
