"""Edge shapes in run tables: the points between an edge's ends as text (``"x y;x y"``, km), so
the ``edges`` table keeps them in Parquet and CSV alike; an empty text is a straight edge."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["bends_text", "edge_polylines"]


def bends_text(points: np.ndarray | None) -> str:
    """``"x y;x y"`` (km, 4 decimals) of an edge's inner points; "" for a straight edge."""
    if points is None or not len(points):
        return ""
    return ";".join(f"{x:.4f} {y:.4f}" for x, y in np.asarray(points, dtype=float).reshape(-1, 2))


def edge_polylines(edges: pd.DataFrame) -> list[np.ndarray]:
    """Each edge row as a (k, 2) km polyline from (x0_km, y0_km) through its ``bends_km`` to
    (x1_km, y1_km); tables without the column (older runs) give straight segments."""
    ends = edges[["x0_km", "y0_km", "x1_km", "y1_km"]].to_numpy(float).reshape(-1, 2, 2)
    texts = edges["bends_km"] if "bends_km" in edges.columns else pd.Series([""] * len(edges))
    out = []
    for (start, end), text in zip(ends, texts.tolist(), strict=True):
        inner = [] if not isinstance(text, str) or not text.strip() else text.split(";")
        mid = np.array([p.split() for p in inner], dtype=float).reshape(-1, 2)
        out.append(np.vstack([start, mid, end]))
    return out
