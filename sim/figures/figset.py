"""A named set of figures in one language, and its atomic export to PNG, PDF and SVG files."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from sim.errors import SimError
from sim.figures.fonts import Language
from sim.figures.style import figure_style
from sim.ownership import check_replaceable, commit_dir, output_lock, staged_dir, write_marker

__all__ = ["FORMATS", "MANIFEST", "FigureSet", "figure_bytes", "parse_formats", "write_figures"]

FORMATS = ("png", "pdf", "svg")
MANIFEST = "figures.json"


@dataclass
class FigureSet:
    """Figures drawn from one run or sweep folder.

    Attributes:
        source: the folder the figures were drawn from.
        language: the language they are drawn in.
        figures: file stem -> Figure, in reading order.
        captions: file stem -> one-sentence caption (same language).
        skipped: figure name -> why it was not drawn (e.g. "no transit in this run").
    """

    source: Path
    language: Language
    figures: dict[str, Figure] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def parse_formats(spec: str) -> tuple[str, ...]:
    """Formats from a comma-separated list such as "png,pdf,svg".

    Raises:
        SimError: an unknown or empty format.
    """
    formats = tuple(dict.fromkeys(f.strip().lower() for f in spec.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise SimError(
            f"unknown figure format(s) {', '.join(unknown) or repr(spec)}; expected any of: "
            f"{','.join(FORMATS)}"
        )
    return formats


def figure_bytes(figure: Figure, fmt: str, *, language: Language) -> bytes:
    """One figure rendered to ``fmt`` (png at 300 dpi; pdf and svg as vector graphics)."""
    buffer = io.BytesIO()
    with figure_style(language):
        figure.savefig(buffer, format=fmt, metadata=_metadata(fmt))
    return buffer.getvalue()


def _metadata(fmt: str) -> dict[str, str | None]:
    if fmt == "png":
        return {"Software": "townsim"}
    if fmt == "pdf":
        return {"Creator": "townsim", "CreationDate": None}  # no timestamp: same input, same bytes
    return {"Creator": "townsim", "Date": None}


def write_figures(figset: FigureSet, out: str | Path, *, formats: tuple[str, ...] = FORMATS) -> Path:
    """Write every figure in every format, plus ``figures.json`` (language, captions, skipped figures).

    Files go to a temporary sibling folder renamed into place, so a failure leaves nothing
    half-written. An existing figures folder at ``out`` is replaced only if townsim wrote it and
    nothing was added since (:mod:`sim.ownership`); any other path is refused.

    Raises:
        SimError: ``out`` exists and is not an unchanged figures folder written by townsim.
    """
    out = Path(out)
    with output_lock(out):
        check_replaceable(out, "figures")
        with staged_dir(out) as tmp:
            for name, figure in figset.figures.items():
                for fmt in formats:
                    (tmp / f"{name}.{fmt}").write_bytes(figure_bytes(figure, fmt, language=figset.language))
            manifest = {
                "source": str(figset.source),
                "lang": figset.language.lang,
                "font": figset.language.font,
                "note": figset.language.note,
                "formats": list(formats),
                "figures": {name: figset.captions.get(name, "") for name in figset.figures},
                "skipped": figset.skipped,
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            write_marker(tmp, "figures")
            commit_dir(tmp, out)
    return out
