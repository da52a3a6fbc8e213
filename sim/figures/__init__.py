"""Publication figures and self-contained HTML reports of run and sweep folders (zh/en)."""

from sim.figures.figset import FigureSet, write_figures
from sim.figures.fonts import Language, choose_language, find_cjk_font
from sim.figures.report import build_report, write_report
from sim.figures.runset import run_figures
from sim.figures.sweep import is_sweep_dir, sweep_figures

__all__ = [
    "FigureSet",
    "Language",
    "build_report",
    "choose_language",
    "find_cjk_font",
    "is_sweep_dir",
    "run_figures",
    "sweep_figures",
    "write_figures",
    "write_report",
]
