"""A county's real outline (coastline): read the shipped GeoJSON (WGS 84) and give its polygons
or their rings in a scenario's km plane (maps draw it; generated roads stay on it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import ScenarioError

if TYPE_CHECKING:
    from shapely.geometry import Polygon

__all__ = ["LOCAL_PLANE", "PINGTAN_OUTLINE", "outline_polygons_km", "outline_rings_km", "read_outline"]

PINGTAN_OUTLINE = Path(__file__).resolve().parents[2] / "scenarios" / "pingtan" / "outline.geojson"
# the km plane of hand-written scenarios: transverse Mercator with x = y = 0 km at origin_latlon
LOCAL_PLANE = "+proj=tmerc +lat_0={lat} +lon_0={lon} +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


def outline_polygons_km(
    path: Path = PINGTAN_OUTLINE,
    *,
    crs: str | None = None,
    origin_latlon: tuple[float, float] = (25.5, 119.75),
) -> list[Polygon]:
    """The outline's polygons (holes kept) in km, largest first.

    In ``crs`` (metres, as a built scenario records it) if given, else in the local plane with
    x = y = 0 km at ``origin_latlon`` (lat, lon) -- the plane of ``transit.origin_latlon``.
    """
    import shapely
    from pyproj import Transformer

    geom = read_outline(Path(path))
    target = crs or LOCAL_PLANE.format(lat=origin_latlon[0], lon=origin_latlon[1])
    to_km = Transformer.from_crs("EPSG:4326", target, always_xy=True)

    def km(xy: np.ndarray) -> np.ndarray:
        x, y = to_km.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(x), np.asarray(y)]) / 1000.0

    polygons = [shapely.transform(p, km) for p in getattr(geom, "geoms", [geom])]
    return sorted(polygons, key=lambda p: -p.area)


def _geometries(doc: Any, file: str) -> list[dict[str, Any]]:
    """The geometry objects of a GeoJSON FeatureCollection, Feature or bare geometry."""
    if not isinstance(doc, dict):
        raise ScenarioError(file, "type", "expected a GeoJSON object (FeatureCollection, Feature or Polygon)")
    if doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list) or not features:
            raise ScenarioError(file, "features", "expected at least one feature with a polygon")
        return [_geometries(f, file)[0] for f in features]
    if doc.get("type") == "Feature":
        if not isinstance(doc.get("geometry"), dict):
            raise ScenarioError(file, "geometry", "expected a Polygon or MultiPolygon geometry")
        return [doc["geometry"]]
    return [doc]


def read_outline(path: Path) -> Any:
    """The land of a GeoJSON outline (WGS 84 lon/lat); several polygon features are united.

    Raises ScenarioError (exit 2) naming the file and field for a missing, unreadable or
    malformed file, a geometry that is not a Polygon/MultiPolygon, coordinates outside lon/lat
    ranges or not finite, or an invalid or empty polygon.
    """
    import shapely
    from shapely.geometry import shape

    file = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ScenarioError(file, "outline", f"expected a readable GeoJSON file ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ScenarioError(file, "outline", f"expected UTF-8 GeoJSON ({exc})") from None
    parts = []
    for i, raw in enumerate(_geometries(doc, file)):
        where = f"features[{i}].geometry"
        if raw.get("type") not in ("Polygon", "MultiPolygon"):
            raise ScenarioError(file, where, f"expected a Polygon or MultiPolygon, got {raw.get('type')!r}")
        try:
            geom = shape(raw)
            xy = shapely.get_coordinates(geom)
        except (ValueError, TypeError, KeyError, IndexError, shapely.errors.GEOSException) as exc:
            raise ScenarioError(file, where, f"expected polygon rings of [lon, lat] pairs ({exc})") from None
        if not np.isfinite(xy).all() or (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
            raise ScenarioError(file, where, "expected finite WGS 84 lon/lat (lon -180..180, lat -90..90)")
        if geom.is_empty or not geom.is_valid or geom.area <= 0:
            raise ScenarioError(file, where, "expected a valid polygon with area (no self-crossing rings)")
        parts.append(geom)
    return parts[0] if len(parts) == 1 else shapely.unary_union(parts)


def outline_rings_km(
    path: Path = PINGTAN_OUTLINE,
    *,
    crs: str | None = None,
    origin_latlon: tuple[float, float] = (25.5, 119.75),
) -> list[np.ndarray]:
    """Exterior rings of the outline's polygons, (points, 2) km each, largest first (see
    :func:`outline_polygons_km` for the plane)."""
    polygons = outline_polygons_km(path, crs=crs, origin_latlon=origin_latlon)
    return [np.asarray(p.exterior.coords) for p in polygons]
