"""Portable geometry: validity, types, CRS range, bbox columns and metres (R-0-coords)."""

import pytest
import shapely
from django.core.exceptions import ValidationError

from zhili.core.fields import parse_geometry, validate_geometry
from zhili.core.geo import area_m2, distance_m, length_m
from zhili.places.tests.factories import make_building, make_road

pytestmark = pytest.mark.req("R-0-coords")

BOWTIE = '{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}'


def test_invalid_geometry_is_a_clear_error_not_a_silent_fix():
    with pytest.raises(ValidationError) as info:
        validate_geometry(parse_geometry(BOWTIE), ("Polygon",))
    assert "Self-intersection" in " ".join(info.value.messages)


def test_wrong_type_and_projected_coordinates_are_rejected():
    with pytest.raises(ValidationError):
        validate_geometry(parse_geometry("POINT (119.9 30.2)"), ("Polygon",))
    with pytest.raises(ValidationError):
        validate_geometry(parse_geometry("POINT (500000 3350000)"), None)
    with pytest.raises(ValidationError):
        parse_geometry("{not geojson")


def test_measurements_are_geodesic_metres():
    # One degree of latitude near 30°N is about 110.85 km on GRS80.
    assert distance_m(120.0, 30.0, 120.0, 31.0) == pytest.approx(110_852, rel=1e-3)
    square = shapely.box(120.0, 30.0, 120.001, 30.001)
    assert area_m2(square) == pytest.approx(96.4 * 110.85, rel=1e-2)
    assert length_m(shapely.LineString([(120, 30), (120, 31)])) == pytest.approx(110_852, rel=1e-3)


@pytest.mark.django_db
def test_bbox_columns_follow_the_geometry_on_save_and_bulk_create():
    building = make_building(lon=119.95, lat=30.25)
    assert building.bbox_minx == pytest.approx(119.9499, abs=1e-6)
    assert building.bbox_maxy == pytest.approx(30.2501, abs=1e-6)
    road = make_road()
    assert road.length_m == pytest.approx(distance_m(119.91, 30.21, 119.92, 30.22), rel=1e-3)
    type(building).objects.bulk_create(
        [
            type(building)(
                code="BK1",
                address="x",
                division=building.division,
                geometry=shapely.box(119.0, 30.0, 119.1, 30.1),
            )
        ]
    )
    stored = type(building).objects.get(code="BK1")
    assert (stored.bbox_minx, stored.bbox_miny, stored.bbox_maxx, stored.bbox_maxy) == (
        119.0,
        30.0,
        119.1,
        30.1,
    )


@pytest.mark.django_db
def test_api_rejects_invalid_geometry_with_a_field_error(admin_client):
    from zhili.places.tests.factories import make_division

    division = make_division()
    response = admin_client.post(
        "/api/places/buildings/",
        {"code": "X1", "address": "a", "division": division.pk, "geometry": BOWTIE},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "geometry" in response.json()
