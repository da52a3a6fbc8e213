"""Text placement with the renderer: bounding boxes of every drawn text, overlaps, and a greedy
nudge of map labels away from texts already placed."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

__all__ = ["declutter", "overlapping_texts", "text_boxes"]

#: Offsets (points) tried in turn for a label that overlaps: rings of 8 directions.
_OFFSETS = [(0.0, 0.0)] + [
    (r * dx, r * dy)
    for r in (6, 10, 15, 21)
    for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
]


def _visible(text: Text) -> bool:
    return (
        bool(text.get_text().strip())
        and text.get_visible()
        and text.get_alpha() != 0
        and (text.axes is None or text.axes.get_visible())
    )


def _renderer(fig: Figure) -> RendererAgg:
    """Draw ``fig`` with Agg (attaching an Agg canvas to a bare Figure) and return the renderer."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def text_boxes(fig: Figure) -> list[tuple[Text, Bbox]]:
    """Every text the renderer actually draws in ``fig`` (titles, labels, ticks inside the view,
    legends, annotations), with its bounding box in display pixels."""
    drawn: list[tuple[Text, Bbox]] = []
    original = Text.draw

    def record(self: Text, renderer: RendererBase) -> None:
        original(self, renderer)
        if _visible(self):
            box = self.get_window_extent(renderer)
            if np.isfinite(box.get_points()).all() and box.width > 0 and box.height > 0:
                drawn.append((self, box))

    Text.draw = record  # type: ignore[method-assign,assignment]
    try:
        _renderer(fig)
    finally:
        Text.draw = original  # type: ignore[method-assign]
    return drawn


def _overlap(a: Bbox, b: Bbox, tolerance: float) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance


def overlapping_texts(fig: Figure, *, tolerance_px: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes overlap by more than ``tolerance_px`` in both directions."""
    boxes = text_boxes(fig)
    return [
        (a.get_text(), b.get_text())
        for (a, ba), (b, bb) in itertools.combinations(boxes, 2)
        if _overlap(ba, bb, tolerance_px)
    ]


def declutter(
    fig: Figure,
    labels: Sequence[Annotation],
    *,
    fixed: Iterable[Text] = (),
    obstacles: Callable[[], list[Bbox]] | None = None,
) -> None:
    """Move each label (an annotation in offset points) to the first offset at which it overlaps no
    text placed before it, no ``fixed`` text and no box from ``obstacles`` (display pixels, asked
    after the draw, e.g. markers); a label that fits nowhere is hidden, never overlapped."""
    renderer = _renderer(fig)
    placed = [t.get_window_extent(renderer) for t in fixed if _visible(t)]
    placed += obstacles() if obstacles is not None else []
    for label in labels:
        base = label.xyann
        for dx, dy in _OFFSETS:
            label.xyann = (base[0] + dx, base[1] + dy)
            box = label.get_window_extent(renderer)
            if not any(_overlap(box, other, 0.0) for other in placed):
                placed.append(box)
                break
        else:
            label.set_visible(False)
