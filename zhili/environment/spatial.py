"""Metric geometry for town-sized areas: lon/lat (CGCS2000) ↔ local metres.

A town spans a few kilometres, so a local equirectangular projection around a reference point
is accurate to well under 1 % — enough for distances to roads and sites, dwell geofences and
route corridors — and is much faster than a full CRS transform per call.
"""

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQ = 111_320.0


class LocalFrame:
    def __init__(self, lon0: float, lat0: float):
        self.lon0, self.lat0 = lon0, lat0
        self.kx = M_PER_DEG_LON_EQ * math.cos(math.radians(lat0))
        self.ky = M_PER_DEG_LAT

    @classmethod
    def around(cls, geom: BaseGeometry) -> "LocalFrame":
        c = geom.centroid if not geom.is_empty else None
        return cls(c.x, c.y) if c is not None else cls(120.0, 30.0)

    def to_m(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(
            geom,
            lambda xy: np.column_stack(((xy[:, 0] - self.lon0) * self.kx, (xy[:, 1] - self.lat0) * self.ky)),
        )

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(
            geom, lambda xy: np.column_stack((xy[:, 0] / self.kx + self.lon0, xy[:, 1] / self.ky + self.lat0))
        )

    def xy(self, lon, lat):
        return (np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky
