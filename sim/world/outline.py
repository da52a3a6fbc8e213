"""A county's real outline (coastline): read the shipped GeoJSON (WGS 84) and give its polygons
or their rings in a scenario's km plane (maps draw it; generated roads stay on it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from shapely.geometry import Polygon

__all__ = ["LOCAL_PLANE", "PINGTAN_OUTLINE", "outline_polygons_km", "outline_rings_km"]

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
    from shapely.geometry import shape

    geom = shape(json.loads(Path(path).read_text(encoding="utf-8"))["features"][0]["geometry"])
    target = crs or LOCAL_PLANE.format(lat=origin_latlon[0], lon=origin_latlon[1])
    to_km = Transformer.from_crs("EPSG:4326", target, always_xy=True)

    def km(xy: np.ndarray) -> np.ndarray:
        x, y = to_km.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(x), np.asarray(y)]) / 1000.0

    polygons = [shapely.transform(p, km) for p in getattr(geom, "geoms", [geom])]
    return sorted(polygons, key=lambda p: -p.area)


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
