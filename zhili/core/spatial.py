"""Spatial queries every app uses (R-0-twin): bbox, intersects, within a distance, nearest N.

Works on any queryset of a model with a ``GeometryField`` and the four indexed bbox columns of
``GeoModel``. The bbox columns pre-filter in the database (an ordinary B-tree index, on SQLite
and PostgreSQL alike); Shapely 2's vectorised predicates (and an STRtree for nearest) give the
exact answer. Distances are in metres on a tangent plane at the query point scaled by the
CGCS2000 (GRS80) radii of curvature, within 0.5 m of the geodesic distance at 5 km. When PostgreSQL has the PostGIS extension
(``CREATE EXTENSION postgis``), the exact predicates and distances run in the database instead:
``ST_Intersects``, and ``ST_DWithin``/``ST_Distance`` on the geography type (geodesic metres).
"""

import math

import numpy as np
import shapely
from django.db import connections
from django.db.models import ExpressionWrapper, F, TextField
from shapely.geometry.base import BaseGeometry

from zhili.core.fields import GeometryField

#: Metres per degree of latitude (GRS80 mean); used only to size the bbox pre-filter generously.
METRES_PER_DEGREE = 111_320.0


def geometry_field_of(model) -> GeometryField:
    for f in model._meta.concrete_fields:
        if isinstance(f, GeometryField):
            return f
    raise ValueError(f"{model._meta.label} has no geometry field")


def bbox_filter(queryset, minx: float, miny: float, maxx: float, maxy: float):
    """Return rows whose bounding box meets the given lon/lat box (index only, no geometry read)."""
    return queryset.filter(bbox_maxx__gte=minx, bbox_minx__lte=maxx, bbox_maxy__gte=miny, bbox_miny__lte=maxy)


def _degree_box(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    dlat = metres / METRES_PER_DEGREE * 1.01 + 1e-9
    dlon = metres / (METRES_PER_DEGREE * max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)) * 1.01
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


#: GRS80 (CGCS2000) semi-major axis and first eccentricity squared.
GRS80_A = 6378137.0
GRS80_E2 = 0.00669438002290


def metre_scales(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at ``lat`` on the GRS80 ellipsoid
    (prime-vertical and meridional radii of curvature)."""
    phi = math.radians(lat)
    w = math.sqrt(1 - GRS80_E2 * math.sin(phi) ** 2)
    prime_vertical = GRS80_A / w
    meridional = GRS80_A * (1 - GRS80_E2) / w**3
    return math.radians(1) * prime_vertical * math.cos(phi), math.radians(1) * meridional


def to_metres(geoms, lon: float, lat: float):
    """Return the geometries (array or one) in metres east/north of (lon, lat).

    A local tangent plane scaled by the ellipsoid's radii of curvature at the point: distances
    agree with geodesic ones to about 1e-4 (0.5 m at 5 km), enough for "within 500 m" and
    "nearest", and there is no projection object to build per query point.
    """
    kx, ky = metre_scales(lat)
    return shapely.transform(
        geoms, lambda xy: np.column_stack(((xy[:, 0] - lon) * kx, (xy[:, 1] - lat) * ky))
    )


def from_metres(geoms, lon: float, lat: float):
    """Inverse of ``to_metres``."""
    kx, ky = metre_scales(lat)
    return shapely.transform(geoms, lambda xy: np.column_stack((xy[:, 0] / kx + lon, xy[:, 1] / ky + lat)))


def has_postgis(using: str = "default") -> bool:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    cached = getattr(connection, "_zhili_postgis", None)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
            cached = cursor.fetchone() is not None
        connection._zhili_postgis = cached
    return cached


def _load(queryset, fields=("pk",)):
    """Return (values rows, geometry array) of the queryset, parsing GeoJSON in one vectorised call."""
    name = geometry_field_of(queryset.model).attname
    rows = list(
        queryset.exclude(**{f"{name}__isnull": True})
        .exclude(**{name: ""})
        .annotate(_geom_text=raw_text(name))
        .values_list(*fields, "_geom_text")
    )
    if not rows:
        return [], np.empty(0, dtype=object)
    return [row[:-1] for row in rows], parse_many([row[-1] for row in rows])


def raw_text(name: str):
    """Return an expression selecting a geometry column as plain text (no per-row parsing)."""
    return ExpressionWrapper(F(name), output_field=TextField())


def parse_many(texts) -> np.ndarray:
    """Parse many GeoJSON texts in one vectorised call."""
    return shapely.from_geojson(np.asarray(texts, dtype=object))


def intersecting(queryset, geom: BaseGeometry):
    """Return the queryset narrowed to rows whose geometry intersects ``geom`` (lon/lat)."""
    minx, miny, maxx, maxy = geom.bounds
    candidates = bbox_filter(queryset, minx, miny, maxx, maxy)
    if has_postgis(queryset.db):
        return candidates.extra(
            where=[f"ST_Intersects({_postgis_geometry(queryset)}, ST_GeomFromText(%s, 4490))"],
            params=[geom.wkt],
        )
    rows, geoms = _load(candidates)
    if not rows:
        return queryset.none()
    shapely.prepare(geom)
    hits = shapely.intersects(geom, geoms)
    return queryset.filter(pk__in=[row[0] for row, hit in zip(rows, hits, strict=True) if hit])


def in_bbox(queryset, minx: float, miny: float, maxx: float, maxy: float):
    """Return rows whose geometry intersects the box (exact, not only the bbox columns)."""
    return intersecting(queryset, shapely.box(minx, miny, maxx, maxy))


def _postgis_geometry(queryset) -> str:
    """SQL for the queryset's geometry column as a PostGIS geometry in EPSG:4490."""
    quote = connections[queryset.db].ops.quote_name
    table, column = quote(queryset.model._meta.db_table), quote(geometry_field_of(queryset.model).column)
    return f"ST_SetSRID(ST_GeomFromGeoJSON({table}.{column}), 4490)"


def _postgis_distances(candidates, lon: float, lat: float, metres: float | None) -> list[tuple[int, float]]:
    """Geodesic distances on the GRS80 ellipsoid computed by PostGIS (geography), nearest first."""
    geometry = _postgis_geometry(candidates)
    name = geometry_field_of(candidates.model).attname
    point = "ST_SetSRID(ST_MakePoint(%s, %s), 4490)::geography"
    distance = f"ST_Distance({geometry}::geography, {point})"
    queryset = candidates.exclude(**{f"{name}__isnull": True}).exclude(**{name: ""})
    where, params = [], []
    if metres is not None:
        where, params = [f"ST_DWithin({geometry}::geography, {point}, %s)"], [lon, lat, metres]
    rows = (
        queryset.extra(select={"_distance_m": distance}, select_params=[lon, lat], where=where, params=params)
        .order_by("_distance_m", "pk")
        .values_list("pk", "_distance_m")
    )
    return [(pk, float(d)) for pk, d in rows]


def distances_m(queryset, lon: float, lat: float, metres: float | None = None) -> list[tuple[int, float]]:
    """Return ``[(pk, distance in metres)]`` of rows within ``metres`` of the point, nearest first."""
    candidates = queryset if metres is None else bbox_filter(queryset, *_degree_box(lon, lat, metres))
    if has_postgis(queryset.db):
        return _postgis_distances(candidates, lon, lat, metres)
    rows, geoms = _load(candidates)
    if not rows:
        return []
    projected = to_metres(geoms, lon, lat)
    dist = shapely.distance(shapely.Point(0, 0), projected)
    order = np.argsort(dist, kind="stable")
    result = []
    for i in order:
        if metres is not None and dist[i] > metres:
            break
        result.append((rows[i][0], float(dist[i])))
    return result


def within_distance(queryset, lon: float, lat: float, metres: float):
    """Return the queryset narrowed to rows within ``metres`` of the point (lon/lat)."""
    return queryset.filter(pk__in=[pk for pk, _d in distances_m(queryset, lon, lat, metres)])


def nearest(
    queryset, lon: float, lat: float, n: int = 1, max_metres: float = 50_000
) -> list[tuple[int, float]]:
    """Return up to ``n`` ``(pk, metres)`` nearest the point, searching outwards by bbox rings."""
    radius = 200.0
    while True:
        candidates = bbox_filter(queryset, *_degree_box(lon, lat, radius))
        found = candidates.count()
        if found >= n or radius >= max_metres:
            break
        radius *= 4
    if has_postgis(queryset.db):
        k = min(n, found)
        result = _postgis_distances(candidates, lon, lat, radius)[:k]
    else:
        rows, geoms = _load(candidates)
        if not rows:
            return []
        projected = to_metres(geoms, lon, lat)
        k = min(n, len(rows))
        # An STRtree answers "nearest k" without measuring every candidate.
        tree = shapely.STRtree(projected)
        origin = shapely.Point(0, 0)
        idx = tree.query(origin.buffer(radius, 16), predicate="intersects")
        dist = shapely.distance(origin, projected[idx])
        order = np.argsort(dist, kind="stable")[:k]
        result = [(rows[idx[i]][0], float(dist[i])) for i in order]
    if k == 0:
        return []
    if len(result) < k or (result and result[-1][1] > radius):
        # Rows in the box corners only: the n-th nearest may lie outside the box; measure once more.
        limit = max(result[-1][1] if result else radius, radius) * 1.5
        return distances_m(queryset, lon, lat, min(limit, max_metres * 1.5))[:k]
    return result
