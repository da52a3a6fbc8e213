"""The World: units, villages, network and facilities after the merger plan, as arrays."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order

from sim.errors import ScenarioError
from sim.scenario.load import LoadedScenario
from sim.scenario.schema import WEEKDAYS, Facility, Hours, ServiceTime, clock_to_min
from sim.world.land import Land
from sim.world.network import RoadEdges, ferry_edges, generated_roads, read_road_file, read_road_nodes
from sim.world.outline import outline_polygons_km

__all__ = ["BASE_KINDS", "FACILITY_KINDS", "World", "build_world"]

FACILITY_KINDS = ("school", "clinic", "hall", "service_point", "village_clinic", "hospital")
#: A village further than this off the outline's land means the outline is of another place (km).
OFF_LAND_KM = 2.0
#: Kinds every scenario has in its tables' categories; the health tiers' kinds are added where present.
BASE_KINDS = 4


@dataclass(frozen=True)
class World:
    """Everything static a run needs, in index order (numpy arrays, one row per item).

    Units are the *former* townships; ``unit_new`` maps each to the unit it belongs to after the
    merger plan (itself when not merged). Facilities closed by the plan are absent. Compiled once
    from the scenario by ``build_world``; routing, transit, population and schools read it (plus the
    scenario blocks they need, passed to them) and never the loaded scenario through it.
    """

    crs: str | None  # projected CRS of x, y (km of its metres); None: the scenario's own plane
    edges: RoadEdges  # one row per physical road or ferry edge (node indices)
    nodes: list[str]
    node_xy: np.ndarray  # (nodes, 2) km
    age_bands: tuple[str, ...]
    unit_ids: list[str]
    unit_zh: list[str]
    unit_en: list[str]
    unit_island: np.ndarray  # bool: not on the main island
    unit_seat_node: np.ndarray
    unit_new: np.ndarray  # former unit -> new unit index
    new_unit_ids: list[str]
    new_unit_zh: list[str]
    new_unit_en: list[str]
    village_ids: list[str]
    village_node: np.ndarray
    village_unit: np.ndarray
    village_pop: np.ndarray  # (villages, bands) int
    services: list[str]
    service_group: np.ndarray  # service -> group index
    groups: list[str]
    fac_ids: list[str]
    fac_kind: np.ndarray  # index into FACILITY_KINDS
    fac_node: np.ndarray
    fac_unit: np.ndarray  # former unit
    fac_servers: np.ndarray
    fac_seats: np.ndarray
    fac_level: list[str | None]
    fac_completes: np.ndarray  # (facilities, services) bool
    fac_in_group: np.ndarray  # (facilities, groups) bool
    fac_open_min: np.ndarray
    fac_close_min: np.ndarray
    fac_days: np.ndarray  # (facilities, 7) bool
    fac_open_wd: np.ndarray  # (facilities, 7) opening minute per weekday (``hours.by_day`` applied)
    fac_close_wd: np.ndarray  # (facilities, 7) closing minute per weekday
    fac_service_time: list[ServiceTime | None]
    fac_zh: list[str]
    fac_en: list[str]
    fac_central: np.ndarray  # bool: central health centre of a medical consortium

    @property
    def kind_names(self) -> list[str]:
        """Facility kinds as table categories: the four base kinds, then health tiers' kinds if any."""
        top = max(BASE_KINDS, int(self.fac_kind.max()) + 1 if len(self.fac_kind) else 0)
        return list(FACILITY_KINDS[:top])

    @cached_property
    def node_index(self) -> dict[str, int]:
        """Node id -> node index."""
        return {n: i for i, n in enumerate(self.nodes)}

    def edge_order(self) -> np.ndarray:
        """Edge rows grouped by start node (in node order), then by end node in the order each pair
        is first listed, parallel edges in listed order (the order of the ``edges`` output table)."""
        e = self.edges
        _, first, inverse = np.unique(e.u * len(self.nodes) + e.v, return_index=True, return_inverse=True)
        return np.lexsort((np.arange(len(e)), first[inverse.reshape(-1)], e.u))

    @cached_property
    def fac_receives_visitors(self) -> np.ndarray:
        """Per facility, whether it receives visitors: it has servers and is not a school (pupils are
        placed in schools, not queued)."""
        receives: np.ndarray = (self.fac_kind != FACILITY_KINDS.index("school")) & (self.fac_servers > 0)
        return receives

    @property
    def fac_new_unit(self) -> np.ndarray:
        """New unit of each facility."""
        return self.unit_new[self.fac_unit]

    def referral_target(self) -> np.ndarray:
        """(new units, services) facility index that completes the errand in that unit, -1 if none.

        The completing facility with most servers, which in a merged unit is the hall at the new seat.
        """
        out = np.full((len(self.new_unit_ids), len(self.services)), -1, dtype=np.int32)
        new_unit = self.fac_new_unit
        for u in range(len(self.new_unit_ids)):
            for s in range(len(self.services)):
                cand = np.flatnonzero((new_unit == u) & self.fac_completes[:, s] & self.fac_receives_visitors)
                if len(cand):
                    out[u, s] = cand[np.argmax(self.fac_servers[cand])]
        return out


def _apply_merger(loaded: LoadedScenario) -> dict[str, Facility]:
    """Facilities after the plan's keep / close / downgrade / restaff actions."""
    sc = loaded.scenario
    out = dict(sc.facilities)
    for fid, change in sc.merger.facilities.items():
        fac = out[fid]
        if change.action == "close":
            del out[fid]
            continue
        update: dict[str, object] = {}
        if change.action == "central":
            update["central"] = True
        if change.action == "downgrade" and fac.kind == "clinic":  # a health centre becomes a village clinic
            defaults = sc.facility_defaults.get("village_clinic")
            update["kind"] = "village_clinic"
            update["services"] = change.services or (defaults.services if defaults else ())
            update["central"] = False
        elif change.action == "downgrade":
            defaults = sc.facility_defaults.get("service_point")
            update["kind"] = "service_point"
            update["services"] = change.services or (defaults.services if defaults else ())
            update["service_time"] = None
            update["hours"] = None
        elif change.services is not None:
            update["services"] = change.services
        if change.servers is not None:
            update["servers"] = change.servers
        if change.seats is not None:
            update["seats"] = change.seats
        out[fid] = fac.model_copy(update=update)
    return out


def _reaches_any(edges: RoadEdges, n_nodes: int, targets: np.ndarray) -> np.ndarray:
    """Bool per node: some target can be reached from it along the directed network."""
    back = ~edges.oneway
    rows = np.concatenate([edges.v, edges.u[back], targets * 0 + n_nodes])  # reversed edges + a super source
    cols = np.concatenate([edges.u, edges.v[back], targets])
    adj = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_nodes + 1, n_nodes + 1))
    order = breadth_first_order(adj, n_nodes, directed=True, return_predecessors=False)
    out = np.zeros(n_nodes + 1, dtype=bool)
    out[order] = True
    return out[:n_nodes]


def _snap(node_xy: np.ndarray, point: tuple[float, float]) -> int:
    return int(np.argmin(np.hypot(node_xy[:, 0] - point[0], node_xy[:, 1] - point[1])))


def _land(loaded: LoadedScenario) -> Land | None:
    """The scenario's outline as land in its km plane (its ``crs``, else the local plane of
    ``transit.origin_latlon``), or None without an outline."""
    sc = loaded.scenario
    if sc.outline is None:
        return None
    origin = sc.transit.origin_latlon if sc.transit is not None else (25.5, 119.75)
    land = Land(tuple(outline_polygons_km(Path(sc.outline), crs=sc.crs, origin_latlon=origin)))
    _check_on_land(loaded, land)
    return land


def _check_on_land(loaded: LoadedScenario, land: Land) -> None:
    """Refuse an outline that misses the villages (another place, or another plane: ``crs`` or
    ``transit.origin_latlon``): generated roads across its "sea" would be dropped silently."""
    import shapely

    villages = loaded.scenario.villages
    union = shapely.union_all(list(land.polygons))
    off = shapely.distance(union, shapely.points([(v.x_km, v.y_km) for v in villages]))
    far = np.flatnonzero(off > OFF_LAND_KM)
    if len(far):
        i = int(far[0])
        raise ScenarioError(
            loaded.origin("outline"),
            "outline",
            f"expected the land of this scenario's villages: village '{villages[i].id}' lies "
            f"{off[i]:,.1f} km off it ({len(far)} of {len(villages)} villages more than {OFF_LAND_KM:g} km); "
            "check the outline file and the plane (crs, or transit.origin_latlon)",
        )


def build_world(loaded: LoadedScenario, *, population_scale: float = 1.0) -> World:
    """Build the World of a loaded scenario.

    Args:
        loaded: a validated scenario.
        population_scale: multiplies village populations, school seats and servers
            (a county like this one, N times as large; used by benchmarks).

    Raises:
        ScenarioError: a village without a road link to any facility, unknown road classes.
    """
    sc = loaded.scenario
    unit_ids = list(sc.units)
    unit_index = {u: i for i, u in enumerate(unit_ids)}

    where: dict[str, tuple[float, float, str]] = {}
    for uid, unit in sc.units.items():
        where[f"seat:{uid}"] = (unit.seat[0], unit.seat[1], unit.island)
    for v in sc.villages:
        where[v.id] = (v.x_km, v.y_km, sc.units[v.unit].island)
    if sc.roads.nodes is not None:
        for node, (x, y) in read_road_nodes(loaded.data_path("roads.nodes", sc.roads.nodes)).items():
            if node in where:
                raise ScenarioError(
                    sc.roads.nodes,
                    "roads.nodes",
                    f"expected road node ids unlike village and seat ids, got '{node}'",
                )
            where[node] = (x, y, "")
    if sc.roads.generate is not None:
        collected = generated_roads(
            where, params=sc.roads.generate, seats=[f"seat:{u}" for u in unit_ids], land=_land(loaded)
        )
    else:
        collected = read_road_file(loaded.data_path("roads.file", str(sc.roads.file)), set(where))
    ferries = ferry_edges(sc.roads.ferries, where)
    for name in ("u", "v", "length_km", "road_class", "oneway", "fixed_min", "fare_yuan", "name"):
        getattr(collected, name).extend(getattr(ferries, name))
    nodes = sorted(where)
    position = pd.Index(nodes, dtype=object)

    def locate(names: list[str]) -> np.ndarray:
        return position.get_indexer(pd.Index(names, dtype=object)).astype(np.int32)

    node_xy = np.array([where[n][:2] for n in nodes], dtype=float).reshape(-1, 2)
    edges = collected.arrays(nodes)
    classes = edges.classes()
    for name, mode in sc.modes.items():
        missing = classes - set(mode.speed_kph)
        if missing:
            field_path = f"modes.{name}.speed_kph"
            raise ScenarioError(
                loaded.origin(field_path), field_path, f"expected speeds for road classes {sorted(missing)}"
            )

    new_ids: list[str] = []
    new_zh: list[str] = []
    new_en: list[str] = []
    unit_new = np.zeros(len(unit_ids), dtype=np.int32)
    member_of = {m: nid for nid, nu in sc.merger.units.items() for m in nu.members}
    for i, uid in enumerate(unit_ids):
        nid = member_of.get(uid, uid)
        if nid not in new_ids:
            new_ids.append(nid)
            src = sc.merger.units.get(nid)
            new_zh.append(src.zh if src else sc.units[uid].zh)
            new_en.append(src.en if src else sc.units[uid].en)
        unit_new[i] = new_ids.index(nid)

    facilities = _apply_merger(loaded)
    services = list(sc.services)
    groups = sorted({s.group for s in sc.services.values()})
    fac_ids = list(facilities)
    n_fac = len(fac_ids)
    completes = np.zeros((n_fac, len(services)), dtype=bool)
    in_group = np.zeros((n_fac, len(groups)), dtype=bool)
    open_min = np.zeros(n_fac)
    close_min = np.zeros(n_fac)
    days = np.zeros((n_fac, 7), dtype=bool)
    open_wd = np.zeros((n_fac, 7))
    close_wd = np.zeros((n_fac, 7))
    service_times: list[ServiceTime | None] = []
    fac_node = np.zeros(n_fac, dtype=np.int32)
    for i, fid in enumerate(fac_ids):
        fac = facilities[fid]
        defaults = sc.facility_defaults.get(fac.kind)
        fac_services = fac.services or (defaults.services if defaults else ())
        for svc in fac_services:
            completes[i, services.index(svc)] = True
            in_group[i, groups.index(sc.services[svc].group)] = True
        hours: Hours | None = fac.hours or (defaults.hours if defaults else None)
        if hours is not None:
            open_min[i], close_min[i] = clock_to_min(hours.open), clock_to_min(hours.close)
            days[i] = [d in hours.days or d in hours.by_day for d in WEEKDAYS]
            open_wd[i], close_wd[i] = open_min[i], close_min[i]
            for d, dh in hours.by_day.items():
                open_wd[i, WEEKDAYS.index(d)] = clock_to_min(dh.open)
                close_wd[i, WEEKDAYS.index(d)] = clock_to_min(dh.close)
        service_times.append(fac.service_time or (defaults.service_time if defaults else None))
        if isinstance(fac.at, str):
            fac_node[i] = locate([fac.at])[0]
        else:
            fac_node[i] = _snap(node_xy, (fac.at[0], fac.at[1]))

    village_node = locate([v.id for v in sc.villages])
    reach = _reaches_any(edges, len(nodes), np.unique(fac_node))
    for i, v in enumerate(sc.villages):
        if not reach[village_node[i]]:
            field_path = f"villages[{i}]"
            raise ScenarioError(
                loaded.origin("villages"), field_path, f"village '{v.id}' has no road link to any facility"
            )

    scale = population_scale
    pop = np.array([[v.population[b] for b in sc.age_bands] for v in sc.villages], dtype=np.int64)
    servers = np.array([facilities[f].servers for f in fac_ids], dtype=np.int64)
    seats = np.array([facilities[f].seats or 0 for f in fac_ids], dtype=np.int64)
    return World(
        crs=sc.crs,
        edges=edges,
        nodes=nodes,
        node_xy=node_xy,
        age_bands=sc.age_bands,
        unit_ids=unit_ids,
        unit_zh=[sc.units[u].zh for u in unit_ids],
        unit_en=[sc.units[u].en for u in unit_ids],
        unit_island=np.array([sc.units[u].island != sc.main_island for u in unit_ids]),
        unit_seat_node=locate([f"seat:{u}" for u in unit_ids]),
        unit_new=unit_new,
        new_unit_ids=new_ids,
        new_unit_zh=new_zh,
        new_unit_en=new_en,
        village_ids=[v.id for v in sc.villages],
        village_node=village_node,
        village_unit=np.array([unit_index[v.unit] for v in sc.villages], dtype=np.int32),
        village_pop=np.rint(pop * scale).astype(np.int64),
        services=services,
        service_group=np.array([groups.index(sc.services[s].group) for s in services], dtype=np.int32),
        groups=groups,
        fac_ids=fac_ids,
        fac_kind=np.array([FACILITY_KINDS.index(facilities[f].kind) for f in fac_ids], dtype=np.int8),
        fac_node=fac_node,
        fac_unit=np.array([unit_index[facilities[f].unit] for f in fac_ids], dtype=np.int32),
        fac_servers=np.rint(servers * scale).astype(np.int64),
        fac_seats=np.rint(seats * scale).astype(np.int64),
        fac_level=[facilities[f].level for f in fac_ids],
        fac_completes=completes,
        fac_in_group=in_group,
        fac_open_min=open_min,
        fac_close_min=close_min,
        fac_days=days,
        fac_open_wd=open_wd,
        fac_close_wd=close_wd,
        fac_service_time=service_times,
        fac_zh=[facilities[f].zh or f for f in fac_ids],
        fac_en=[facilities[f].en or f for f in fac_ids],
        fac_central=np.array([facilities[f].central for f in fac_ids], dtype=bool),
    )
