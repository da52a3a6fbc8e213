"""The ``lines`` layer of ``townsim gis``: one LineString per bus or ferry line of the scenario,
through its stops (along the road path for ``along_road`` bus lines, as maps draw them), with its
names, mode, timetable, fare, capacity and the boardings the run counted (a GTFS feed's routes:
:mod:`sim.gis.feed_lines`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.figures.geometry import line_paths
from sim.scenario.transit import Line

__all__ = ["LINE_COLUMNS", "lines_table"]

#: Attribute columns of the layer, in order (geometry added by the caller).
LINE_COLUMNS = (
    "id",
    "zh",
    "en",
    "mode",
    "stops",
    "n_stops",
    "length_km",
    "departures_per_day",
    "first_departure",
    "last_departure",
    "headway_min",
    "departures",
    "both_directions",
    "days",
    "fare_yuan",
    "capacity",
    "boardings_per_day",
    "source",
    "in_service",
    "geometry_from",
)


def _clock(minute: float) -> str:
    return f"{int(minute) // 60:02d}:{int(minute) % 60:02d}"


def _stop_name(stop: Any) -> str:
    return f"[{stop[0]}, {stop[1]}]" if isinstance(stop, list | tuple) else str(stop)


def lines_table(
    scenario: Mapping[str, Any],
    places: pd.DataFrame,
    edges: pd.DataFrame,
    line_loads: pd.DataFrame | None,
    days: int,
) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Attributes (``LINE_COLUMNS``) and polylines (k x 2, km) of the scenario's own transit lines.

    ``departures_per_day`` counts departures from the first stop on a service day (the same again
    from the last stop when ``both_directions``); ``headway_min`` is empty for a list of
    departures; ``boardings_per_day`` is the run's boardings (both directions) over its ``days``
    measured days, weekends included. Routes of a GTFS feed are added by
    :func:`sim.gis.feed_lines.feed_lines_table`.
    """
    raw = ((scenario.get("transit") or {}).get("lines")) or {}
    paths = line_paths(scenario.get("transit"), places, edges)
    boardings: pd.Series = pd.Series(dtype=float)
    if line_loads is not None and len(line_loads) and days > 0:
        boardings = line_loads.groupby(line_loads["line"].astype(str))["boardings"].sum() / days
    rows, shapes = [], []
    for lid, spec in raw.items():
        if str(lid) not in paths or not isinstance(spec, Mapping):
            continue
        line = Line.model_validate(spec)
        xy = paths[str(lid)][1]
        times = line.departure_min()
        rows.append(
            {
                "id": str(lid),
                "zh": line.zh,
                "en": line.en,
                "mode": line.kind,
                "stops": " > ".join(_stop_name(s) for s in line.stops),
                "n_stops": len(line.stops),
                "length_km": float(np.hypot(*np.diff(xy, axis=0).T).sum()),
                "departures_per_day": len(times),
                "first_departure": _clock(times[0]) if times else None,
                "last_departure": _clock(times[-1]) if times else None,
                "headway_min": float(line.headway.every_min) if line.headway is not None else np.nan,
                "departures": " ".join(_clock(t) for t in times),
                "both_directions": line.both_directions,
                "days": " ".join(line.days),
                "fare_yuan": line.fare_yuan,
                "capacity": line.capacity,
                "boardings_per_day": float(boardings.get(str(lid), 0.0)),
                "source": line.source,
                "in_service": bool(times),
                "geometry_from": "road path between stops" if line.along_road else "straight between stops",
            }
        )
        shapes.append(xy)
    return pd.DataFrame(rows, columns=list(LINE_COLUMNS)), shapes
