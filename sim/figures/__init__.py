"""Publication figures and self-contained HTML reports of run and sweep folders (zh/en).

Names are imported on first use (``townsim --help`` must not load matplotlib).
"""

from sim.lazy import lazy_exports

_EXPORTS = {
    "FigureSet": "sim.figures.figset",
    "Language": "sim.figures.fonts",
    "build_report": "sim.figures.report",
    "choose_language": "sim.figures.fonts",
    "find_cjk_font": "sim.figures.fonts",
    "is_sweep_dir": "sim.figures.sweep",
    "run_figures": "sim.figures.runset",
    "sweep_figures": "sim.figures.sweep",
    "write_figures": "sim.figures.figset",
    "write_report": "sim.figures.report",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
