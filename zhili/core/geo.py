"""Measurements in metres on the CGCS2000 ellipsoid (GRS80), without a projection (R-0-coords)."""

from pyproj import Geod
from shapely.geometry.base import BaseGeometry

#: CGCS2000 uses the GRS80 ellipsoid (inverse flattening 298.257222101).
GEOD = Geod(ellps="GRS80")


def length_m(geom: BaseGeometry) -> float:
    """Return the geodesic length of a line (or perimeter of a polygon) in metres."""
    return float(GEOD.geometry_length(geom))


def area_m2(geom: BaseGeometry) -> float:
    """Return the geodesic area of a polygon in square metres."""
    area, _perimeter = GEOD.geometry_area_perimeter(geom)
    return abs(float(area))


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the geodesic distance between two points in metres."""
    _az1, _az2, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)
