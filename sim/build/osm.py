"""Read an OpenStreetMap extract (.osm.pbf) with pyrosm: drivable ways as directed segments,
ferry routes, tagged points of interest and place nodes, all in lon/lat (WGS 84)."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError

__all__ = ["OsmExtract", "read_osm"]

_ONEWAY_YES = {"yes", "true", "1"}
_ONEWAY_REVERSE = {"-1", "reverse"}
_IMPLIED_ONEWAY = {"motorway"}  # OSM: highway=motorway and junction=roundabout imply oneway=yes


@dataclass(frozen=True)
class OsmExtract:
    """What a build takes from an extract.

    ``segments``: one row per way segment between two network nodes (``u``, ``v`` OSM node ids in
    the direction of travel when ``oneway``; ``length_m``; ``highway``); parallel segments kept.
    ``nodes``: OSM node id -> lon, lat. ``ferries``: route=ferry ways (lon/lat coordinates,
    ``duration`` tag). ``pois``: points (lon, lat) with their OSM tags. ``places``: place nodes with
    ``name``, ``place`` and ``population`` (NaN where untagged).
    """

    nodes: pd.DataFrame
    segments: pd.DataFrame
    ferries: list[dict[str, Any]]
    pois: pd.DataFrame
    places: pd.DataFrame


def _tags(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str) and value:
        try:
            return {str(k): str(v) for k, v in json.loads(value).items()}
        except ValueError:
            return {}
    return {}


def _direction(row: pd.Series) -> int:
    """+1 one-way along the way, -1 one-way against it, 0 both ways."""
    oneway = str(row.get("oneway") or "").lower()
    if oneway in _ONEWAY_YES:
        return 1
    if oneway in _ONEWAY_REVERSE:
        return -1
    if oneway == "no":
        return 0
    tags = _tags(row.get("tags"))
    if row.get("highway") in _IMPLIED_ONEWAY or tags.get("junction") in ("roundabout", "circular"):
        return 1
    return 0


def _point_frame(frame: Any, columns: list[str]) -> pd.DataFrame:
    """lon, lat (representative point of polygons) and the wanted columns plus all tags."""
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=["osm_id", "lon", "lat", "tags", *columns])
    points = frame.geometry.representative_point()
    tags = []
    for _, row in frame.iterrows():
        merged = _tags(row.get("tags"))
        for col in frame.columns:
            if col not in ("geometry", "tags") and isinstance(row[col], str) and row[col]:
                merged.setdefault(str(col), row[col])
        tags.append(merged)
    out = pd.DataFrame(
        {"osm_id": frame["id"].to_numpy(), "lon": points.x.to_numpy(), "lat": points.y.to_numpy()}
    )
    out["tags"] = pd.Series(tags, index=out.index, dtype=object)
    for col in columns:
        out[col] = [t.get(col) for t in tags]
    return out


def read_osm(path: Path, *, poi_keys: dict[str, list[str] | bool]) -> OsmExtract:
    """Read the drivable network, ferries, points of interest (``poi_keys``: OSM key -> values, or
    True for any value) and place nodes of an extract.

    Raises:
        ScenarioError: the file is missing, unreadable, or holds no drivable way.
    """
    if not path.is_file():
        raise ScenarioError(str(path), "--osm", "expected an existing OpenStreetMap .osm.pbf file")
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrosm/geopandas deprecation chatter, not the user's business
        try:
            osm = pyrosm.OSM(str(path))
            nodes, ways = osm.get_network(network_type="driving", nodes=True)
        except Exception as exc:  # pyrosm raises many kinds on a broken file
            raise ScenarioError(
                str(path), "--osm", f"expected a readable .osm.pbf ({type(exc).__name__}: {exc})"
            ) from None
        if ways is None or len(ways) == 0:
            raise ScenarioError(str(path), "--osm", "expected drivable ways (highway=*) in the extract")
        ferries = osm.get_data_by_custom_criteria(custom_filter={"route": ["ferry"]}, keep_nodes=False)
        pois = osm.get_pois(custom_filter=poi_keys) if poi_keys else None
        places = osm.get_data_by_custom_criteria(
            custom_filter={"place": True}, keep_ways=False, keep_relations=False
        )
    direction = ways.apply(_direction, axis=1).to_numpy()
    u = np.where(direction < 0, ways["v"].to_numpy(), ways["u"].to_numpy())
    v = np.where(direction < 0, ways["u"].to_numpy(), ways["v"].to_numpy())
    segments = pd.DataFrame(
        {
            "u": u.astype(np.int64),
            "v": v.astype(np.int64),
            "length_m": ways["length"].to_numpy(float),
            "highway": ways["highway"].astype(str).to_numpy(),
            "oneway": direction != 0,
            "way_id": ways["id"].to_numpy(),
        }
    )
    node_frame = pd.DataFrame(
        {"lon": nodes["lon"].to_numpy(float), "lat": nodes["lat"].to_numpy(float)},
        index=pd.Index(nodes["id"].to_numpy(np.int64), name="osm_id"),
    )
    node_frame = node_frame[~node_frame.index.duplicated()]
    ferry_list = []
    if ferries is not None:
        for _, row in ferries.iterrows():
            geom = row.geometry
            lines = list(getattr(geom, "geoms", [geom]))
            coords = [c for line in lines for c in line.coords]
            if len(coords) >= 2:
                tags = _tags(row.get("tags"))
                for col in ferries.columns:  # pyrosm moves some tags (duration) into columns
                    if col not in ("geometry", "tags") and isinstance(row[col], str) and row[col]:
                        tags.setdefault(str(col), row[col])
                ferry_list.append({"osm_id": row["id"], "coords": np.array(coords), "tags": tags})
    place_frame = _point_frame(places, ["name", "place", "population"])
    place_frame["population"] = pd.to_numeric(
        place_frame["population"].astype("string").str.replace(r"[ ,]", "", regex=True), errors="coerce"
    )
    return OsmExtract(
        nodes=node_frame,
        segments=segments,
        ferries=ferry_list,
        pois=_point_frame(pois, ["name"]),
        places=place_frame,
    )
