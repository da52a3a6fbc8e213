"""The report section of a calibration folder (``townsim report DIR``): parameters, waves, notes, figures."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, TypedDict

from sim.errors import SimError
from sim.figures.fonts import Language
from sim.figures.report_cells import Cell, Table

__all__ = ["build_calibration_report", "is_calibration_dir"]


class _Heads(TypedDict):
    """A language's headings and column names of the report section."""

    title: str
    about: str
    parameters: str
    waves: str
    notes: str
    figures: str
    p_cols: list[str]
    w_cols: list[str]


_HEADS: dict[str, _Heads] = {
    "en": {
        "title": "Calibration {name}",
        "about": "Records from {start} over {days} days; {runs} design runs in {waves} waves; "
        "{stats} statistics. Posterior medians with 90% intervals; never read a median alone.",
        "parameters": "Parameters",
        "waves": "History-matching waves",
        "notes": "Notes (identification, emulator trust)",
        "figures": "Figures",
        "p_cols": ["parameter", "prior range", "posterior median", "90% interval", "width vs prior 90%"],
        "w_cols": ["wave", "runs", "non-implausible share after", "median LOO RMS", "untrusted emulators"],
    },
    "zh": {
        "title": "校准 {name}",
        "about": "记录始于 {start}，共 {days} 天；{waves} 轮共 {runs} 次设计运行；{stats} 个统计量。"
        "后验中位数附90%区间。",
        "parameters": "参数",
        "waves": "历史匹配各轮",
        "notes": "说明（可识别性、仿真器可信度）",
        "figures": "图",
        "p_cols": ["参数", "先验范围", "后验中位数", "90%区间", "区间宽度/先验90%宽度"],
        "w_cols": ["轮次", "运行数", "剩余可信空间比例", "留一误差RMS中位数", "不可信的仿真器"],
    },
}


def is_calibration_dir(path: str | Path) -> bool:
    """Whether ``path`` is a finished calibration folder."""
    return (Path(path) / "calibration.json").is_file() and (Path(path) / "posterior.parquet").is_file()


def _g(x: float) -> str:
    return f"{x:.4g}"


def build_calibration_report(folder: str | Path, *, language: Language) -> dict[str, Any]:
    """Template context of a calibration report (figures read from ``DIR/figures/<lang>``).

    Raises:
        SimError: not a finished calibration folder.
    """
    folder = Path(folder)
    try:
        summary = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SimError(f"{folder}: calibration.json is missing or damaged ({exc})") from None
    h = _HEADS[language.lang]
    params = Table(h["p_cols"])
    for name, p in summary["parameters"].items():
        low, high = p["prior"]["range"]
        params.rows.append(
            [
                Cell(name, "code"),
                Cell(f"[{_g(low)}, {_g(high)}] {p['prior']['dist']}", "num"),
                Cell(_g(p["posterior_median"]), "num"),
                Cell(f"[{_g(p['posterior_q05'])}, {_g(p['posterior_q95'])}]", "num"),
                Cell(f"{p['width_vs_prior_90']:.0%}", "num"),
            ]
        )
    waves = Table(h["w_cols"])
    for w in summary["waves"]:
        share = w.get("space_share_after")
        waves.rows.append(
            [
                Cell(str(w["wave"]), "num"),
                Cell(str(w["runs"]), "num"),
                Cell("–" if share is None else f"{share:.1%}", "num"),
                Cell(_g(w["loo_rms_median"]), "num"),
                Cell(", ".join(w["untrusted_statistics"][:5]) or "–", "text"),
            ]
        )
    figures = []
    figure_dir = folder / "figures" / language.lang
    for i, name in enumerate(("posterior_pairs", "implausibility_by_wave", "predictive_check"), start=1):
        png = figure_dir / f"{name}.png"
        if png.is_file():
            data = base64.b64encode(png.read_bytes()).decode("ascii")
            figures.append({"name": name, "alt": name, "data": data, "number": f"{i}.", "caption": name})
    runs = sum(int(w["runs"]) for w in summary["waves"])
    return {
        "title": h["title"].format(name=summary["name"]),
        "about": h["about"].format(
            start=summary["start_date"],
            days=summary["days"],
            runs=runs,
            waves=len(summary["waves"]),
            stats=summary["statistics"]["used"],
        ),
        "heads": h,
        "parameters": params,
        "waves": waves,
        "notes": summary.get("notes", []),
        "figures": figures,
    }
