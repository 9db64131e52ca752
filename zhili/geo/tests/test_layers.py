"""Layer registry, GeoJSON REST, spatial query API, thematic maps and village view (R-0-twin,
R-5.3.2-query, R-8.1-grid)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from zhili.core.api.serializers import sensitive_fields_of
from zhili.core.registry import registry
from zhili.geo.layers import layers
from zhili.geo.models import LayerStyle
from zhili.geo.tests.conftest import PASSWORD, token_for
from zhili.places.models import Building

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-0-twin")]


def test_every_registered_model_with_geometry_is_a_layer():
    expected = {e.label for e in registry if e.geometry_field is not None}
    assert {layer.name for layer in layers.all()} >= expected
    assert {
        "places.building",
        "places.waterbody",
        "places.division",
        "places.grid",
        "places.road",
    } <= expected
    building = layers.get("places.building")
    assert building.source.geometry_types == ("Polygon", "MultiPolygon")
    assert {"code", "floors", "grid", "use"} <= {a.name for a in building.source.fields()}
    assert layers.get("people.resident") is None  # no geometry, no layer


def test_features_match_the_rest_api_and_are_masked_like_it(client, town, monkeypatch):
    """Layer attributes are the REST serializer's output: same values, same masking."""
    field = Building._meta.get_field("address")
    monkeypatch.setattr(field, "is_sensitive", True, raising=False)
    monkeypatch.setattr(field, "mask", "address", raising=False)
    sensitive_fields_of.cache_clear()
    try:
        client.login(username="geo_worker", password=PASSWORD)
        building = town["west_buildings"][0]
        api = client.get(f"/api/places/buildings/{building.pk}/").json()
        feature = client.get(f"/geo/api/layers/places.building/features/{building.pk}/").json()
        api.pop("geometry")
        assert feature["properties"] == api
        assert feature["properties"]["address"].endswith("****")
        # A masked attribute cannot be used to filter (it would leak the value).
        bad = client.get("/geo/api/layers/places.building/features/", {"address__like": "测试"})
        assert bad.status_code == 400 and "address__like" in bad.json()
    finally:
        sensitive_fields_of.cache_clear()


def test_geojson_rest_bbox_filters_scope_and_auth(client, town):
    url = "/geo/api/layers/places.building/features/"
    assert client.get(url).status_code == 401
    headers = {"HTTP_AUTHORIZATION": f"Token {token_for(town['admin'])}"}
    data = client.get(url, {"bbox": "119.9,30.2,119.95,30.25"}, **headers).json()
    assert data["numberMatched"] == 10
    Building.objects.filter(pk=town["east_buildings"][0].pk).update(floors=9)
    assert client.get(url, {"floors__gte": "5"}, **headers).json()["numberMatched"] == 1
    assert client.get(url, {"use": "residential", "limit": "3"}, **headers).json()["numberReturned"] == 3
    assert client.get(url, {"bbox": "1,2,3"}, **headers).status_code == 400
    assert client.get(url, {"floors__gte": "many"}, **headers).status_code == 400
    assert client.get(url, {"nope": "1"}, **headers).status_code == 400
    worker = {"HTTP_AUTHORIZATION": f"Token {token_for(town['worker'])}"}
    assert client.get(url, **worker).json()["numberMatched"] == 10
    outsider = {"HTTP_AUTHORIZATION": f"Token {token_for(town['outsider'])}"}
    assert client.get(url, **outsider).status_code == 403
    assert client.get("/geo/api/layers/nothing/features/", **headers).status_code == 404


def test_public_layer_is_served_anonymously(client, town):
    LayerStyle.objects.create(layer="places.road", is_public=True)
    from zhili.places.tests.factories import make_road

    make_road()
    assert client.get("/geo/api/layers/places.road/features/").json()["numberMatched"] == 1
    names = [layer["name"] for layer in client.get("/geo/api/layers/").json()["layers"]]
    assert names == ["places.road"]
    assert client.get("/ogc/features/collections/places.road/items").status_code == 200
    assert client.get("/ogc/features/collections/places.building/items").status_code == 401


@pytest.mark.req("R-5.3.2-query")
def test_spatial_query_api(client, town):
    client.login(username="geo_admin", password=PASSWORD)
    url = "/geo/api/query/"
    box = client.get(url, {"layer": "places.building", "op": "bbox", "bbox": "119.95,30.2,120,30.25"}).json()
    assert box["numberMatched"] == 5
    within = client.get(
        url,
        {"layer": "places.building", "op": "dwithin", "lon": "119.905", "lat": "30.205", "distance": "700"},
    ).json()
    assert [f["properties"]["code"] for f in within["features"]] == [
        b.code for b in town["west_buildings"][:2]
    ]
    assert within["features"][0]["properties"]["distance_m"] == 0
    nearest = client.get(
        url, {"layer": "places.building", "op": "nearest", "lon": "119.96", "lat": "30.21", "n": "2"}
    ).json()
    assert [f["properties"]["code"] for f in nearest["features"]] == [
        town["east_buildings"][1].code,
        town["east_buildings"][2].code,
    ]
    polygon = "POLYGON ((119.9 30.2, 119.95 30.2, 119.9 30.25, 119.9 30.2))"
    inside = client.get(url, {"layer": "places.building", "op": "intersects", "geometry": polygon}).json()
    filtered = client.get(
        url,
        {
            "layer": "places.building",
            "op": "intersects",
            "geometry": polygon,
            "where.code": town["west_buildings"][0].code,
        },
    ).json()
    assert inside["numberMatched"] > filtered["numberMatched"] == 1
    buffered = client.get(
        url,
        {
            "layer": "places.building",
            "op": "intersects",
            "geometry": "POINT (119.905 30.205)",
            "buffer": "700",
        },
    ).json()
    assert buffered["numberMatched"] == 2
    assert (
        client.get(
            url, {"layer": "places.building", "op": "intersects", "geometry": "POLYGON ((0 0"}
        ).status_code
        == 400
    )
    assert client.get(url, {"layer": "places.building", "op": "dwithin", "lon": "x"}).status_code == 400
    assert client.get(url, {"layer": "places.building", "op": "teleport"}).status_code == 400
    measure = client.get("/geo/api/measure/", {"geometry": "LINESTRING (0 0, 0 1)"}).json()
    assert measure["length_m"] == pytest.approx(110574.4, abs=1)


def test_feature_popup_lists_linked_records(client, town):
    client.login(username="geo_admin", password=PASSWORD)
    building = town["west_buildings"][0]
    data = client.get(f"/geo/api/layers/places.building/features/{building.pk}/").json()
    groups = {g["model"]: g for g in data["related"]}
    assert {i["text"] for i in groups["people.resident"]["items"]} == {"王秀英", "赵建华"}
    assert groups["places.house"]["total"] == 1  # found through the foreign key, no declaration needed
    assert data["url"] == building.get_absolute_url()
    assert data["measures"]["area_m2"] > 100
    grid = client.get(f"/geo/api/layers/places.grid/features/{town['west'].pk}/").json()
    assert {g["model"] for g in grid["related"]} >= {"places.building", "people.resident"}


def test_thematic_maps_choropleth_and_heat(client, town):
    client.login(username="geo_admin", password=PASSWORD)
    listed = {t["name"] for t in client.get("/geo/api/layers/").json()["thematic"]}
    assert {"people.residents_by_grid", "people.residents_heat"} <= listed
    choropleth = client.get("/geo/api/thematic/people.residents_by_grid/").json()
    values = {f["id"]: f["properties"]["value"] for f in choropleth["features"]}
    assert values[town["west"].pk] == 2 and values[town["east"].pk] == 0
    assert choropleth["classes"]
    heat = client.get("/geo/api/thematic/people.residents_heat/").json()
    assert len(heat["points"]) == 1 and heat["points"][0][2] == 2  # both residents in one building
    floors = client.get("/geo/api/thematic/places.floor_area_heat/").json()
    assert len(floors["points"]) == 15
    assert client.get("/geo/api/thematic/nothing/").status_code == 404


def test_add_thematic_is_one_call(client, town):
    layers.add_thematic("test.roads_by_division", "Roads", source="places.road", by="division")
    try:
        client.login(username="geo_admin", password=PASSWORD)
        assert client.get("/geo/api/thematic/test.roads_by_division/").json()["kind"] == "choropleth"
    finally:
        layers.thematic.pop("test.roads_by_division")


@pytest.mark.req("R-8.1-grid")
def test_village_view_household_types(client, town):
    from zhili.people.models import Household

    Household.objects.create(number="H-1", household_type="floating", house=town["house"], grid=town["west"])
    Household.objects.create(number="H-2", household_type="empty", house=town["house"], grid=town["west"])
    client.login(username="geo_admin", password=PASSWORD)
    url = f"/geo/api/village/{town['village'].pk}/"
    data = client.get(url).json()
    assert len(data["features"]) == 15 and data["totals"] == {"permanent": 0, "floating": 1, "empty": 1}
    floating = client.get(url, {"household_type": "floating"}).json()
    assert [f["id"] for f in floating["features"]] == [town["west_buildings"][0].pk]
    assert client.get(url, {"household_type": "martian"}).status_code == 400
    assert client.get("/geo/api/village/999999/").status_code == 404


def test_layer_style_is_data_and_drives_rendering(client, town):
    style = LayerStyle(
        layer="places.building",
        kind="graduated",
        attribute="floors",
        classes='[{"min": 0, "max": 5, "color": "#ff0000"}]',
    )
    style.full_clean()
    style.save()
    client.login(username="geo_admin", password=PASSWORD)
    described = {layer["name"]: layer for layer in client.get("/geo/api/layers/").json()["layers"]}
    assert described["places.building"]["style"]["kind"] == "graduated"
    import io

    from PIL import Image

    png = client.get(
        "/ogc/wms",
        {
            "service": "WMS",
            "version": "1.3.0",
            "request": "GetMap",
            "layers": "places.building",
            "crs": "CRS:84",
            "bbox": "119.904,30.204,119.906,30.206",
            "width": 20,
            "height": 20,
            "format": "image/png",
            "transparent": "true",
        },
    ).content
    r, g, b, a = Image.open(io.BytesIO(png)).convert("RGBA").getpixel((10, 10))
    assert r > 200 and g < 80 and b < 80 and a > 0
    bad = LayerStyle(layer="places.building", kind="graduated", attribute="nope", classes="[oops")
    with pytest.raises(ValidationError) as exc:
        bad.full_clean()
    assert {"attribute", "classes"} <= set(exc.value.message_dict)


def test_map_pages_need_sign_in_and_link_from_nav(client, town):
    assert client.get("/geo/map/").status_code == 302
    client.login(username="geo_admin", password=PASSWORD)
    page = client.get("/geo/map/")
    assert page.status_code == 200 and b"geo/map.js" in page.content and b"<script>" not in page.content
    assert client.get("/geo/3d/").status_code == 200
    assert b'href="/geo/map/"' in client.get("/").content


def test_worker_without_permission_on_people_sees_no_residents(client, town):
    client.login(username="geo_worker", password=PASSWORD)
    data = client.get(f"/geo/api/layers/places.building/features/{town['west_buildings'][0].pk}/").json()
    assert "people.resident" not in {g["model"] for g in data["related"]}
    assert (
        client.get(f"/geo/api/layers/places.building/features/{town['east_buildings'][0].pk}/").status_code
        == 404
    )
    town["worker"].user_permissions.add(Permission.objects.get(codename="view_resident"))
    data = client.get(f"/geo/api/layers/places.building/features/{town['west_buildings'][0].pk}/").json()
    assert "people.resident" in {g["model"] for g in data["related"]}
