"""Spatial queries, measurements and CRS round-trips with known coordinates (R-0-coords, R-0-twin)."""

import math

import numpy as np
import pytest
import shapely
from django.core.exceptions import ValidationError
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from zhili.core import geo, spatial
from zhili.core.fields import validate_geometry
from zhili.geo import gisio, render
from zhili.places.models import Building

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-0-coords")]


def test_bbox_intersects_within_distance_and_nearest(town):
    check_spatial_queries(town)


@pytest.fixture
def postgis():
    """PostGIS in the test database, when the PostgreSQL server has the extension installed."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(f"PostGIS needs PostgreSQL (this run uses {connection.vendor})")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        if cursor.fetchone() is None:
            pytest.skip(
                "PostGIS is not installed on this PostgreSQL server (Debian: postgresql-15-postgis-3)"
            )
        cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")  # rolled back with the test
    connection._zhili_postgis = None
    assert spatial.has_postgis()
    yield
    connection._zhili_postgis = None


def test_spatial_queries_run_in_postgis_when_present(town, postgis):
    """The same answers as the Shapely path, computed by ST_Intersects / ST_DWithin / ST_Distance."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        check_spatial_queries(town)
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "ST_Intersects" in sql and "ST_DWithin" in sql and "ST_Distance" in sql
    far = spatial.nearest(Building.objects.all(), 120.5, 30.5, 1)
    assert len(far) == 1 and far[0][1] > 40_000


def check_spatial_queries(town):
    qs = Building.objects.all()
    west_ids = {b.pk for b in town["west_buildings"]}
    assert set(spatial.in_bbox(qs, 119.9, 30.2, 119.95, 30.25).values_list("pk", flat=True)) == west_ids
    triangle = Polygon([(119.90, 30.20), (119.95, 30.20), (119.90, 30.25)])
    hits = set(spatial.intersecting(qs, triangle).values_list("pk", flat=True))
    # Buildings on the diagonal x+y=const: the first few of the west row lie inside the triangle.
    inside = {b.pk for b in town["west_buildings"] if triangle.intersects(b.geometry)}
    assert hits == inside and 0 < len(hits) < 10
    first = town["west_buildings"][0]
    pairs = spatial.distances_m(qs, 119.905, 30.205, 700)
    assert [pk for pk, _d in pairs] == [first.pk, town["west_buildings"][1].pk]
    assert pairs[0][1] == 0.0
    # Building 1 is centred 0.004° east and north: ≈ 570 m to the centre, minus the half-width to the edge.
    centre_distance = geo.distance_m(119.905, 30.205, 119.909, 30.209)
    assert 540 < pairs[1][1] < centre_distance
    assert set(spatial.within_distance(qs, 119.905, 30.205, 700).values_list("pk", flat=True)) == {
        first.pk,
        town["west_buildings"][1].pk,
    }
    nearest = spatial.nearest(qs, 119.96, 30.21, 3)
    east = town["east_buildings"]
    assert [pk for pk, _d in nearest] == [east[1].pk, east[2].pk, east[0].pk]
    distances = [d for _pk, d in nearest]
    assert distances == sorted(distances) and len(nearest) == 3


def test_nearest_expands_past_the_first_ring(town):
    far = spatial.nearest(Building.objects.all(), 120.5, 30.5, 1)
    assert len(far) == 1 and far[0][1] > 40_000


@pytest.mark.req("R-0-coords")
def test_lengths_and_areas_in_metres():
    # One degree of latitude at the equator on GRS80 is 110,574 m.
    assert geo.length_m(shapely.LineString([(0, 0), (0, 1)])) == pytest.approx(110574.4, abs=1)
    # A 0.001° square at 30°N: 96.5 m × 110.9 m.
    area = geo.area_m2(box(120, 30, 120.001, 30.001))
    assert area == pytest.approx(96.49 * 110.85, rel=0.002)


def test_crs_round_trips_with_known_coordinates():
    lon, lat = 119.96, 30.27
    to3857 = Transformer.from_crs(4490, 3857, always_xy=True)
    x, y = to3857.transform(lon, lat)
    # Spherical Mercator formulas (R = 6,378,137 m).
    r = 6378137
    assert x == pytest.approx(r * math.radians(lon), abs=0.01)
    assert y == pytest.approx(r * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)), abs=0.01)
    back = render.project(np.array([Point(lon, lat)], dtype=object), "EPSG:3857")[0]
    assert back.x == pytest.approx(x, abs=0.01)
    assert render.lonlat_bbox("EPSG:3857", (x, y, x, y))[0] == pytest.approx(lon, abs=1e-9)
    # Projected CGCS2000 (3° Gauss-Krüger, CM 120°E) to EPSG:4490 and back.
    gk = Transformer.from_crs(4490, 4549, always_xy=True)
    e, n = gk.transform(lon, lat)
    out = gisio.to_cgcs2000(np.array([Point(e, n)], dtype=object), "EPSG:4549")[0]
    assert out.x == pytest.approx(lon, abs=1e-8) and out.y == pytest.approx(lat, abs=1e-8)


def test_gcj02_is_converted_when_declared():
    lon, lat = 116.397128, 39.916527  # Tiananmen in WGS84/CGCS2000
    glon, glat = gisio.wgs84_to_gcj02(lon, lat)
    # The published GCJ-02 offset in Beijing is about +0.0062° lon, +0.0014° lat.
    assert float(glon) - lon == pytest.approx(0.00624, abs=0.0003)
    assert float(glat) - lat == pytest.approx(0.00140, abs=0.0003)
    back = gisio.to_cgcs2000(np.array([Point(float(glon), float(glat))], dtype=object), "gcj02")[0]
    assert geo.distance_m(back.x, back.y, lon, lat) < 0.01
    # Outside China nothing shifts.
    assert gisio.wgs84_to_gcj02(2.35, 48.85)[0] == pytest.approx(2.35)


def test_geometry_validity_is_a_clear_error():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    with pytest.raises(ValidationError) as invalid:
        validate_geometry(bowtie, ("Polygon",))
    assert invalid.value.code == "geometry_invalid" and "Self-intersection" in str(invalid.value.params)
    with pytest.raises(ValidationError) as wrong_type:
        validate_geometry(Point(1, 1), ("Polygon",))
    assert wrong_type.value.code == "geometry_type"
    with pytest.raises(ValidationError) as out_of_range:
        validate_geometry(Point(500, 30), None)
    assert out_of_range.value.code == "geometry_crs"


def test_metric_plane_agrees_with_geodesic_distances():
    for dlon, dlat in ((0.05, 0.0), (0.0, 0.045), (0.03, 0.03), (-0.004, 0.003)):
        point = spatial.to_metres(Point(119.96 + dlon, 30.27 + dlat), 119.96, 30.27)
        geodesic = geo.distance_m(119.96, 30.27, 119.96 + dlon, 30.27 + dlat)
        assert abs(Point(0, 0).distance(point) - geodesic) < 0.5
    back = spatial.from_metres(spatial.to_metres(Point(120.01, 30.3), 119.96, 30.27), 119.96, 30.27)
    assert back.equals_exact(Point(120.01, 30.3), 1e-9)
