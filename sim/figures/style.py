"""One figure style: journal column widths, fonts, colour-blind-safe palettes, vector-friendly output."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")

from cycler import cycler
from matplotlib.figure import Figure

from sim.figures.fonts import Language

__all__ = [
    "COLUMN_IN",
    "DIVERGING_CMAP",
    "DOUBLE_IN",
    "KIND_MARKERS",
    "OKABE_ITO",
    "QUEUE_CMAP",
    "SEQUENTIAL_CMAP",
    "figure_style",
    "footnote",
    "kind_colour",
    "new_figure",
    "rc_params",
    "series_styles",
]

COLUMN_IN = 3.5  # single journal column (in)
DOUBLE_IN = 7.2  # full page width (in)

#: Okabe & Ito (2008) palette, distinguishable with the common colour-vision deficiencies.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SEQUENTIAL_CMAP = "viridis"
QUEUE_CMAP = "cividis"
DIVERGING_CMAP = "RdBu_r"  # ColorBrewer RdBu: colour-blind safe; red = longer
KIND_MARKERS = {"clinic": "P", "hall": "s", "service_point": "D", "school": "^"}
_KIND_ORDER = ("clinic", "hall", "service_point", "school")
_LINESTYLES = ("-", "--", ":", "-.")
_SERIES_COLOURS = OKABE_ITO[:6]  # yellow is too faint for thin lines, black is kept for reference lines


def rc_params(language: Language) -> dict[str, Any]:
    """matplotlib rcParams of the house style (8 pt text, thin lines, embedded fonts)."""
    sans = [language.font, "DejaVu Sans"] if language.font else ["DejaVu Sans"]
    return {
        "font.family": "sans-serif",
        "font.sans-serif": sans,
        "font.size": 8,
        "axes.titlesize": 8,
        "axes.labelsize": 8,
        "xtick.labelsize": 7,
        "ytick.labelsize": 7,
        "legend.fontsize": 7,
        "legend.frameon": False,
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=OKABE_ITO),
        "lines.linewidth": 1.1,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "axes.unicode_minus": language.font is None,
        "figure.dpi": 100,
        "savefig.dpi": 300,
        "savefig.bbox": "tight",
        "savefig.pad_inches": 0.02,
        "pdf.fonttype": 42,  # TrueType: text stays text (editable, searchable) in PDF
        "ps.fonttype": 42,
        "svg.fonttype": "path",  # SVG needs no fonts on the reader's machine
        "image.cmap": SEQUENTIAL_CMAP,
        "text.parse_math": False,  # names are text: a "$" in a unit name is not TeX
    }


@contextmanager
def figure_style(language: Language) -> Iterator[None]:
    """Apply the house style (and the CJK font for zh) while drawing or saving figures."""
    with matplotlib.rc_context(rc_params(language)):  # type: ignore[arg-type]
        yield


def new_figure(
    *, width: str = "single", height_in: float | None = None, **subplots: Any
) -> tuple[Figure, Any]:
    """A constrained-layout Figure at a journal width ("single" 3.5 in, "double" 7.2 in) and its axes."""
    width_in = COLUMN_IN if width == "single" else DOUBLE_IN
    fig = Figure(figsize=(width_in, height_in or width_in * 0.75), layout="constrained")
    axes = fig.subplots(**subplots)
    return fig, axes


def footnote(fig: Figure, text: str, *, fontsize: float = 6.0) -> None:
    """A note under the figure, wrapped to its width; constrained layout makes room for it."""
    per_line = int(fig.get_figwidth() * 72 / (fontsize * (1.0 if _cjk(text) else 0.52)))
    wrapped = (
        "\n".join(textwrap.wrap(text, max(per_line, 20)))
        if not _cjk(text)
        else "\n".join(text[i : i + per_line] for i in range(0, len(text), per_line))
    )
    fig.supxlabel(wrapped, x=0.0, ha="left", fontsize=fontsize, color="#525252")


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def series_styles(n: int) -> list[dict[str, str]]:
    """``n`` distinct colour + line-style pairs (Okabe-Ito colours first, then line styles)."""
    combos = itertools.product(_LINESTYLES, _SERIES_COLOURS)
    return [{"linestyle": ls, "color": c} for ls, c in itertools.islice(combos, n)]


def kind_colour(kind: str) -> str:
    """Fixed colour of a facility kind."""
    return OKABE_ITO[_KIND_ORDER.index(kind)] if kind in _KIND_ORDER else OKABE_ITO[7]
