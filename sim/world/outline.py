"""A county's real outline (coastline) for maps: read the shipped GeoJSON (WGS 84) and give its
rings in a scenario's km plane."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["LOCAL_PLANE", "PINGTAN_OUTLINE", "outline_rings_km"]

PINGTAN_OUTLINE = Path(__file__).resolve().parents[2] / "scenarios" / "pingtan" / "outline.geojson"
# the km plane of hand-written scenarios: transverse Mercator with x = y = 0 km at origin_latlon
LOCAL_PLANE = "+proj=tmerc +lat_0={lat} +lon_0={lon} +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


def outline_rings_km(
    path: Path = PINGTAN_OUTLINE,
    *,
    crs: str | None = None,
    origin_latlon: tuple[float, float] = (25.5, 119.75),
) -> list[np.ndarray]:
    """Exterior rings of the outline's polygons, (points, 2) km each, largest first.

    In ``crs`` (metres, as a built scenario records it) if given, else in the local plane with
    x = y = 0 km at ``origin_latlon`` (lat, lon) -- the plane of ``transit.origin_latlon``.
    """
    from pyproj import Transformer
    from shapely.geometry import shape

    geom = shape(json.loads(Path(path).read_text(encoding="utf-8"))["features"][0]["geometry"])
    target = crs or LOCAL_PLANE.format(lat=origin_latlon[0], lon=origin_latlon[1])
    to_km = Transformer.from_crs("EPSG:4326", target, always_xy=True)
    polygons = sorted(getattr(geom, "geoms", [geom]), key=lambda p: -p.area)
    rings = []
    for poly in polygons:
        lon, lat = np.asarray(poly.exterior.coords).T
        x, y = to_km.transform(lon, lat)
        rings.append(np.column_stack([np.asarray(x), np.asarray(y)]) / 1000.0)
    return rings
