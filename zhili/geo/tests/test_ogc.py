"""OGC services driven by OWSLib against a live server (R-11.2.1-ogc, R-0-twin)."""

import io
import json

import pytest
import requests
from owslib.etree import etree
from owslib.fes2 import PropertyIsEqualTo, PropertyIsGreaterThanOrEqualTo
from owslib.wfs import WebFeatureService
from owslib.wms import WebMapService
from owslib.wmts import WebMapTileService
from PIL import Image

from zhili.geo.models import LayerStyle
from zhili.geo.tests.conftest import token_for
from zhili.places.models import Building

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.req("R-11.2.1-ogc")]


def auth(user):
    return {"Authorization": f"Token {token_for(user)}"}


def wms_for(live_server, user):
    return WebMapService(f"{live_server.url}/ogc/wms", version="1.3.0", headers=auth(user))


def wfs_for(live_server, user):
    return WebFeatureService(f"{live_server.url}/ogc/wfs", version="2.0.0", headers=auth(user))


def test_capabilities_of_the_three_services_parse(live_server, town):
    headers = auth(town["admin"])
    wms = WebMapService(f"{live_server.url}/ogc/wms", version="1.3.0", headers=headers)
    assert "places.building" in wms.contents
    assert "EPSG:4490" in wms["places.building"].crsOptions
    assert wms.getOperationByName("GetMap").formatOptions == ["image/png"]
    wfs = WebFeatureService(f"{live_server.url}/ogc/wfs", version="2.0.0", headers=headers)
    assert "zhili:places.building" in wfs.contents
    assert "zhili:places.road" in wfs.contents
    wmts = WebMapTileService(f"{live_server.url}/ogc/wmts", headers=headers)
    assert "places.building" in wmts.contents
    assert {"GoogleMapsCompatible", "CGCS2000"} <= set(wmts.tilematrixsets)
    assert len(wmts.tilematrixsets["GoogleMapsCompatible"].tilematrix) == 21


def web_mercator_tile(lon, lat, z):
    """The XYZ tile holding a point (the slippy-map formula)."""
    import math

    n = 2**z
    col = int((lon + 180) / 360 * n)
    row = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return col, row


def _png(response) -> Image.Image:
    data = response.read() if hasattr(response, "read") else response
    return Image.open(io.BytesIO(data)).convert("RGBA")


def test_getmap_png_of_the_requested_size_shows_features_where_they_are(live_server, town):
    wms = wms_for(live_server, town["admin"])
    building = town["west_buildings"][0]  # a 22 m square centred on 119.905, 30.205
    lon, lat = 119.905, 30.205
    image = _png(
        wms.getmap(
            layers=["places.building"],
            srs="EPSG:4490",
            bbox=(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001),
            size=(200, 100),
            format="image/png",
            transparent=True,
        )
    )
    assert image.size == (200, 100)
    centre = image.getpixel((100, 50))
    corner = image.getpixel((5, 5))
    assert centre[3] > 0 and centre[2] > centre[0], f"the building is drawn blue at the centre: {centre}"
    assert corner[3] == 0, "nothing is drawn away from the building"
    # Web Mercator too, with x/y order.
    from pyproj import Transformer

    t = Transformer.from_crs(4490, 3857, always_xy=True)
    (x0, x1), (y0, y1) = t.transform([lon - 0.001, lon + 0.001], [lat - 0.001, lat + 0.001])
    merc = _png(
        wms.getmap(
            layers=["places.building"],
            srs="EPSG:3857",
            bbox=(x0, y0, x1, y1),
            size=(64, 64),
            format="image/png",
            transparent=True,
        )
    )
    assert merc.getpixel((32, 32))[3] > 0
    assert building.geometry.contains(__import__("shapely").Point(lon, lat))


def test_getfeatureinfo_json_and_html(live_server, town):
    wms = wms_for(live_server, town["admin"])
    lon, lat = 119.905, 30.205
    kwargs = {
        "layers": ["places.building"],
        "query_layers": ["places.building"],
        "srs": "EPSG:4490",
        "bbox": (lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001),
        "size": (100, 100),
        "format": "image/png",
        "xy": (50, 50),
    }
    data = json.loads(wms.getfeatureinfo(info_format="application/json", **kwargs).read())
    assert [f["properties"]["code"] for f in data["features"]] == [town["west_buildings"][0].code]
    html = wms.getfeatureinfo(info_format="text/html", **kwargs).read().decode()
    assert town["west_buildings"][0].code in html


def test_legend_graphic_is_a_png(live_server, town):
    response = requests.get(
        f"{live_server.url}/ogc/wms",
        params={
            "service": "WMS",
            "version": "1.3.0",
            "request": "GetLegendGraphic",
            "layer": "places.building",
            "format": "image/png",
        },
        headers=auth(town["admin"]),
        timeout=10,
    )
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert _png(response.content).size[0] == 200


def test_getfeature_counts_match_the_database_paging_and_hits(live_server, town):
    wfs = wfs_for(live_server, town["admin"])
    data = json.loads(
        wfs.getfeature(typename=["zhili:places.building"], outputFormat="application/json").read()
    )
    assert data["numberMatched"] == Building.objects.count() == 15
    assert len(data["features"]) == 15
    page = json.loads(
        wfs.getfeature(
            typename=["zhili:places.building"], outputFormat="application/json", maxfeatures=4, startindex=12
        ).read()
    )
    assert page["numberReturned"] == 3 and page["numberMatched"] == 15
    ids = [f["id"] for f in page["features"]]
    assert ids == [f"places.building.{b.pk}" for b in Building.objects.order_by("pk")[12:15]]
    hits = requests.get(
        f"{live_server.url}/ogc/wfs",
        params={
            "service": "WFS",
            "version": "2.0.0",
            "request": "GetFeature",
            "typeNames": "zhili:places.building",
            "resultType": "hits",
        },
        headers=auth(town["admin"]),
        timeout=10,
    )
    root = etree.fromstring(hits.content)
    assert root.get("numberMatched") == "15" and root.get("numberReturned") == "0"


def test_getfeature_gml_bbox_and_property_names(live_server, town):
    wfs = wfs_for(live_server, town["admin"])
    # OWSLib takes x/y and sends lat/lon for the urn CRS; the box covers only the west grid.
    gml = wfs.getfeature(
        typename=["zhili:places.building"],
        bbox=(119.9, 30.2, 119.949, 30.25, "urn:ogc:def:crs:EPSG::4490"),
        propertyname=["code", "geometry"],
    ).read()
    root = etree.fromstring(gml)
    assert root.get("numberMatched") == "10"
    members = root.findall("{http://www.opengis.net/wfs/2.0}member")
    assert len(members) == 10
    first = members[0][0]
    assert first.find("{https://zhili.example.org/geo}code") is not None
    assert first.find("{https://zhili.example.org/geo}address") is None
    pos = first.find(".//{http://www.opengis.net/gml/3.2}posList").text.split()
    assert 30.2 < float(pos[0]) < 30.25 and 119.9 < float(pos[1]) < 119.95, "lat/lon order for EPSG::4490"


def test_getfeature_attribute_filter_and_stored_query(live_server, town):
    wfs = wfs_for(live_server, town["admin"])
    target = town["east_buildings"][2]
    Building.objects.filter(pk=target.pk).update(floors=12)
    flt = etree.tostring(PropertyIsGreaterThanOrEqualTo(propertyname="floors", literal="10").toXML()).decode()
    xml = f'<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">{flt}</fes:Filter>'
    response = requests.get(
        f"{live_server.url}/ogc/wfs",
        params={
            "service": "WFS",
            "version": "2.0.0",
            "request": "GetFeature",
            "typeNames": "zhili:places.building",
            "outputFormat": "application/json",
            "FILTER": xml,
        },
        headers=auth(town["admin"]),
        timeout=10,
    )
    assert [f["properties"]["code"] for f in response.json()["features"]] == [target.code]
    eq = etree.tostring(PropertyIsEqualTo(propertyname="code", literal=target.code).toXML()).decode()
    assert "code" in eq
    byid = wfs.getfeature(
        storedQueryID="urn:ogc:def:query:OGC-WFS::GetFeatureById",
        storedQueryParams={"ID": f"places.building.{target.pk}"},
        outputFormat="application/json",
    ).read()
    assert json.loads(byid)["features"][0]["properties"]["code"] == target.code


def test_grid_worker_wfs_returns_only_their_grid(live_server, town):
    wfs = wfs_for(live_server, town["worker"])
    data = json.loads(
        wfs.getfeature(typename=["zhili:places.building"], outputFormat="application/json").read()
    )
    assert data["numberMatched"] == 10
    assert {f["properties"]["grid"] for f in data["features"]} == {town["west"].pk}
    # The worker may not see residents at all: the layer is not offered.
    assert "zhili:people.resident" not in wfs.contents


def test_masking_and_access_errors(live_server, town):
    url = f"{live_server.url}/ogc/wfs"
    params = {
        "service": "WFS",
        "version": "2.0.0",
        "request": "GetFeature",
        "typeNames": "zhili:places.building",
        "outputFormat": "application/json",
    }
    anonymous = requests.get(url, params=params, timeout=10)
    assert anonymous.status_code == 401
    assert b"ExceptionReport" in anonymous.content
    outsider = requests.get(url, params=params, headers=auth(town["outsider"]), timeout=10)
    assert outsider.status_code == 403 and b'exceptionCode="InvalidParameterValue"' in outsider.content
    bad = requests.get(url, params=params, headers={"Authorization": "Token zl_wrong"}, timeout=10)
    assert bad.status_code == 401
    missing = requests.get(
        url,
        params={"service": "WFS", "version": "2.0.0", "request": "GetFeature"},
        headers=auth(town["admin"]),
        timeout=10,
    )
    assert missing.status_code == 400 and b'exceptionCode="MissingParameterValue"' in missing.content
    unknown = requests.get(
        url, params={"service": "WFS", "request": "Transaction"}, headers=auth(town["admin"]), timeout=10
    )
    assert b'exceptionCode="OperationNotSupported"' in unknown.content
    wms = requests.get(
        f"{live_server.url}/ogc/wms",
        params={
            "service": "WMS",
            "version": "1.3.0",
            "request": "GetMap",
            "layers": "nope",
            "crs": "EPSG:4326",
            "bbox": "30,119,31,120",
            "width": 10,
            "height": 10,
            "format": "image/png",
        },
        headers=auth(town["admin"]),
        timeout=10,
    )
    assert b'code="LayerNotDefined"' in wms.content
    crs = requests.get(
        f"{live_server.url}/ogc/wms",
        params={
            "service": "WMS",
            "version": "1.3.0",
            "request": "GetMap",
            "layers": "places.building",
            "crs": "EPSG:2000",
            "bbox": "30,119,31,120",
            "width": 10,
            "height": 10,
            "format": "image/png",
        },
        headers=auth(town["admin"]),
        timeout=10,
    )
    assert b'code="InvalidCRS"' in crs.content


def test_public_layer_served_anonymously_and_masked(live_server, town):
    from zhili.people.models import Household

    LayerStyle.objects.create(layer="places.building", is_public=True)
    url = f"{live_server.url}/ogc/wfs"
    params = {
        "service": "WFS",
        "version": "2.0.0",
        "request": "GetFeature",
        "typeNames": "zhili:places.building",
        "outputFormat": "application/json",
    }
    response = requests.get(url, params=params, timeout=10)
    assert response.status_code == 200 and response.json()["numberMatched"] == 15
    assert Household._meta.get_field(
        "phone"
    ).is_sensitive  # masking is the serializer's: checked in test_layers


def test_gettile_several_zoom_levels_and_cache_invalidation(live_server, town, tile_dir):
    wmts = WebMapTileService(f"{live_server.url}/ogc/wmts", headers=auth(town["admin"]))
    lon, lat = 119.905, 30.205
    for z in (12, 15, 17):
        col, row = web_mercator_tile(lon, lat, z)
        response = wmts.gettile(
            layer="places.building",
            tilematrixset="GoogleMapsCompatible",
            tilematrix=str(z),
            row=row,
            column=col,
            format="image/png",
        )
        image = _png(response)
        assert image.size == (256, 256)
        assert image.getchannel("A").getextrema()[1] > 0, f"zoom {z} shows the building"
    # CGCS2000 set through the REST encoding.
    z = 14
    size = 180 / 2**z
    col, row = int((lon + 180) // size), int((90 - lat) // size)
    rest = requests.get(
        f"{live_server.url}/ogc/wmts/places.building/default/CGCS2000/{z}/{row}/{col}.png",
        headers=auth(town["admin"]),
        timeout=10,
    )
    assert rest.status_code == 200 and rest.headers["X-Tile-Cache"] == "MISS"
    again = requests.get(
        f"{live_server.url}/ogc/wmts/places.building/default/CGCS2000/{z}/{row}/{col}.png",
        headers=auth(town["admin"]),
        timeout=10,
    )
    assert again.headers["X-Tile-Cache"] == "HIT" and again.content == rest.content
    # Edit: move the building away; the next tile is drawn again and no longer shows it.
    building = town["west_buildings"][0]
    building.geometry = building.geometry.__class__(
        ((119.99, 30.29), (119.991, 30.29), (119.991, 30.291), (119.99, 30.291))
    )
    building.save()
    after = requests.get(
        f"{live_server.url}/ogc/wmts/places.building/default/CGCS2000/{z}/{row}/{col}.png",
        headers=auth(town["admin"]),
        timeout=10,
    )
    assert after.headers["X-Tile-Cache"] == "MISS"
    assert after.content != rest.content
    out_of_range = requests.get(
        f"{live_server.url}/ogc/wmts/places.building/default/CGCS2000/2/99/0.png",
        headers=auth(town["admin"]),
        timeout=10,
    )
    assert out_of_range.status_code == 400 and b'exceptionCode="TileOutOfRange"' in out_of_range.content


def test_grid_worker_tiles_are_cached_apart(live_server, town, tile_dir):
    z, lon, lat = 13, 119.955, 30.205  # an east-grid building: the worker must not see it
    size = 180 / 2**z
    col, row = int((lon + 180) // size), int((90 - lat) // size)
    path = f"{live_server.url}/ogc/wmts/places.building/default/CGCS2000/{z}/{row}/{col}.png"
    admin = _png(requests.get(path, headers=auth(town["admin"]), timeout=10).content)
    worker = _png(requests.get(path, headers=auth(town["worker"]), timeout=10).content)
    assert admin.tobytes() != worker.tobytes()
