"""Road + ferry network as edge arrays: generated or read from a file, directed where one-way,
parallel edges kept; per-mode directed CSR matrices with the fastest of parallel edges."""

from __future__ import annotations

import csv
import io
import itertools
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import Delaunay, QhullError

from sim.errors import ScenarioError
from sim.scenario.load import read_text
from sim.scenario.schema import Ferry, Mode, RoadGenerate
from sim.world.land import Land

__all__ = [
    "FERRY",
    "EdgeList",
    "RoadEdges",
    "ferry_edges",
    "generated_roads",
    "mode_matrices",
    "read_road_file",
    "read_road_nodes",
    "road_km_matrix",
]

FERRY = "ferry"
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"", "0", "false", "no", "n", "f"}


@dataclass
class EdgeList:
    """Edges being collected (node ids, not yet indices): one entry per physical edge."""

    u: list[str] = field(default_factory=list)
    v: list[str] = field(default_factory=list)
    length_km: list[float] = field(default_factory=list)
    road_class: list[str] = field(default_factory=list)
    oneway: list[bool] = field(default_factory=list)
    fixed_min: list[float] = field(default_factory=list)
    fare_yuan: list[float] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    bends: dict[int, np.ndarray] = field(default_factory=dict)  # position -> inner points, km

    def add(
        self,
        u: str,
        v: str,
        length_km: float,
        road_class: str,
        *,
        oneway: bool = False,
        fixed_min: float = np.nan,
        fare_yuan: float = 0.0,
        name: str = "",
        bends: np.ndarray | None = None,
    ) -> None:
        """Append one edge (``oneway``: travel only from ``u`` to ``v``; ``bends``: (k, 2) km
        points between its ends when it is not a straight line)."""
        if bends is not None and len(bends):
            self.bends[len(self.u)] = np.asarray(bends, dtype=float).reshape(-1, 2)
        self.u.append(u)
        self.v.append(v)
        self.length_km.append(float(length_km))
        self.road_class.append(road_class)
        self.oneway.append(bool(oneway))
        self.fixed_min.append(float(fixed_min))
        self.fare_yuan.append(float(fare_yuan))
        self.name.append(name)

    def arrays(self, nodes: list[str]) -> RoadEdges:
        """Freeze to arrays with node ids replaced by their index in ``nodes`` (every id must be there)."""
        position = pd.Index(nodes, dtype=object)
        u, v = (position.get_indexer(pd.Index(ends, dtype=object)) for ends in (self.u, self.v))
        if (u < 0).any() or (v < 0).any():
            raise KeyError("edge ends missing from the node list")
        bends = np.full(len(u), None, dtype=object)
        for i, points in self.bends.items():
            bends[i] = points
        return RoadEdges(
            u=u.astype(np.int64),
            v=v.astype(np.int64),
            length_km=np.asarray(self.length_km, dtype=float),
            road_class=np.asarray(self.road_class, dtype=object),
            oneway=np.asarray(self.oneway, dtype=bool),
            fixed_min=np.asarray(self.fixed_min, dtype=float),
            fare_yuan=np.asarray(self.fare_yuan, dtype=float),
            name=np.asarray(self.name, dtype=object),
            bends=bends,
        )


@dataclass(frozen=True)
class RoadEdges:
    """The network, one row per physical edge (parallel edges are separate rows).

    ``oneway`` edges are travelled only from ``u`` to ``v``. Ferries have ``road_class == "ferry"``,
    ``fixed_min`` = crossing + mean pier wait (NaN for roads), a fare and a real ``length_km``.
    ``bends``: None for a straight edge, else its (k, 2) km points between ``u`` and ``v``.
    """

    u: np.ndarray
    v: np.ndarray
    length_km: np.ndarray
    road_class: np.ndarray
    oneway: np.ndarray
    fixed_min: np.ndarray
    fare_yuan: np.ndarray
    name: np.ndarray
    bends: np.ndarray

    def __len__(self) -> int:
        return len(self.u)

    @property
    def is_ferry(self) -> np.ndarray:
        """Bool per edge: a ferry crossing."""
        return self.road_class == FERRY

    def subset(self, keep: np.ndarray | slice, *, two_way: bool = False) -> RoadEdges:
        """The edges where ``keep`` is true (all travelled both ways if ``two_way``, as on foot)."""
        parts = {f.name: getattr(self, f.name)[keep] for f in fields(self)}
        if two_way:
            parts["oneway"] = np.zeros(len(parts["u"]), dtype=bool)
        return RoadEdges(**parts)

    def classes(self) -> set[str]:
        """Road classes used (ferry excluded)."""
        return set(self.road_class[~self.is_ferry].tolist())


def _triangulation_edges(xy: np.ndarray) -> set[tuple[int, int]]:
    """Index pairs of a Delaunay triangulation; a path for 2 points, nothing for 1."""
    n = len(xy)
    if n < 2:
        return set()
    if n == 2:
        return {(0, 1)}
    try:
        tri = Delaunay(xy)
    except QhullError:  # collinear points: chain them in order along the line
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return {(int(a), int(b)) for a, b in itertools.pairwise(order)}
    edges: set[tuple[int, int]] = set()
    for simplex in tri.simplices:
        for i in range(3):
            a, b = int(simplex[i]), int(simplex[(i + 1) % 3])
            edges.add((min(a, b), max(a, b)))
    return edges


def _land_lengths(
    xy: np.ndarray, pairs: list[tuple[int, int]], land: Land | None, max_water_km: float
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray | None]]:
    """Km along each candidate edge (index pairs into ``xy``), its weight for the spanning tree,
    and its bends.

    Without ``land``, or for a segment with at most ``max_water_km`` off land, the straight line
    (bends None). Otherwise the shortest path on the land polygon holding both ends (its inner
    corners are the bends); ends on no common polygon keep the straight line and weigh 1,000 km
    more, so that such an edge is only kept to connect what nothing else connects.
    """
    a = xy[[p[0] for p in pairs]].reshape(-1, 2)
    b = xy[[p[1] for p in pairs]].reshape(-1, 2)
    km = np.hypot(a[:, 0] - b[:, 0], a[:, 1] - b[:, 1])
    weight = km.copy()
    bends: list[np.ndarray | None] = [None] * len(pairs)
    if land is None or not pairs:
        return km, weight, bends
    wet = np.flatnonzero(land.water_km(a, b) > max_water_km)
    if not len(wet):
        return km, weight, bends
    weight[wet] += _UNJOINED_KM
    home = land.polygon_of(np.concatenate([a[wet], b[wet]])).reshape(2, -1)
    for polygon in np.unique(home[0][home[0] == home[1]]):
        on = wet[(home[0] == polygon) & (home[1] == polygon)]
        for i, path in zip(on, land.paths(int(polygon), a[on], b[on]), strict=True):
            if path is not None:
                km[i] = weight[i] = float(np.hypot(*np.diff(path, axis=0).T).sum())
                bends[i] = path[1:-1]
    return km, weight, bends


_UNJOINED_KM = 1000.0  # added to the weight of a wet edge whose ends no land path joins


def _kept(
    xy: np.ndarray, pairs: list[tuple[int, int]], land: Land | None, params: RoadGenerate, *, cap: float
) -> list[tuple[int, int, float, np.ndarray | None]]:
    """Edges kept of the candidates: (a, b, km along the edge, bends or None), in ``pairs`` order.

    An edge is kept when it stays on land (at most ``max_water_km`` off it) and is no longer than
    ``cap`` km, or when it belongs to the minimum spanning tree by km along land (which keeps the
    island connected, around bays where it must).
    """
    km, weight, bends = _land_lengths(xy, pairs, land, params.max_water_km)
    graph = nx.Graph()
    for (a, b), w in zip(pairs, weight.tolist(), strict=True):
        graph.add_edge(a, b, weight=w)
    tree = {frozenset(e) for e in nx.minimum_spanning_edges(graph, data=False)}
    out = []
    for (a, b), length, w, bend in zip(pairs, km.tolist(), weight.tolist(), bends, strict=True):
        on_land = bend is None and w == length
        if (on_land and length <= cap) or frozenset((a, b)) in tree:
            out.append((a, b, length, bend))
    return out


def generated_roads(
    nodes: dict[str, tuple[float, float, str]],
    *,
    params: RoadGenerate,
    seats: Iterable[str],
    land: Land | None = None,
) -> EdgeList:
    """Synthetic two-way roads per island: trunk roads triangulate the seats, rural roads all points.

    Args:
        nodes: id -> (x_km, y_km, island).
        land: the scenario's outline in the same km plane, if it has one.

    Rural edges longer than ``max_rural_edge_km`` (straight line) are dropped unless needed to keep
    the island connected (the minimum spanning tree is always kept). With ``land``, an edge that
    crosses more than ``max_water_km`` of sea (a bay; shorter crossings stand for bridges and
    causeways) is dropped unless the minimum spanning tree by km along land needs it, rural and
    trunk alike; such an edge follows the shortest path on land (``bends``). Edge ``length_km``
    is the km along the edge (straight line or land path) times ``detour_factor``.
    """
    out = EdgeList()
    seat_set = set(seats)
    by_island: dict[str, list[str]] = {}
    for node, (_, _, island) in nodes.items():
        by_island.setdefault(island, []).append(node)
    for names in by_island.values():
        names.sort()
        xy = np.array([nodes[n][:2] for n in names], dtype=float).reshape(-1, 2)
        rural = sorted(_triangulation_edges(xy))
        for a, b, km, bend in _kept(xy, rural, land, params, cap=params.max_rural_edge_km):
            out.add(names[a], names[b], km * params.detour_factor, "rural", bends=bend)
        seat_idx = [i for i, n in enumerate(names) if n in seat_set]
        trunk = sorted(_triangulation_edges(xy[seat_idx]))
        for a, b, km, bend in _kept(xy[seat_idx], trunk, land, params, cap=np.inf):
            out.add(names[seat_idx[a]], names[seat_idx[b]], km * params.detour_factor, "trunk", bends=bend)
    return out


def ferry_edges(ferries: Mapping[str, Ferry], xy: Mapping[str, tuple[float, float, str]]) -> EdgeList:
    """Fixed ferry edges (crossing + mean pier wait, fare); their km is ``length_km`` if given,
    else the straight line between the piers (``xy``: node id -> (x_km, y_km, island))."""
    out = EdgeList()
    for fid, ferry in ferries.items():
        a, b = xy[ferry.from_node], xy[ferry.to_node]
        km = getattr(ferry, "length_km", None)
        out.add(
            ferry.from_node,
            ferry.to_node,
            float(np.hypot(a[0] - b[0], a[1] - b[1])) if km is None else km,
            FERRY,
            fixed_min=ferry.crossing_min + ferry.wait_min,
            fare_yuan=ferry.fare_yuan,
            name=fid,
        )
    return out


def _flag(value: Any, file: Path, where: str) -> bool:
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ScenarioError(str(file), where, f"expected true/false (or 1/0, yes/no), got {value!r}")


def read_road_nodes(file: Path) -> dict[str, tuple[float, float]]:
    """Road junctions (not villages) from a CSV with columns id, x_km, y_km."""
    if not file.is_file():
        raise ScenarioError(str(file), "roads.nodes", "expected an existing CSV file of road nodes")
    try:
        plain = _plain_csv(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        plain = None  # the row reader below raises it as before
    if plain is not None and set(plain) == {"id", "x_km", "y_km"}:
        ids = plain["id"]
        xy = _numbers_any([*plain["x_km"], *plain["y_km"]])
        if xy is not None and all(ids) and len(set(ids)) == len(ids):
            x, y = xy[: len(ids)].tolist(), xy[len(ids) :].tolist()
            return dict(zip(ids, zip(x, y, strict=True), strict=True))
    out: dict[str, tuple[float, float]] = {}
    with file.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                x, y = float(row["x_km"]), float(row["y_km"])
                node = row["id"]
            except (KeyError, TypeError, ValueError) as exc:
                raise ScenarioError(str(file), f"line {line}", f"expected id, x_km, y_km ({exc})") from None
            if not node or node in out or not (np.isfinite(x) and np.isfinite(y)):
                raise ScenarioError(
                    str(file), f"line {line}", f"expected a new id and finite x_km, y_km, got {row}"
                )
            out[node] = (x, y)
    return out


def _number(value: Any, file: Path, where: str, *, default: float | None = None) -> float:
    if (value is None or str(value).strip() == "") and default is not None:
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(str(file), where, f"expected a number, got {value!r}") from None
    if not np.isfinite(out) or out < 0:
        raise ScenarioError(str(file), where, f"expected a number >= 0, got {value!r}")
    return out


_COLUMNS = ("u", "v", "length_km", "road_class", "oneway", "time_min", "fare_yuan")


def _plain_csv(text: str) -> dict[str, list[str]] | None:
    """Every column of a CSV as text, read by pandas' C reader; None unless the file is a plain table
    (no byte-order mark, header names once, no row longer than the header) that the row-by-row
    reader would read the same way (a short row's missing cells are empty here, None there)."""
    header = next((r for r in csv.reader(io.StringIO(text, newline="")) if r), None)
    if text.startswith("\ufeff") or header is None or len(set(header)) != len(header):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            frame = pd.read_csv(io.StringIO(text), dtype=object, na_filter=False, index_col=False, engine="c")
    except (ValueError, csv.Error, Warning):  # pandas' ParserError and EmptyDataError are ValueErrors
        return None
    if [str(c) for c in frame.columns] != header:
        return None
    return {str(c): frame[c].tolist() for c in frame.columns}


def _numbers_any(values: list[str | None]) -> np.ndarray | None:
    """Finite floats (None if any value is missing, not a number or not finite)."""
    if any(v is None for v in values):
        return None
    try:
        out = np.asarray(values, dtype=object).astype(float)  # float() of each text, as the row reader
    except (TypeError, ValueError):
        return None
    return out if bool(np.all(np.isfinite(out))) else None


def _numbers(values: list[str | None]) -> np.ndarray | None:
    """Finite floats >= 0 (None if any value is missing, not a number, negative or not finite)."""
    out = _numbers_any(values)
    return out if out is not None and bool(np.all(out >= 0)) else None


def _edges_from_columns(cols: dict[str, list[str | None]], known: set[str]) -> EdgeList | None:
    """All rows at once when every row is valid (else None: the row reader then names the first
    bad row); the same edges as reading row by row."""
    n = len(cols["u"])
    classes = cols["road_class"]
    if not all(c for c in classes) or not (known.issuperset(cols["u"]) and known.issuperset(cols["v"])):
        return None
    length = _numbers(cols["length_km"])
    flags: dict[str | None, bool | None] = {}
    for value in set(cols["oneway"]):
        text = "" if value is None else str(value).strip().lower()
        flags[value] = True if text in _TRUE else False if text in _FALSE else None
    if length is None or any(f is None for f in flags.values()):
        return None
    ferry = np.array([c == FERRY for c in classes], dtype=bool)
    fixed = np.full(n, np.nan)
    if ferry.any():
        times = _numbers([cols["time_min"][i] for i in np.flatnonzero(ferry)])
        if times is None:
            return None
        fixed[ferry] = times
    fare_text = cols["fare_yuan"]
    given = [i for i, t in enumerate(fare_text) if t is not None and str(t).strip() != ""]
    fare = np.zeros(n)
    if given:
        values = _numbers([fare_text[i] for i in given])
        if values is None:
            return None
        fare[given] = values
    u, v = cols["u"], cols["v"]
    return EdgeList(
        u=list(u),  # type: ignore[arg-type]  # checked: every id is known
        v=list(v),  # type: ignore[arg-type]
        length_km=length.tolist(),
        road_class=list(classes),  # type: ignore[arg-type]
        oneway=[bool(flags[x]) for x in cols["oneway"]],
        fixed_min=fixed.tolist(),
        fare_yuan=fare.tolist(),
        name=[f"{a}-{b}" if f else "" for a, b, f in zip(u, v, ferry.tolist(), strict=True)],
    )


def read_road_file(file: Path, known: set[str]) -> EdgeList:
    """Roads from a GraphML file or an edge CSV (columns u, v, length_km, road_class[, oneway,
    time_min, fare_yuan]).

    Every row is kept (parallel edges between two nodes stay separate; routing takes the fastest).
    ``oneway`` true: travel only from u to v; a directed GraphML makes every edge one-way. Rows of
    class ``ferry`` are crossings: ``time_min`` (crossing + mean wait) is required, ``fare_yuan``
    optional. Node ids must be village ids, ``seat:<unit>`` or road nodes (``roads.nodes``).
    """
    if not file.is_file():
        raise ScenarioError(str(file), "roads.file", "expected an existing GraphML or CSV file")
    rows: list[dict[str, Any]] = []
    text = read_text(file, "roads.file")  # UTF-8 (BOM accepted) or a clear error
    if file.suffix.lower() == ".graphml":
        try:
            loaded = nx.parse_graphml(text, force_multigraph=True)
        except Exception as exc:  # ElementTree and networkx raise many types for a broken file
            raise ScenarioError(str(file), "roads.file", f"expected valid GraphML ({exc})") from None
        for u, v, data in loaded.edges(data=True):
            rows.append(
                {**data, "u": str(u), "v": str(v), "oneway": data.get("oneway", loaded.is_directed())}
            )
    else:
        plain = _plain_csv(text)
        if plain is not None:
            n = len(next(iter(plain.values()), []))
            columns: dict[str, list[str | None]] = {k: [*plain.get(k, [None] * n)] for k in _COLUMNS}
            fast = _edges_from_columns(columns, known)
            if fast is not None:
                return fast
        try:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise ScenarioError(str(file), "roads.file", f"expected valid CSV ({exc})") from None
    out = EdgeList()
    for line, row in enumerate(rows, start=1):
        u, v, length, road_class, oneway, time_min, fare = (row.get(k) for k in _COLUMNS)
        for name, node in (("u", u), ("v", v)):
            if node not in known:
                raise ScenarioError(
                    str(file), f"edge {line}.{name}", f"expected a known node id, got '{node}'"
                )
        if not road_class:
            raise ScenarioError(str(file), f"edge {line}.road_class", "expected a road class")
        length_km = _number(length, file, f"edge {line}.length_km")
        ferry = road_class == FERRY
        out.add(
            str(u),
            str(v),
            length_km,
            str(road_class),
            oneway=_flag(oneway, file, f"edge {line}.oneway"),
            fixed_min=_number(time_min, file, f"edge {line}.time_min") if ferry else np.nan,
            fare_yuan=_number(fare, file, f"edge {line}.fare_yuan", default=0.0),
            name=f"{u}-{v}" if ferry else "",
        )
    return out


def _directed(edges: RoadEdges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, edge) of every travel direction: two-way edges twice, one-way edges from u to v."""
    back = np.flatnonzero(~edges.oneway)
    rows = np.concatenate([edges.u, edges.v[back]])
    cols = np.concatenate([edges.v, edges.u[back]])
    return rows, cols, np.concatenate([np.arange(len(edges)), back])


def _best_per_pair(rows: np.ndarray, cols: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Positions of the lowest-``weight`` entry of each ordered pair (rows, cols), in CSR order
    (row, then column); of equal weights the first listed wins."""
    order = np.lexsort((weight, cols, rows))
    r, c = rows[order], cols[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return order[first]


def _csr(rows: np.ndarray, cols: np.ndarray, data: np.ndarray, n_nodes: int) -> sparse.csr_matrix:
    """CSR matrix of entries already sorted by (row, column), one per pair (explicit zeros kept)."""
    indptr = np.searchsorted(rows, np.arange(n_nodes + 1)).astype(np.int64)
    return sparse.csr_matrix((data, cols.astype(np.int32), indptr), shape=(n_nodes, n_nodes))


def road_km_matrix(edges: RoadEdges, n_nodes: int, *, skip_classes: Iterable[str] = ()) -> sparse.csr_matrix:
    """Directed CSR matrix of road km (ferries and ``skip_classes`` left out): of parallel edges
    between the same ordered pair the shortest is kept (what a line along the roads follows)."""
    keep = ~np.isin(edges.road_class, [FERRY, *skip_classes])
    sub = edges.subset(keep)
    rows, cols, edge = _directed(sub)
    km = sub.length_km[edge]
    best = _best_per_pair(rows, cols, km)
    return _csr(rows[best], cols[best], km[best], n_nodes)


def mode_matrices(
    edges: RoadEdges, n_nodes: int, mode: Mode
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, sparse.csr_matrix]:
    """Directed CSR matrices (time_min, length_km, money_yuan) of one mode, one sparsity pattern.

    Two-way edges count in both directions, one-way edges from u to v only. Of parallel edges
    between the same ordered pair the fastest for this mode is kept (its km and money with it).
    Money is the mode's cost per road km plus ferry fares (ferry km are not charged per km).

    Raises:
        KeyError: the mode has no speed for a road class of the network (checked at build).
    """
    ferry = edges.is_ferry
    classes, class_of = np.unique(edges.road_class.astype(str), return_inverse=True)
    speeds = np.array([1.0 if c == FERRY else mode.speed_kph[c] for c in classes], dtype=float)
    speed = speeds[class_of.reshape(-1)]
    time = np.where(ferry, edges.fixed_min, 60.0 * edges.length_km / speed)
    money = np.where(ferry, edges.fare_yuan, edges.length_km * mode.cost_yuan_per_km + edges.fare_yuan)
    rows, cols, edge = _directed(edges)
    time = np.maximum(time[edge], 1e-6)  # csgraph treats explicit 0 as no edge
    best = _best_per_pair(rows, cols, time)
    r, c = rows[best], cols[best]
    return tuple(_csr(r, c, vals[best], n_nodes) for vals in (time, edges.length_km[edge], money[edge]))
