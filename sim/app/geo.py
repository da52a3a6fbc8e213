"""Map data for the page: roads and ferries, villages, facilities and lines, in km (x east, y north)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.figures.labels import TEXT as LABELS
from sim.scenario.schema import Scenario
from sim.world.world import FACILITY_KINDS, World

__all__ = ["facility_name", "land_rings", "map_data"]


def facility_name(scenario: Scenario, fid: str, lang: str) -> str:
    """A facility's own name in ``lang``, else its township and kind (e.g. "East Service hall")."""
    fac = scenario.facilities[fid]
    own = fac.zh if lang == "zh" else fac.en
    if own:
        return own
    unit = scenario.units[fac.unit]
    kind = LABELS.get(f"kind_{fac.kind}", {}).get(lang, fac.kind)
    return LABELS["facility_name"][lang].format(unit=unit.zh if lang == "zh" else unit.en, kind=kind)


def _r(x: float) -> float:
    return round(float(x), 3)


def _stop_xy(world: World, stop: Any) -> list[float] | None:
    """Coordinates of a line stop (village id, ``seat:<unit>``, facility id or [x, y]); None if unknown."""
    if isinstance(stop, list | tuple):
        return [_r(stop[0]), _r(stop[1])]
    name = str(stop)
    if name in world.fac_ids:
        node = int(world.fac_node[world.fac_ids.index(name)])
    elif name in world.nodes:
        node = world.nodes.index(name)
    else:
        return None
    return [_r(world.node_xy[node, 0]), _r(world.node_xy[node, 1])]


def _line(world: World, lid: str, spec: Mapping[str, Any], *, candidate: bool) -> dict[str, Any]:
    points = [p for p in (_stop_xy(world, s) for s in spec.get("stops", [])) if p is not None]
    return {
        "id": lid,
        "zh": spec.get("zh") or spec.get("en") or lid,
        "en": spec.get("en") or spec.get("zh") or lid,
        "kind": spec.get("kind", "bus"),
        "candidate": candidate,
        "points": points,
    }


def map_data(world: World, scenario: Scenario, candidates: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Everything the page draws: edges, villages, facilities, base lines and candidate lines.

    Lines are drawn as straight segments between their listed stops (a line ``along_road`` follows
    the roads between them in the model).
    """
    xy = world.node_xy
    e = world.edges  # one row per physical road or ferry edge
    bends = [() if b is None else b for b in e.bends]
    edges = [  # x0, y0, x1, y1, class, the bends of a road that follows the land ([] if straight)
        [_r(xy[u, 0]), _r(xy[u, 1]), _r(xy[v, 0]), _r(xy[v, 1]), str(c), [[_r(x), _r(y)] for x, y in b]]
        for u, v, c, b in zip(e.u.tolist(), e.v.tolist(), e.road_class.tolist(), bends, strict=True)
    ]
    pop = world.village_pop.sum(axis=1)
    villages = [
        {
            "id": vid,
            "x": _r(xy[world.village_node[i], 0]),
            "y": _r(xy[world.village_node[i], 1]),
            "pop": int(pop[i]),
            "unit": world.unit_ids[world.village_unit[i]],
        }
        for i, vid in enumerate(world.village_ids)
    ]
    facilities = [
        {
            "id": fid,
            "kind": FACILITY_KINDS[world.fac_kind[i]],
            "x": _r(xy[world.fac_node[i], 0]),
            "y": _r(xy[world.fac_node[i], 1]),
            "zh": facility_name(scenario, fid, "zh"),
            "en": facility_name(scenario, fid, "en"),
            "servers": int(world.fac_servers[i]),
            "unit": world.unit_ids[world.fac_unit[i]],
        }
        for i, fid in enumerate(world.fac_ids)
        if FACILITY_KINDS[world.fac_kind[i]] != "school"
    ]
    units = {
        u: {
            "zh": world.unit_zh[i],
            "en": world.unit_en[i],
            "x": _r(xy[world.unit_seat_node[i], 0]),
            "y": _r(xy[world.unit_seat_node[i], 1]),
        }
        for i, u in enumerate(world.unit_ids)
    }
    transit = scenario.transit
    lines = [
        _line(world, lid, line.model_dump(), candidate=False)
        for lid, line in (transit.lines if transit else {}).items()
    ]
    lines += [_line(world, lid, spec, candidate=True) for lid, spec in candidates.items()]
    return {
        "edges": edges,
        "villages": villages,
        "facilities": facilities,
        "units": units,
        "lines": lines,
        "land": land_rings(scenario),
    }


#: Most outline points sent to the page (rings thinned evenly beyond this).
MAX_LAND_POINTS = 6000


def land_rings(scenario: Scenario) -> list[list[list[float]]]:
    """The scenario's coastline (its ``outline``) as rings of [x, y] km, thinned to at most
    :data:`MAX_LAND_POINTS` points in all; empty without an outline."""
    if scenario.outline is None:
        return []
    from sim.world.outline import outline_rings_km

    origin = scenario.transit.origin_latlon if scenario.transit is not None else (25.5, 119.75)
    rings = outline_rings_km(Path(scenario.outline), crs=scenario.crs, origin_latlon=origin)
    total = sum(len(r) for r in rings)
    step = max(1, -(-total // MAX_LAND_POINTS))
    return [[[_r(x), _r(y)] for x, y in ring[::step]] for ring in rings if len(ring[::step]) >= 3]
