"""Assemble a scenario folder from an OSM extract, a villages table, boundaries, facilities and GTFS.

Coordinates are projected with pyproj to a local metric CRS (the UTM zone of the extract unless
``crs`` is given); the scenario stores x, y in km of that CRS and names it in ``crs``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from sim.build.osm import OsmExtract, read_osm
from sim.build.template import read_template
from sim.errors import ScenarioError, SimError
from sim.scenario.schema import MAX_BAND_POPULATION

__all__ = ["BuildInputs", "build_scenario", "local_crs"]

TEMPLATE = Path(__file__).with_name("template.yaml")
MARKER = "build.json"
KIND = "build"
FERRY_SNAP_KM = 1.0  # a ferry end further than this from any road is not linked (assumed)
OUTSIDE_KM = 5.0  # a village further than this outside the road network's bounding box is refused
MAX_FERRY_MIN = 24 * 60  # longest crossing an OSM duration tag may give (minutes)


@dataclass(frozen=True)
class BuildInputs:
    """What ``townsim build`` was given (paths as typed)."""

    osm: Path
    villages: Path | None = None
    units: Path | None = None
    gtfs: Path | None = None
    gtfs_date: str | None = None
    facilities: Path | None = None
    template: Path = TEMPLATE
    crs: str | None = None
    name: str | None = None
    notes: list[str] = field(default_factory=list)


def local_crs(lon: np.ndarray, lat: np.ndarray) -> str:
    """The UTM zone (WGS 84) holding the centre of the points, as ``EPSG:<code>``."""
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    lo, la = float(np.median(lon)), float(np.median(lat))
    info = query_utm_crs_info(datum_name="WGS 84", area_of_interest=AreaOfInterest(lo, la, lo, la))
    if not info:
        raise SimError(f"no UTM zone found for lon {lo:.3f}, lat {la:.3f}; give --crs")
    return f"{info[0].auth_name}:{info[0].code}"


class _Projector:
    """lon/lat (WGS 84) -> km in the build CRS."""

    def __init__(self, crs: str) -> None:
        from pyproj import CRS, Transformer

        try:
            target = CRS.from_user_input(crs)
        except Exception as exc:  # pyproj raises CRSError and others
            raise ScenarioError(crs, "--crs", f"expected a coordinate reference system ({exc})") from None
        if not target.is_projected or target.axis_info[0].unit_name not in ("metre", "meter"):
            raise ScenarioError(crs, "--crs", "expected a projected CRS in metres (e.g. a UTM zone)")
        self.crs = crs
        self._t = Transformer.from_crs("EPSG:4326", target, always_xy=True)

    def km(self, lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
        """(points, 2) x, y km of lon/lat degrees."""
        x, y = self._t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.column_stack([np.asarray(x) / 1000.0, np.asarray(y) / 1000.0])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()


# --- roads ------------------------------------------------------------------------------------


def _largest_strong_component(segments: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """OSM ids of the nodes in the largest strongly connected part of the directed network, and a
    bool per segment inside it."""
    ids, inverse = np.unique(np.concatenate([segments["u"], segments["v"]]), return_inverse=True)
    m = len(segments)
    u, v = inverse[:m], inverse[m:]
    back = ~segments["oneway"].to_numpy()
    rows = np.concatenate([u, v[back]])
    cols = np.concatenate([v, u[back]])
    adj = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(ids)))
    _, label = connected_components(adj, directed=True, connection="strong")
    big = np.bincount(label).argmax()
    keep = label == big
    return ids[keep], keep[u] & keep[v]


def _road_tables(osm: OsmExtract, proj: _Projector, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    keep_ids, keep_seg = _largest_strong_component(osm.segments)
    dropped = len(np.unique(np.concatenate([osm.segments["u"], osm.segments["v"]]))) - len(keep_ids)
    if dropped:
        notes.append(
            f"kept the largest strongly connected road network ({len(keep_ids)} nodes); "
            f"{dropped} nodes in fragments (usually cut at the extract's edge) dropped"
        )
    seg = osm.segments[keep_seg]
    xy = proj.km(osm.nodes.loc[keep_ids, "lon"], osm.nodes.loc[keep_ids, "lat"])
    nodes = pd.DataFrame({"id": [f"n{i}" for i in keep_ids], "x_km": xy[:, 0], "y_km": xy[:, 1]})
    edges = pd.DataFrame(
        {
            "u": "n" + seg["u"].astype(str),
            "v": "n" + seg["v"].astype(str),
            "length_km": seg["length_m"].to_numpy() / 1000.0,
            "road_class": seg["highway"].to_numpy(),
            "oneway": seg["oneway"].to_numpy(),
            "time_min": np.nan,
            "fare_yuan": np.nan,
        }
    )
    return nodes, edges


def _duration_min(text: str | None, file: str, field: str) -> float | None:
    """OSM ``duration`` (``HH:MM``, ``HH:MM:SS`` or minutes) in minutes; None if absent.

    Raises:
        ScenarioError: unreadable, or not more than 0 and at most :data:`MAX_FERRY_MIN`.
    """
    if text is None or not text.strip():
        return None
    parts = text.strip().split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    minutes = math.nan
    if len(values) == 1:
        minutes = values[0]
    elif len(values) in (2, 3) and all(0 <= v < 60 for v in values[1:]):
        minutes = values[0] * 60 + values[1] + (values[2] / 60 if len(values) == 3 else 0.0)
    if not 0 < minutes <= MAX_FERRY_MIN:  # NaN fails too
        raise ScenarioError(
            file, field, f"expected a crossing time HH:MM, HH:MM:SS or minutes, > 0 and <= 24 h, got {text!r}"
        )
    return minutes


def _ferry_edges(
    osm: OsmExtract,
    proj: _Projector,
    nodes: pd.DataFrame,
    spec: dict[str, float],
    notes: list[str],
    file: str,
) -> pd.DataFrame:
    """Ferry edges between the road nodes nearest each end: crossing time from the way's
    ``duration`` tag (checked), else its length at the template's speed; plus the mean wait."""
    tree = cKDTree(nodes[["x_km", "y_km"]].to_numpy())
    rows = []
    for ferry in osm.ferries:
        xy = proj.km(ferry["coords"][:, 0], ferry["coords"][:, 1])
        (d0, i0), (d1, i1) = tree.query(xy[0]), tree.query(xy[-1])
        if max(d0, d1) > FERRY_SNAP_KM or i0 == i1:
            notes.append(
                f"ferry way {ferry['osm_id']}: an end lies over {FERRY_SNAP_KM} km from the road network; "
                "left out"
            )
            continue
        km = float(np.hypot(*np.diff(xy, axis=0).T).sum())
        crossing = _duration_min(ferry["tags"].get("duration"), file, f"way {ferry['osm_id']}.duration")
        minutes = (crossing if crossing is not None else 60.0 * km / spec["speed_kph"]) + spec["wait_min"]
        rows.append(
            {
                "u": nodes["id"].iloc[i0],
                "v": nodes["id"].iloc[i1],
                "length_km": km,
                "road_class": "ferry",
                "oneway": False,
                "time_min": minutes,
                "fare_yuan": spec["fare_yuan"],
            }
        )
    return pd.DataFrame(rows)


# --- population and units ---------------------------------------------------------------------


def _split_by_shares(total: np.ndarray, shares: dict[str, float], bands: list[str]) -> np.ndarray:
    """Integer residents per band summing to ``total`` (largest remainder)."""
    share = np.array([shares[b] for b in bands])
    exact = total[:, None] * share[None, :]
    out = np.floor(exact).astype(np.int64)
    left = total.astype(np.int64) - out.sum(axis=1)
    order = np.argsort(-(exact - out), axis=1, kind="stable")
    for k in range(len(bands)):
        out[np.arange(len(total)), order[:, k]] += (left > k).astype(np.int64)
    return out


def _read_points(path: Path, what: str) -> pd.DataFrame:
    """A table of points: CSV with lon, lat columns, or any vector file geopandas reads (points)."""
    if not path.is_file():
        raise ScenarioError(str(path), f"--{what}", "expected an existing CSV, GeoJSON or GeoPackage file")
    if path.suffix.lower() == ".csv":
        try:
            frame = pd.read_csv(path, dtype={"id": str}, encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ScenarioError(str(path), "(encoding)", f"expected UTF-8 text ({exc.reason})") from None
        except (ValueError, pd.errors.ParserError) as exc:
            raise ScenarioError(str(path), "(file)", f"expected a CSV table ({exc})") from None
        for col in ("lon", "lat"):
            if col not in frame:
                raise ScenarioError(str(path), col, "expected lon and lat columns (WGS 84 degrees)")
        _check_degrees(frame, str(path), first_row=2, row_word="line")
        frame.attrs["rows"] = [f"line {i + 2}" for i in range(len(frame))]
        return frame
    import geopandas as gpd

    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        raise ScenarioError(str(path), "(file)", f"expected a GeoJSON or GeoPackage file ({exc})") from None
    if gdf.crs is not None:
        gdf = gdf.to_crs("EPSG:4326")
    if not (gdf.geom_type == "Point").all():
        raise ScenarioError(str(path), "geometry", "expected point features")
    frame = pd.DataFrame(gdf.drop(columns="geometry"))
    frame["lon"], frame["lat"] = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    _check_degrees(frame, str(path), first_row=1, row_word="feature")
    frame.attrs["rows"] = [f"feature {i + 1}" for i in range(len(frame))]
    return frame


def _count(value: Any, file: str, field: str) -> int | None:
    """A whole number of servers or seats in [0, 10**6] (None when blank)."""
    if pd.isna(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (0 <= number <= 10**6 and number == int(number)):
        raise ScenarioError(file, field, f"expected a whole number in [0, 1000000], got {value!r}")
    return int(number)


def _check_degrees(frame: pd.DataFrame, file: str, *, first_row: int, row_word: str) -> None:
    """lon and lat: finite WGS 84 degrees within range (in place: made float)."""
    for col, bound in (("lon", 180.0), ("lat", 90.0)):
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~(np.abs(values) <= bound))  # NaN, text and inf fail too
        if len(bad):
            i = int(bad[0])
            raise ScenarioError(
                file,
                f"{row_word} {i + first_row}, column {col}",
                f"expected finite degrees in [-{bound:g}, {bound:g}], got {frame[col].iloc[i]!r}",
            )
        frame[col] = values


def _villages(
    inputs: BuildInputs, osm: OsmExtract, template: dict[str, Any], notes: list[str], warns: list[str]
) -> pd.DataFrame:
    """id, lon, lat, pop_<band> and the optional name, zh, en per village (from the table, else
    OSM place nodes with a population tag, with a warning giving their count)."""
    bands = list(template["age_bands"])
    if inputs.villages is not None:
        frame = _read_points(inputs.villages, "villages")
        src = str(inputs.villages)
        if "id" not in frame:
            frame["id"] = [f"v{i + 1}" for i in range(len(frame))]
    else:
        frame = osm.places[osm.places["population"].notna()].copy()
        src = f"{inputs.osm} (place nodes with population tags)"
        if not len(frame):
            raise ScenarioError(
                str(inputs.osm), "place=*", "expected place nodes with population tags; give --villages FILE"
            )
        frame["id"] = [f"place{i}" for i in frame["osm_id"]]
        frame.attrs["rows"] = [f"place node {i}" for i in frame["osm_id"]]
        residents = int(pd.to_numeric(frame["population"]).sum())
        warns.append(
            f"no --villages: {len(frame)} village(s) from the extract's place nodes with population tags "
            f"({residents:,} residents in all); give --villages FILE (id, lon, lat, population) for villages"
        )
    rows: list[str] = frame.attrs.get("rows", [f"row {i + 1}" for i in range(len(frame))])
    if not len(frame):
        raise ScenarioError(src, "(rows)", "expected at least one village")
    if frame["id"].duplicated().any():
        raise ScenarioError(
            src, "id", f"expected unique ids, '{frame['id'][frame['id'].duplicated()].iloc[0]}' repeats"
        )
    band_cols = [f"pop_{b}" for b in bands]
    if all(c in frame for c in band_cols):
        pops = frame[band_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(pops) & (pops >= 0) & (pops <= MAX_BAND_POPULATION) & (pops == np.rint(pops)))
        if bad.any():
            i, j = (int(k[0]) for k in np.nonzero(bad))
            raise ScenarioError(
                src,
                f"{rows[i]}, column {band_cols[j]}",
                f"expected a whole number of residents from 0 to {MAX_BAND_POPULATION:,}, "
                f"got {frame[band_cols[j]].iloc[i]!r}",
            )
        source = "table by age band"
    elif "population" in frame:
        total = pd.to_numeric(frame["population"], errors="coerce").to_numpy(dtype=float)
        limit = MAX_BAND_POPULATION * len(bands)
        ok = np.isfinite(total) & (total >= 0) & (total <= limit)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise ScenarioError(
                src,
                f"{rows[i]}, column population",
                f"expected a count from 0 to {limit:,}, got {frame['population'].iloc[i]!r}",
            )
        fractional = int((total != np.rint(total)).sum())
        if fractional:
            notes.append(
                f"{fractional} population total(s) in {src} were not whole numbers; "
                "rounded to the nearest resident"
            )
        pops = _split_by_shares(np.rint(total).astype(np.int64), template["age_shares"], bands)
        source = (
            f"total from the table, split by age shares ({template.get('age_shares_source', 'template')})"
        )
    else:
        raise ScenarioError(src, "population", f"expected a population column or all of {band_cols}")
    out = pd.DataFrame({"id": frame["id"].astype(str).to_numpy(), "lon": frame["lon"], "lat": frame["lat"]})
    for col in ("name", "zh", "en"):  # kept as given (the scenario's villages.csv carries them)
        if col in frame:
            out[col] = frame[col].fillna("").astype(str).to_numpy()
    for col, values in zip(band_cols, np.asarray(pops, dtype=np.int64).T, strict=True):
        out[col] = values
    out.attrs["source"] = f"{src}: {source}"
    out.attrs["rows"] = rows
    out.attrs["file"] = src
    return out


def _check_inside(villages: pd.DataFrame, nodes: pd.DataFrame) -> None:
    """Refuse a village more than :data:`OUTSIDE_KM` outside the road network's bounding box."""
    lo = nodes[["x_km", "y_km"]].min().to_numpy() - OUTSIDE_KM
    hi = nodes[["x_km", "y_km"]].max().to_numpy() + OUTSIDE_KM
    xy = villages[["x_km", "y_km"]].to_numpy()
    outside = ((xy < lo) | (xy > hi)).any(axis=1)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        away = float(np.hypot(*np.maximum(np.maximum(lo - xy[i], xy[i] - hi), 0)))
        raise ScenarioError(
            villages.attrs["file"],
            f"{villages.attrs['rows'][i]}, columns lon/lat",
            f"expected a village inside the extract's road network; '{villages['id'].iloc[i]}' lies "
            f"{away:,.1f} km outside it ({int(outside.sum())} village(s) outside)",
        )


def _units(inputs: BuildInputs, proj: _Projector) -> Any:
    """Units as a GeoDataFrame in the build CRS (metres) with id, zh, en; None without --units."""
    if inputs.units is None:
        return None
    import geopandas as gpd

    path = inputs.units
    if not path.is_file():
        raise ScenarioError(str(path), "--units", "expected an existing GeoJSON or GeoPackage of boundaries")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        raise ScenarioError(str(path), "(file)", f"expected a GeoJSON or GeoPackage file ({exc})") from None
    if not len(gdf):
        raise ScenarioError(str(path), "(features)", "expected at least one unit boundary")
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    if not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise ScenarioError(str(path), "geometry", "expected polygon features (unit boundaries)")
    key = next((c for c in ("id", "code", "adcode", "name") if c in gdf), None)
    if key is None:
        raise ScenarioError(str(path), "id", "expected an id, code or name property per unit")
    ids = gdf[key].astype(str)
    if ids.duplicated().any():
        raise ScenarioError(
            str(path), key, f"expected unique unit ids, '{ids[ids.duplicated()].iloc[0]}' repeats"
        )
    out = gdf.to_crs(proj.crs)
    out["id"] = ["u" + "".join(ch if ch.isalnum() else "_" for ch in i) for i in ids]
    out["zh"] = (gdf["name_zh"] if "name_zh" in gdf else gdf.get("name", ids)).astype(str).to_numpy()
    out["en"] = (gdf["name_en"] if "name_en" in gdf else gdf.get("name", ids)).astype(str).to_numpy()
    return out[["id", "zh", "en", "geometry"]]


def _which_unit(units: Any, xy_km: np.ndarray, ids: list[str], file: str, what: str) -> list[str]:
    """Unit of each point by point-in-polygon (geopandas); a point in no unit is an error."""
    import geopandas as gpd

    pts = gpd.GeoDataFrame(
        {"pid": np.arange(len(xy_km))},
        geometry=gpd.points_from_xy(xy_km[:, 0] * 1000, xy_km[:, 1] * 1000),
        crs=units.crs,
    )
    hit = gpd.sjoin(pts, units, how="left", predicate="within").drop_duplicates("pid").sort_values("pid")
    missing = hit["id"].isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise ScenarioError(
            file,
            f"{what} '{ids[i]}'",
            f"expected it inside a unit boundary; {int(missing.sum())} {what}s lie in none",
        )
    return hit["id"].astype(str).tolist()


# --- facilities -------------------------------------------------------------------------------


def _poi_keys(rules: list[dict[str, Any]]) -> dict[str, list[str] | bool]:
    keys: dict[str, list[str] | bool] = {}
    for rule in rules:
        for key, value in rule["tags"].items():
            if value == "*":
                keys[key] = True
            elif keys.get(key) is not True:
                keys.setdefault(key, [])
                assert isinstance(keys[key], list)
                keys[key].append(str(value))  # type: ignore[union-attr]
    return keys


def _match(tags: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    for rule in rules:
        if all(k in tags and (v == "*" or tags[k] == str(v)) for k, v in rule["tags"].items()):
            return rule
    return None


def _facility_rows(inputs: BuildInputs, osm: OsmExtract, rules: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for _, poi in osm.pois.iterrows():
        rule = _match(poi["tags"], rules)
        if rule is None:
            continue
        rows.append(
            {
                "id": f"{rule['kind']}_{poi['osm_id']}",
                "kind": rule["kind"],
                "lon": poi["lon"],
                "lat": poi["lat"],
                "name": poi["tags"].get("name", ""),
                "servers": int(rule.get("servers", 0)),
                "level": rule.get("level"),
                "seats": rule.get("seats"),
                "source": "OpenStreetMap "
                + "/".join(f"{k}={v}" for k, v in rule["tags"].items())
                + "; servers/seats assumed",
            }
        )
    if inputs.facilities is not None:
        table = _read_points(inputs.facilities, "facilities")
        for col in ("id", "kind"):
            if col not in table:
                raise ScenarioError(str(inputs.facilities), col, "expected id, kind, lon, lat columns")
        first = 2 if inputs.facilities.suffix.lower() == ".csv" else 1
        for i, (_, row) in enumerate(table.iterrows()):
            counts = {
                col: _count(row.get(col, np.nan), str(inputs.facilities), f"row {i + first}, column {col}")
                for col in ("servers", "seats")
            }
            if str(row["kind"]) == "school" and counts["seats"] is None:
                raise ScenarioError(
                    str(inputs.facilities),
                    f"row {i + first}, column seats",
                    "expected a whole number of seats for a school (blank or NaN gives none)",
                )
            rows.append(
                {
                    "id": str(row["id"]),
                    "kind": str(row["kind"]),
                    "lon": float(row["lon"]),
                    "lat": float(row["lat"]),
                    "name": str(row.get("name", "") or ""),
                    "servers": counts["servers"] or 0,
                    "level": row.get("level") if isinstance(row.get("level"), str) else None,
                    "seats": counts["seats"],
                    "source": f"{inputs.facilities}",
                }
            )
    frame = pd.DataFrame(
        rows, columns=["id", "kind", "lon", "lat", "name", "servers", "level", "seats", "source"]
    )
    if frame["id"].duplicated().any():
        raise ScenarioError(
            str(inputs.facilities),
            "id",
            f"expected unique facility ids, '{frame['id'][frame['id'].duplicated()].iloc[0]}' repeats",
        )
    return frame


# --- assembly ---------------------------------------------------------------------------------


def _speeds(template: dict[str, Any], classes: set[str]) -> dict[str, Any]:
    modes = {}
    for name, mode in template["modes"].items():
        table = dict(mode["speed_kph"])
        other = table.pop("other", None)
        speeds = {}
        for cls in sorted(classes):
            if cls in table:
                speeds[cls] = table[cls]
            elif other is not None:
                speeds[cls] = other
            else:
                raise ScenarioError(
                    "template", f"modes.{name}.speed_kph", f"expected a speed for '{cls}' or 'other'"
                )
        modes[name] = {**mode, "speed_kph": speeds, "source": mode.get("source", "assumed (build template)")}
    return modes


def _connectors(points: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """Two-way links from each point (village or seat) to its nearest road node, straight line."""
    tree = cKDTree(nodes[["x_km", "y_km"]].to_numpy())
    dist, idx = tree.query(points[["x_km", "y_km"]].to_numpy())
    return pd.DataFrame(
        {
            "u": points["id"].to_numpy(),
            "v": nodes["id"].to_numpy()[idx],
            "length_km": dist,
            "road_class": "connector",
            "oneway": False,
            "time_min": np.nan,
            "fare_yuan": np.nan,
        }
    )


def _check_loads(path: Path, inputs: BuildInputs) -> None:
    """Load the written scenario and compile its world (so a build never leaves a folder that
    ``townsim validate`` refuses); a failure names the user's input the field came from."""
    from sim.scenario.load import load_scenario
    from sim.world.world import build_world

    try:
        build_world(load_scenario(path))
    except ScenarioError as exc:
        root = exc.field.split(".")[0].split("[")[0]
        source = {
            "villages": inputs.villages or inputs.osm,
            "units": inputs.units or inputs.osm,
            "facilities": inputs.facilities or inputs.osm,
            "roads": inputs.osm,
            "transit": inputs.gtfs or inputs.osm,
        }.get(root, inputs.template)
        field = exc.field
        hit = re.match(r"villages\[(\d+)\]", field)
        if hit and inputs.villages is not None:  # the built villages keep the order of the user's rows
            row = int(hit.group(1))
            where = f"line {row + 2}" if inputs.villages.suffix.lower() == ".csv" else f"feature {row + 1}"
            field = where + field[hit.end() :]
        raise ScenarioError(
            str(source), field, f"{exc.expected} (in the scenario built from this file)"
        ) from None


def build_scenario(inputs: BuildInputs, out: Path) -> dict[str, Any]:
    """Write a scenario folder at ``out`` (atomically) and return its build report.

    numpy's floating-point warnings stay inside: a value they would flag is refused by the
    checks of the inputs or of the written scenario, with the user's file named.

    Raises:
        ScenarioError: an input is missing or malformed (named with the field at fault).
        SimError: ``out`` exists and is not a folder written by ``townsim build``.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _build(inputs, Path(out))


def _build(inputs: BuildInputs, out: Path) -> dict[str, Any]:
    out = Path(out)
    from sim.ownership import check_replaceable

    check_replaceable(out, KIND)  # before the work; again under the lock when writing
    if (inputs.gtfs is None) != (inputs.gtfs_date is None):
        raise ScenarioError(
            str(inputs.gtfs or "--gtfs"), "--gtfs-date", "expected --gtfs and --gtfs-date together"
        )
    template = read_template(inputs.template)
    notes = list(inputs.notes)
    osm = read_osm(inputs.osm, poi_keys=_poi_keys(template["facility_tags"]))
    crs = inputs.crs or local_crs(osm.nodes["lon"].to_numpy(), osm.nodes["lat"].to_numpy())
    proj = _Projector(crs)
    road_nodes, edges = _road_tables(osm, proj, notes)
    ferries = _ferry_edges(osm, proj, road_nodes, template["ferry"], notes, str(inputs.osm))

    warns: list[str] = []
    villages = _villages(inputs, osm, template, notes, warns)
    village_xy = proj.km(villages["lon"], villages["lat"])
    villages["x_km"], villages["y_km"] = village_xy[:, 0], village_xy[:, 1]
    _check_inside(villages, road_nodes)
    facilities = _facility_rows(inputs, osm, template["facility_tags"])
    fac_xy = proj.km(facilities["lon"], facilities["lat"]) if len(facilities) else np.zeros((0, 2))
    units = _units(inputs, proj)
    if units is None:
        unit_rows: list[dict[str, Any]] = [{"id": "all", "zh": "全域", "en": "Whole area", "geometry": None}]
        villages["unit"] = "all"
        fac_unit = ["all"] * len(facilities)
    else:
        unit_rows = units.to_dict("records")
        villages["unit"] = _which_unit(
            units,
            villages[["x_km", "y_km"]].to_numpy(),
            villages["id"].tolist(),
            str(inputs.villages or inputs.osm),
            "village",
        )
        fac_unit = (
            _which_unit(
                units, fac_xy, facilities["id"].tolist(), str(inputs.facilities or inputs.osm), "facility"
            )
            if len(facilities)
            else []
        )
    unit_block: dict[str, Any] = {}
    seat_rows = []
    for unit in unit_rows:
        uid = unit["id"]
        halls = [
            i for i in range(len(facilities)) if fac_unit[i] == uid and facilities["kind"].iloc[i] == "hall"
        ]
        if halls:
            seat, how = fac_xy[halls[0]], f"at the hall {facilities['id'].iloc[halls[0]]}"
        elif unit["geometry"] is not None:
            p = unit["geometry"].representative_point()
            seat, how = np.array([p.x / 1000, p.y / 1000]), "a point inside the boundary (no hall found)"
        else:
            members = villages[villages["unit"] == uid]
            seat, how = (
                members[["x_km", "y_km"]].mean().to_numpy(),
                "the mean of its villages (no hall found)",
            )
        area = float(unit["geometry"].area / 1e6) if unit["geometry"] is not None else None
        unit_block[uid] = {
            "zh": unit["zh"],
            "en": unit["en"],
            "seat": [round(float(seat[0]), 4), round(float(seat[1]), 4)],
            "island": "main",
            **({"area_km2": round(area, 3)} if area else {}),
            "source": f"boundaries {inputs.units}; seat {how}"
            if inputs.units
            else f"whole extract; seat {how}",
        }
        seat_rows.append({"id": f"seat:{uid}", "x_km": seat[0], "y_km": seat[1]})
    if not len(villages[villages["unit"].isin(list(unit_block))]):
        raise ScenarioError(
            str(inputs.villages or inputs.osm), "villages", "expected villages inside the units"
        )
    connect = _connectors(pd.concat([villages[["id", "x_km", "y_km"]], pd.DataFrame(seat_rows)]), road_nodes)
    roads = pd.concat([edges, ferries, connect], ignore_index=True)
    classes = set(roads["road_class"]) - {"ferry"}
    fac_block: dict[str, Any] = {}
    levels = set(template.get("schools", {}).get("levels", {}))
    for i in range(len(facilities)):
        row = facilities.iloc[i]
        if row["kind"] == "school" and row["level"] not in levels:
            notes.append(
                f"facility {row['id']}: school level {row['level']!r} not in the template's levels; left out"
            )
            continue
        entry: dict[str, Any] = {
            "kind": row["kind"],
            "unit": fac_unit[i],
            "at": [round(float(fac_xy[i, 0]), 4), round(float(fac_xy[i, 1]), 4)],
            "servers": int(row["servers"]),
            "source": row["source"],
        }
        if row["name"]:
            entry["en"] = entry["zh"] = str(row["name"])
        if row["kind"] == "school":
            entry["level"], entry["seats"] = row["level"], int(row["seats"] or 0)
        fac_block[str(row["id"])] = entry
    scenario: dict[str, Any] = {
        "name": inputs.name or out.name,
        "description": f"Built by townsim build from {inputs.osm.name}",
        "crs": crs,
        "age_bands": template["age_bands"],
        "units": unit_block,
        "villages": {"file": "villages.csv"},
        "roads": {"file": "roads.csv", "nodes": "road_nodes.csv"},
        "modes": _speeds(template, classes),
        "services": template["services"],
        "facility_defaults": template.get("facility_defaults", {}),
        "facilities": fac_block,
        "schools": template.get("schools", {}),
        "simulation": template.get("simulation", {}),
    }
    report: dict[str, Any] = {
        "townsim_build": 1,
        "crs": crs,
        "inputs": {
            k: {"path": str(p), "sha256": _sha256(p)}
            for k, p in (
                ("osm", inputs.osm),
                ("villages", inputs.villages),
                ("units", inputs.units),
                ("gtfs", inputs.gtfs),
                ("facilities", inputs.facilities),
                ("template", inputs.template),
            )
            if p is not None
        },
        "counts": {
            "road_nodes": len(road_nodes),
            "road_edges": len(edges),
            "one_way_edges": int(edges["oneway"].sum()),
            "ferries": len(ferries),
            "villages": len(villages),
            "residents": int(villages[[f"pop_{b}" for b in template["age_bands"]]].to_numpy().sum()),
            "units": len(unit_block),
            "facilities": {
                k: int(v)
                for k, v in pd.Series([f["kind"] for f in fac_block.values()]).value_counts().items()
            },
        },
        "population_source": villages.attrs.get("source", ""),
        "notes": notes,
        "warnings": warns,
    }
    from sim.ownership import write_dir_owned

    def fill(tmp: Path) -> None:
        if inputs.gtfs is not None:
            target = tmp / ("gtfs.zip" if inputs.gtfs.is_file() else "gtfs")
            (shutil.copy2 if inputs.gtfs.is_file() else shutil.copytree)(inputs.gtfs, target)
            scenario["transit"] = {"gtfs": {"path": target.name, "date": inputs.gtfs_date}}
        names = [c for c in ("name", "zh", "en") if c in villages]
        cols = ["id", "unit", "x_km", "y_km", *[f"pop_{b}" for b in template["age_bands"]], *names]
        villages[cols].assign(source=villages.attrs.get("source", "")).to_csv(
            tmp / "villages.csv", index=False
        )
        road_nodes.to_csv(tmp / "road_nodes.csv", index=False)
        roads.assign(oneway=roads["oneway"].map({True: "yes", False: ""})).to_csv(
            tmp / "roads.csv", index=False
        )
        (tmp / "scenario.yaml").write_text(
            yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        (tmp / MARKER).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        _check_loads(tmp / "scenario.yaml", inputs)

    write_dir_owned(out, KIND, fill)
    return report
