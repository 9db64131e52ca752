"""GIS import/export of a layer in every format, good and bad files, all or nothing (R-0-coords, R-0-twin)."""

import io
import json
import zipfile

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from shapely.geometry import Polygon, box

from zhili.geo import gisio
from zhili.geo.tests.conftest import PASSWORD
from zhili.places.models import Building, House

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-0-coords", "R-0-twin")]

GIS_FORMATS = ("geojson", "gpkg", "shp", "kml")


def _client(client, town):
    client.login(username="geo_admin", password=PASSWORD)
    return client


def _export(client, fmt, **params):
    response = client.get("/geo/layers/places.building/export/", {"format": fmt, **params})
    assert response.status_code == 200, response.content[:300]
    return response


@pytest.mark.parametrize("fmt", GIS_FORMATS)
def test_export_then_reimport_round_trips(client, town, fmt, tmp_path):
    client = _client(client, town)
    body = _export(client, fmt).content
    suffix = gisio.FORMATS[fmt][1]
    path = tmp_path / f"out{suffix}"
    path.write_bytes(body)
    source = f"/vsizip/{path}" if fmt == "shp" else str(path)
    meta, _f, geoms, fields = pyogrio.raw.read(source)
    assert len(geoms) == 15
    assert "code" in meta["fields"]
    # Re-import into an empty table: every building comes back at the same place.
    originals = {b.code: b.geometry for b in Building.objects.all()}
    names = {b.code: b.name for b in Building.objects.all()}
    House.objects.all().delete()
    Building.objects.all().delete()
    upload = SimpleUploadedFile(f"buildings{suffix}", body)
    response = client.post("/geo/layers/places.building/import/", {"file": upload, "crs": "auto"})
    assert response.status_code == 200, response.content.decode()[:2000]
    assert Building.objects.count() == 15
    for b in Building.objects.all():
        assert b.geometry.equals_exact(originals[b.code], 1e-7)
        assert b.name == names[b.code]


def test_date_times_are_exported_at_millisecond_precision_that_gdal_reads_back(client, town, tmp_path):
    """GDAL keeps milliseconds: 56.9997 s, rounded, became 1,000 ms and pyogrio failed on it."""
    import datetime

    instant = datetime.datetime(2026, 11, 24, 4, 0, 56, 999700, tzinfo=datetime.UTC)
    Building.objects.update(updated_at=instant)
    client = _client(client, town)
    for fmt in GIS_FORMATS:
        body = _export(client, fmt).content
        path = tmp_path / f"out{gisio.FORMATS[fmt][1]}"
        path.write_bytes(body)
        meta, _f, _geoms, fields = pyogrio.raw.read(f"/vsizip/{path}" if fmt == "shp" else str(path))
        column = fields[list(meta["fields"]).index("updated_at")]
        assert {str(value)[:23] for value in column} == {"2026-11-24T12:00:56.999"}, fmt


def test_dxf_and_tables_export(client, town, tmp_path):
    client = _client(client, town)
    dxf = _export(client, "dxf").content
    path = tmp_path / "b.dxf"
    path.write_bytes(dxf)
    assert len(pyogrio.raw.read(str(path))[2]) == 15
    csv_text = _export(client, "csv").content.decode("utf-8-sig")
    header = csv_text.splitlines()[0].split(",")
    assert header[-3:] == ["longitude", "latitude", "geometry"]
    xlsx = _export(client, "xlsx", ids=str(town["west_buildings"][0].pk)).content
    import openpyxl

    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][header.index("code")] == town["west_buildings"][0].code


def _gpkg(tmp_path, geoms, codes, crs="EPSG:4490", division=None):
    path = tmp_path / "in.gpkg"
    fields = ["code", "address", "division", "floors"]
    data = [
        np.array(codes, dtype=object),
        np.array([f"导入路{i}号" for i in range(len(codes))], dtype=object),
        np.array([division] * len(codes), dtype=object),
        np.array([2] * len(codes), dtype="int32"),
    ]
    pyogrio.raw.write(
        str(path),
        shapely.to_wkb(np.array(geoms, dtype=object)),
        data,
        fields,
        driver="GPKG",
        crs=crs,
        geometry_type="Polygon",
    )
    return path.read_bytes()


def test_import_reprojects_from_a_declared_projected_crs(client, town, tmp_path):
    from pyproj import Transformer

    client = _client(client, town)
    gk = Transformer.from_crs(4490, 4549, always_xy=True)
    square = box(119.93, 30.23, 119.9305, 30.2305)
    projected = shapely.transform(square, lambda xy: np.column_stack(gk.transform(xy[:, 0], xy[:, 1])))
    body = _gpkg(tmp_path, [projected], ["GK-1"], crs="EPSG:4549", division=town["village"].code)
    response = client.post(
        "/geo/layers/places.building/import/", {"file": SimpleUploadedFile("gk.gpkg", body), "crs": "auto"}
    )
    assert response.status_code == 200, response.content.decode()[:1500]
    imported = Building.objects.get(code="GK-1")
    assert imported.geometry.equals_exact(square, 1e-7)
    assert imported.data_source == "import"


def test_import_gcj02_geojson_when_declared(client, town, tmp_path):
    client = _client(client, town)
    square = box(119.93, 30.23, 119.9305, 30.2305)
    shifted = shapely.transform(square, lambda xy: np.column_stack(gisio.wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(shifted)),
                "properties": {"code": "GCJ-1", "address": "高德路1号", "division": town["village"].code},
            }
        ],
    }
    upload = SimpleUploadedFile("amap.geojson", json.dumps(collection).encode())
    response = client.post("/geo/layers/places.building/import/", {"file": upload, "crs": "gcj02"})
    assert response.status_code == 200, response.content.decode()[:1500]
    assert Building.objects.get(code="GCJ-1").geometry.equals_exact(square, 1e-6)


def test_bad_geometry_rows_are_reported_and_nothing_is_saved(client, town, tmp_path):
    client = _client(client, town)
    good = box(119.93, 30.23, 119.9305, 30.2305)
    bowtie = Polygon(
        [(119.93, 30.23), (119.931, 30.231), (119.931, 30.23), (119.93, 30.231), (119.93, 30.23)]
    )
    before = Building.objects.count()
    body = _gpkg(tmp_path, [good, bowtie, good], ["OK-1", "BAD-2", "OK-3"], division=town["village"].code)
    response = client.post(
        "/geo/layers/places.building/import/", {"file": SimpleUploadedFile("bad.gpkg", body), "crs": "auto"}
    )
    assert response.status_code == 400
    errors = response.context["result"].errors
    assert [e.row for e in errors] == [3]
    assert Building.objects.count() == before


def test_unreadable_and_unsupported_files(client, town):
    client = _client(client, town)
    garbage = client.post(
        "/geo/layers/places.building/import/",
        {"file": SimpleUploadedFile("x.gpkg", b"not a database"), "crs": "auto"},
    )
    assert garbage.status_code == 400 and garbage.context["file_error"]
    wrong = client.post(
        "/geo/layers/places.building/import/", {"file": SimpleUploadedFile("x.pdf", b"%PDF"), "crs": "auto"}
    )
    assert wrong.status_code == 400 and wrong.context["file_error"]
    empty_zip = io.BytesIO()
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("readme.txt", "nothing")
    no_shp = client.post(
        "/geo/layers/places.building/import/",
        {"file": SimpleUploadedFile("x.zip", empty_zip.getvalue()), "crs": "auto"},
    )
    assert no_shp.status_code == 400 and no_shp.context["file_error"]


def test_csv_with_coordinate_columns_and_wkt(client, town):
    client = _client(client, town)
    csv_body = (
        "code,address,division,floors,geometry\n"
        f'CSV-1,表格路1号,{town["village"].code},3,"POLYGON ((119.93 30.23, 119.9305 30.23, 119.9305 30.2305, 119.93 30.2305, 119.93 30.23))"\n'
    ).encode()
    response = client.post(
        "/geo/layers/places.building/import/",
        {"file": SimpleUploadedFile("b.csv", csv_body), "crs": "EPSG:4490"},
    )
    assert response.status_code == 200, response.content.decode()[:1500]
    assert Building.objects.get(code="CSV-1").floors == 3


def test_import_and_export_need_their_permissions(client, town):
    client.login(username="geo_worker", password=PASSWORD)
    assert client.get("/geo/layers/places.building/export/?format=geojson").status_code == 403
    assert client.get("/geo/layers/places.building/import/").status_code == 403
