"""Figures of a calibration (zh and en): posterior pairs, implausibility by wave, predictive check."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from sim.figures.figset import FigureSet, write_figures
from sim.figures.fonts import LANGS, Language, choose_language
from sim.figures.style import OKABE_ITO, figure_style, footnote, new_figure

if TYPE_CHECKING:
    from sim.calibration.engine import CalibrationState

__all__ = ["calibration_figures", "write_calibration_figures"]

_TEXT = {
    "pairs": {"en": "Posterior of the calibrated parameters", "zh": "校准参数的后验分布"},
    "pairs_note": {
        "en": "Diagonal: weighted posterior histogram (grey: prior range). Off-diagonal: posterior draws.",
        "zh": "对角线：加权后验直方图（灰色为先验范围）；其余：后验抽样点。",
    },
    "wave": {"en": "Implausibility of the design points, by wave", "zh": "各轮设计点的不可信度"},
    "wave_note": {
        "en": "k-th largest implausibility of each run of each wave under that wave's emulator; "
        "the dashed line is the cut-off.",
        "zh": "每轮每次运行在该轮仿真器下的第k大不可信度；虚线为截断值。",
    },
    "wave_axis": {"en": "wave", "zh": "轮次"},
    "impl_axis": {"en": "implausibility", "zh": "不可信度"},
    "check": {"en": "Posterior predictive check of every statistic", "zh": "各统计量的后验预测检验"},
    "check_note": {
        "en": "Bars: 90% band of runs at posterior draws, centred on their median and scaled by the "
        "observation standard deviation; dots: observed value (red: outside the band widened by the "
        "observation error).",
        "zh": "横条：后验抽样运行的90%区间（以其中位数为中心，按观测标准差标准化）；"
        "圆点：观测值（红色：超出加上观测误差后的区间）。",
    },
    "check_axis": {
        "en": "(value - simulated median) / observation sd",
        "zh": "（值 − 模拟中位数）/ 观测标准差",
    },
}


def _t(key: str, lang: Language) -> str:
    return _TEXT[key][lang.lang]


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1] if len(name) > 28 else name


def posterior_pairs(state: CalibrationState, lang: Language) -> Figure:
    """Pairs plot of posterior draws with weighted histograms on the diagonal."""
    assert state.posterior is not None
    names = list(state.cal.calibration.parameters)
    k = len(names)
    fig, axes = new_figure(width="double", height_in=1.6 * k + 0.6, nrows=k, ncols=k, squeeze=False)
    w = state.posterior["weight"].to_numpy()
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = axes[i][j]
            spec_x = state.cal.calibration.parameters[xj]
            if i == j:
                ax.hist(state.posterior[xj], bins=30, weights=w, color=OKABE_ITO[0])
                if spec_x.range:
                    ax.axvspan(*spec_x.range, color="#d9d9d9", zorder=0)
            elif i > j:
                ax.scatter(state.posterior[xj], state.posterior[yi], s=2, alpha=0.3, color=OKABE_ITO[0], lw=0)
            else:
                ax.set_axis_off()
                continue
            if i == k - 1:
                ax.set_xlabel(_short(xj))
            if j == 0 and i != j:
                ax.set_ylabel(_short(yi))
    fig.suptitle(_t("pairs", lang))
    footnote(fig, _t("pairs_note", lang))
    return fig


def implausibility_by_wave(state: CalibrationState) -> tuple[list[int], list[np.ndarray]]:
    """Per wave: the k-th largest implausibility of its design points under its own emulator."""
    assert state.design is not None
    names = list(state.cal.calibration.parameters)
    waves, values = [], []
    for number, wave in enumerate(state.waves, start=1):
        x = state.design.loc[state.design["wave"] == number, names].to_numpy()
        if len(x):
            waves.append(number)
            values.append(wave.measure(x))
    return waves, values


def implausibility_figure(state: CalibrationState, lang: Language) -> Figure:
    """Strip plot of each wave's implausibilities and the cut-off."""
    fig, ax = new_figure()
    waves, values = implausibility_by_wave(state)
    rng = np.random.default_rng(0)
    for number, v in zip(waves, values, strict=True):
        ax.scatter(number + rng.uniform(-0.2, 0.2, len(v)), v, s=4, color=OKABE_ITO[0], lw=0)
    ax.axhline(state.cal.calibration.method.cutoff, ls="--", color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(waves)
    ax.set_xlabel(_t("wave_axis", lang))
    ax.set_ylabel(_t("impl_axis", lang))
    ax.set_title(_t("wave", lang))
    footnote(fig, _t("wave_note", lang))
    return fig


def predictive_figure(state: CalibrationState, lang: Language) -> Figure:
    """Every statistic's observed value against the 90% band of posterior predictive runs."""
    from sim.calibration.tables import predictive_table

    table = predictive_table(state)
    n = len(table)
    fig, ax = new_figure(width="double", height_in=min(0.12 * n + 1.2, 40.0))
    sd = table["observation_sd"].to_numpy()
    mid = table["simulated_median"].to_numpy()
    low = (table["simulated_q05"].to_numpy() - mid) / sd
    high = (table["simulated_q95"].to_numpy() - mid) / sd
    obs = (table["observed"].to_numpy() - mid) / sd
    y = np.arange(n)
    ax.hlines(y, low, high, color="#969696", lw=2)
    inside = table["inside_90"].to_numpy()
    ax.scatter(obs[inside], y[inside], s=6, color=OKABE_ITO[0], zorder=3)
    ax.scatter(obs[~inside], y[~inside], s=6, color=OKABE_ITO[5], zorder=3)
    ax.set_yticks(y, table["statistic"], fontsize=max(3.0, min(6.0, 400 / max(n, 1))))
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.5)
    ax.set_xlabel(_t("check_axis", lang))
    ax.set_title(_t("check", lang))
    footnote(fig, _t("check_note", lang))
    return fig


def calibration_figures(state: CalibrationState, folder: Path, lang: Language) -> FigureSet:
    """The three figures of a calibration in one language."""
    figset = FigureSet(source=folder, language=lang)
    with figure_style(lang):
        figset.figures["posterior_pairs"] = posterior_pairs(state, lang)
        figset.figures["implausibility_by_wave"] = implausibility_figure(state, lang)
        figset.figures["predictive_check"] = predictive_figure(state, lang)
    figset.captions = {
        "posterior_pairs": _t("pairs", lang),
        "implausibility_by_wave": _t("wave", lang),
        "predictive_check": _t("check", lang),
    }
    return figset


def write_calibration_figures(state: CalibrationState, out: Path) -> None:
    """Write ``out/en`` and ``out/zh`` (English with a note when no CJK font is installed), PNG and PDF."""
    out.mkdir(exist_ok=True)
    for code in LANGS:
        figset = calibration_figures(state, out.parent, choose_language(code))
        write_figures(figset, out / code, formats=("png", "pdf"))
