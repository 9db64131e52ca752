"""GIS import and export of any layer: zipped Shapefile, GeoPackage, KML, GeoJSON, DXF (pyogrio's
bundled GDAL), Excel/CSV with coordinate columns.

Import turns the file into a table (attributes + geometry as GeoJSON, reprojected to CGCS2000
EPSG:4490; GCJ-02 converted when the user declares it) and hands it to the one importer of
``zhili.core.importexport``: every row validated (geometry validity and type included), the
report lists every failing row, and nothing is saved unless every row is good.
"""

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from django.utils.translation import gettext as _
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from zhili.core import audit
from zhili.core.fields import GeometryField
from zhili.core.importexport import (
    Importer,
    ImportFileError,
    _is_point_only,
    export_columns,
    export_value,
    read_table,
    write_xlsx,
)
from zhili.core.permissions import can_unmask

#: format key → (GDAL driver, file suffix, content type)
FORMATS = {
    "geojson": ("GeoJSON", ".geojson", "application/geo+json"),
    "gpkg": ("GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": ("ESRI Shapefile", ".zip", "application/zip"),
    "kml": ("KML", ".kml", "application/vnd.google-earth.kml+xml"),
    "dxf": ("DXF", ".dxf", "image/vnd.dxf"),
    "csv": (None, ".csv", "text/csv; charset=utf-8"),
    "xlsx": (None, ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
GIS_SUFFIXES = (".zip", ".gpkg", ".geojson", ".json", ".kml", ".dxf", ".shp")
TABLE_SUFFIXES = (".csv", ".xlsx")
#: CRS choices offered on the import form ("auto" = what the file declares, else CGCS2000).
DECLARED_CRS = {
    "auto": None,
    "EPSG:4490": "EPSG:4490",
    "EPSG:4326": "EPSG:4326",
    "EPSG:3857": "EPSG:3857",
    "EPSG:4549": "EPSG:4549",  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
    "gcj02": "gcj02",
}
LON_NAMES = {"longitude", "lon", "lng", "x", "经度"}
LAT_NAMES = {"latitude", "lat", "y", "纬度"}


# ---------------------------------------------------------------- coordinates


def _out_of_china(lon, lat):
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon, lat):
    """The GCJ-02 shift (the published Krasovsky-ellipsoid algorithm) at WGS84/CGCS2000 lon/lat."""
    a = 6378245.0
    ee = 0.00669342162296594323
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - ee * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (a / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, iterations: int = 6):
    """Invert GCJ-02 by fixed-point iteration (error < 1 mm after a few steps)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = lon.copy(), lat.copy()
    for _i in range(iterations):
        gx, gy = wgs84_to_gcj02(x, y)
        x, y = x - (gx - lon), y - (gy - lat)
    return x, y


def to_cgcs2000(geoms, source: str | None):
    """Return the geometries in EPSG:4490 lon/lat from ``source`` (a CRS text, ``gcj02`` or None)."""
    if source is None or len(geoms) == 0:
        return geoms
    if source == "gcj02":
        return shapely.transform(geoms, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    try:
        crs = CRS.from_user_input(source)
    except CRSError:
        raise ImportFileError(
            _("The file's coordinate system is not recognised: %(crs)s") % {"crs": source}
        ) from None
    if crs.to_epsg() in (4490, 4326, 4490):
        return geoms
    transformer = Transformer.from_crs(crs, CRS.from_epsg(4490), always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


# ---------------------------------------------------------------- export


def _geometry_field(entry) -> GeometryField:
    return entry.geometry_field


def export_table(entry, queryset, user):
    """Return (field names, columns of values, geometries) of the rows, masked as the exports are.

    Date-times are cut to milliseconds, GDAL's precision for date-time fields: the GeoJSON
    driver recognises them and would round e.g. ``56.9997`` s up to 1,000 ms, which readers
    built on GDAL (pyogrio among them) then fail to read.
    """
    geometry_field = _geometry_field(entry)
    fields = [f for f in export_columns(entry) if f.name != geometry_field.name]
    unmask = can_unmask(user, entry.model)
    relations = [f.name for f in fields if f.is_relation and not f.many_to_many]
    m2m = [f.name for f in fields if f.many_to_many]
    queryset = queryset.select_related(*relations)
    if m2m:
        queryset = queryset.prefetch_related(*m2m)
    columns = [[] for _f in fields]
    geoms = []
    for obj in queryset.order_by("pk").iterator(chunk_size=2000):
        for i, f in enumerate(fields):
            columns[i].append(export_value(obj, f, unmask, timespec="milliseconds"))
        geoms.append(getattr(obj, geometry_field.name))
    return [f.name if not f.primary_key else "id" for f in fields], columns, np.array(geoms, dtype=object)


def _column_array(values):
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) or v == "" for v in values):
        return np.array([np.nan if v == "" else float(v) for v in values], dtype="float64")
    return np.array([str(v) for v in values], dtype=object)


def export_layer(entry, queryset, user, fmt: str) -> tuple[bytes, str, str]:
    """Return (file bytes, file name, content type) of the layer's rows in ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    driver, suffix, content_type = FORMATS[fmt]
    names, columns, geoms = export_table(entry, queryset, user)
    base = entry.model_name
    if driver is None:
        return _export_table(entry, names, columns, geoms, fmt, base) + (content_type,)
    present = ~shapely.is_missing(geoms) if len(geoms) else np.zeros(0, dtype=bool)
    geoms_out = geoms[present] if len(geoms) else geoms
    columns = [list(np.asarray(c, dtype=object)[present]) for c in columns]
    types = set(shapely.get_type_id(geoms_out).tolist()) if len(geoms_out) else set()
    geometry_type = _geometry_type(types, entry)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{base}{'.shp' if fmt == 'shp' else suffix}"
        fields = [] if fmt == "dxf" else names  # GDAL's DXF writer keeps geometry and layer only
        data = [] if fmt == "dxf" else [_column_array(c) for c in columns]
        wkb = shapely.to_wkb(geoms_out) if len(geoms_out) else np.empty(0, dtype=object)
        options = {"encoding": "UTF-8"} if fmt == "shp" else {}
        pyogrio.raw.write(
            str(path),
            wkb,
            data,
            fields,
            driver=driver,
            geometry_type=geometry_type,
            crs="EPSG:4490",
            promote_to_multi=geometry_type.startswith("Multi") if fmt in ("shp", "gpkg") else None,
            **options,
        )
        if fmt == "shp":
            out = Path(tmp) / f"{base}.zip"
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                for part in sorted(Path(tmp).glob(f"{base}.*")):
                    if part.suffix != ".zip":
                        archive.write(part, part.name)
            return out.read_bytes(), f"{base}.zip", content_type
        return path.read_bytes(), path.name, content_type


def _geometry_type(types: set, entry) -> str:
    allowed = _geometry_field(entry).geom_types or ()
    names = {
        0: "Point",
        1: "LineString",
        3: "Polygon",
        4: "MultiPoint",
        5: "MultiLineString",
        6: "MultiPolygon",
    }
    present = {names.get(t, "Unknown") for t in types}
    if len(present) == 1:
        return present.pop()
    for multi, single in (
        ("MultiPolygon", "Polygon"),
        ("MultiLineString", "LineString"),
        ("MultiPoint", "Point"),
    ):
        if present <= {multi, single} and present:
            return multi
    if not present and allowed:
        return allowed[-1]
    return "Unknown"


def _export_table(entry, names, columns, geoms, fmt, base):
    """CSV/Excel with longitude/latitude columns (a point, or the shape's centre) and WKT."""
    headers = [*names, "longitude", "latitude", "geometry"]
    rows = [headers]
    for i in range(len(geoms)):
        geom = geoms[i]
        if geom is None:
            lon = lat = wkt = ""
        else:
            point = geom if geom.geom_type == "Point" else geom.representative_point()
            lon, lat, wkt = round(point.x, 7), round(point.y, 7), shapely.to_wkt(geom, rounding_precision=7)
        rows.append([c[i] for c in columns] + [lon, lat, wkt])
    if fmt == "csv":
        from zhili.core.importexport import csv_stream

        return "".join(csv_stream(rows)).encode("utf-8"), f"{base}.csv"
    import io

    out = io.BytesIO()
    write_xlsx(rows, out)
    return out.getvalue(), f"{base}.xlsx"


# ---------------------------------------------------------------- import


def _dataset_path(tmp: Path, upload_name: str) -> Path | str:
    lower = upload_name.lower()
    if lower.endswith(".zip"):
        try:
            with zipfile.ZipFile(tmp / "upload.zip") as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            raise ImportFileError(_("The file is not a valid zip archive.")) from None
        for suffix in (".shp", ".gpkg", ".geojson", ".json", ".kml"):
            inner = sorted(n for n in names if n.lower().endswith(suffix) and not n.startswith("__MACOSX"))
            if inner:
                return f"/vsizip/{tmp / 'upload.zip'}/{inner[0]}"
        raise ImportFileError(_("The zip archive holds no .shp, .gpkg, .geojson or .kml file."))
    return tmp / f"upload{Path(lower).suffix}"


def read_gis(fileobj, filename: str, declared: str | None):
    """Return (headers, rows, CRS used) of a GIS file; geometry is the last column as GeoJSON text."""
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        suffix = ".zip" if filename.lower().endswith(".zip") else Path(filename.lower()).suffix
        with open(tmp / f"upload{suffix}", "wb") as out:
            for chunk in fileobj.chunks() if hasattr(fileobj, "chunks") else [fileobj.read()]:
                out.write(chunk)
        path = _dataset_path(tmp, filename)
        try:
            meta, _fids, geometry, field_data = pyogrio.raw.read(
                str(path), force_2d=True, datetime_as_string=True
            )
        except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds for unreadable files
            raise ImportFileError(
                _("The file cannot be read as GIS data: %(error)s") % {"error": exc}
            ) from None
    source = declared if declared else (meta.get("crs") or "EPSG:4490")
    if geometry is None:
        raise ImportFileError(_("The file has no geometry."))
    geoms = np.array([shapely.from_wkb(g) if g is not None else None for g in geometry], dtype=object)
    geoms = to_cgcs2000(geoms, source)
    headers = [str(name) for name in meta["fields"]]
    columns = [list(values) for values in field_data]
    rows = []
    for i in range(len(geoms)):
        cells = [_cell(col[i]) for col in columns]
        cells.append(shapely.to_geojson(geoms[i]) if geoms[i] is not None else "")
        rows.append(cells)
    return headers + ["geometry"], rows, source


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_coordinate_table(fileobj, filename: str, declared: str | None):
    """CSV/Excel: coordinates in longitude/latitude columns or a ``geometry`` (WKT/GeoJSON) column."""
    headers, rows = read_table(fileobj, filename)
    rows = [list(r) for r in rows if r is not None]
    cleaned = [str(h or "").strip().rstrip("*").strip().lower() for h in headers]
    if declared and declared not in ("EPSG:4490", "EPSG:4326"):
        lon_i = next((i for i, h in enumerate(cleaned) if h in LON_NAMES), None)
        lat_i = next((i for i, h in enumerate(cleaned) if h in LAT_NAMES), None)
        geom_i = next((i for i, h in enumerate(cleaned) if h in ("geometry", "几何", "wkt")), None)
        for row in rows:
            if lon_i is not None and lat_i is not None and lon_i < len(row) and lat_i < len(row):
                try:
                    point = to_cgcs2000(
                        np.array([shapely.Point(float(row[lon_i]), float(row[lat_i]))], dtype=object),
                        declared,
                    )[0]
                    row[lon_i], row[lat_i] = round(point.x, 8), round(point.y, 8)
                except (TypeError, ValueError):
                    pass  # the importer reports the bad coordinate on this row
            if geom_i is not None and geom_i < len(row) and row[geom_i]:
                try:
                    from zhili.core.fields import parse_geometry

                    geom = parse_geometry(row[geom_i])
                    row[geom_i] = shapely.to_geojson(to_cgcs2000(np.array([geom], dtype=object), declared)[0])
                except Exception:  # noqa: BLE001, S110 - left for the importer to report
                    pass
    return [str(h or "") for h in headers], rows


def _map_headers(entry, headers: list[str]) -> list[str]:
    """Shapefile truncates field names to 10 characters: map ``is_self_bu`` back to ``is_self_built``,
    and give point layers longitude/latitude columns."""
    names = [f.name for f in entry.meta.concrete_fields]
    result = []
    for h in headers:
        if h not in names and len(h) == 10:
            match = [n for n in names if n.startswith(h)]
            result.append(match[0] if len(match) == 1 else h)
        else:
            result.append(h)
    return result


def import_layer(entry, fileobj, filename: str, user, declared_crs: str = "auto"):
    """Import a GIS or coordinate-table file into the layer's model: all rows or none."""
    if declared_crs not in DECLARED_CRS:
        raise ImportFileError(_("Unknown coordinate system."))
    declared = DECLARED_CRS[declared_crs]
    lower = filename.lower()
    if lower.endswith(TABLE_SUFFIXES):
        headers, rows = read_coordinate_table(fileobj, filename, declared)
    elif lower.endswith(GIS_SUFFIXES):
        if lower.endswith(".shp"):
            raise ImportFileError(_("Upload a Shapefile as a .zip with its .shp, .shx, .dbf and .prj files."))
        headers, rows, _used = read_gis(fileobj, filename, declared)
        headers = _map_headers(entry, headers)
        if _is_point_only(entry.geometry_field):
            rows = [_point_columns(r) for r in rows]
            headers = headers[:-1] + ["longitude", "latitude"]
    else:
        raise ImportFileError(
            _("Unsupported file type: upload .zip (Shapefile), .gpkg, .kml, .geojson, .dxf, .xlsx or .csv.")
        )
    if entry.geometry_field.name != "geometry" and "geometry" in headers:
        headers[headers.index("geometry")] = entry.geometry_field.name
    result = Importer(entry, user).run(headers, iter(rows))
    audit.emit(
        "data.import",
        user=user,
        success=result.ok,
        details={
            "model": entry.label,
            "file": os.path.basename(filename),
            "rows": result.total,
            "created": result.created if result.ok else 0,
            "errors": result.error_count,
            "crs": declared_crs,
        },
    )
    return result


def _point_columns(row):
    text = row[-1]
    if not text:
        return row[:-1] + ["", ""]
    geom = shapely.from_geojson(text)
    if geom.geom_type != "Point":
        return row[:-1] + [text, ""]
    return row[:-1] + [geom.x, geom.y]
