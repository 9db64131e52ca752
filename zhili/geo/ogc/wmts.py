"""WMTS 1.0.0: GetCapabilities and GetTile, KVP and RESTful, with a disk tile cache (R-11.2.1-ogc).

Tile matrix sets: GoogleMapsCompatible (EPSG:3857) and CGCS2000 (EPSG:4490 lon/lat). Tiles are
cached under ``<data dir>/tiles/<layer>/<scope>/<version>/…``: ``scope`` separates users with
different data scopes (a grid worker's tile shows only their grid), ``version`` changes when the
layer's data change (``LayerVersion`` raised by save/delete signals, plus the highest primary
key for bulk inserts), so an edit is visible at once and stale tiles are never served.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from zhili.core.permissions import has_action, scope_filter
from zhili.geo import render
from zhili.geo.layers import layers
from zhili.geo.ogc.access import request_user, resolve_layer
from zhili.geo.ogc.common import OGCError, Params, ows_exception, x
from zhili.geo.ogc.wms import render_png


def tile_root() -> Path:
    return Path(settings.ZHILI.get("TILE_CACHE_DIR") or Path(settings.DATA_DIR) / "tiles")


def wmts_kvp(request):
    params = Params(request)
    try:
        user = request_user(request)
        service = params.get("service").upper()
        if service and service != "WMTS":
            raise OGCError("InvalidParameterValue", "SERVICE must be WMTS.", "service")
        operation = params.get("request").lower()
        if operation == "getcapabilities":
            return capabilities(request, user)
        if operation == "gettile":
            version = params.get("version")
            if version and version != "1.0.0":
                raise OGCError("InvalidParameterValue", "Only VERSION=1.0.0 is supported.", "version")
            fmt = params.get("format", "image/png")
            if fmt != "image/png":
                raise OGCError("InvalidParameterValue", "FORMAT must be image/png.", "format")
            return tile_response(
                user,
                params.require("layer"),
                params.get("style") or "default",
                params.require("tilematrixset"),
                params.require("tilematrix"),
                params.require("tilerow"),
                params.require("tilecol"),
            )
        if not operation:
            raise OGCError("MissingParameterValue", "Parameter REQUEST is required.", "request")
        raise OGCError(
            "OperationNotSupported", f"Unknown request {params.get('request')}.", "request", status=501
        )
    except OGCError as error:
        return ows_exception(error, "1.0.0")


def wmts_rest(request, layer, style, matrix_set, matrix, row, col):
    try:
        user = request_user(request)
        return tile_response(user, layer, style, matrix_set, matrix, row, col)
    except OGCError as error:
        return ows_exception(error, "1.0.0")


def wmts_rest_capabilities(request):
    try:
        return capabilities(request, request_user(request))
    except OGCError as error:
        return ows_exception(error, "1.0.0")


def _integer(text, locator) -> int:
    try:
        value = int(str(text).split(":")[-1])
    except ValueError:
        raise OGCError("InvalidParameterValue", f"{locator} must be an integer.", locator) from None
    return value


def scope_key(user, layer, public: bool) -> str:
    """Name the cache partition for what ``user`` sees of ``layer``."""
    entry = getattr(layer, "entry", None)
    if entry is None:
        return "all"
    if not has_action(user, entry.model, "view"):
        return "public" if public else "none"
    condition = scope_filter(user, entry.model, "view")
    if not condition:
        return "all"
    return "s" + hashlib.sha1(repr(condition).encode()).hexdigest()[:16]


def tile_response(user, layer_name, style, matrix_set, matrix, row, col) -> HttpResponse:
    layer, public = resolve_layer(layer_name, user, "InvalidParameterValue", "layer")
    if style not in ("default", ""):
        raise OGCError("InvalidParameterValue", f"Unknown style {style}.", "style")
    tms = render.TILE_MATRIX_SETS.get(matrix_set)
    if tms is None:
        raise OGCError("InvalidParameterValue", f"Unknown tile matrix set {matrix_set}.", "tileMatrixSet")
    z = _integer(matrix, "tileMatrix")
    if z not in tms.levels:
        raise OGCError("InvalidParameterValue", f"Unknown tile matrix {matrix}.", "tileMatrix")
    row, col = _integer(row, "tileRow"), _integer(col, "tileCol")
    width, height = tms.matrix_size(z)
    if not (0 <= row < height):
        raise OGCError("TileOutOfRange", "tileRow is out of range.", "tileRow")
    if not (0 <= col < width):
        raise OGCError("TileOutOfRange", "tileCol is out of range.", "tileCol")
    version = layer.source.version()
    directory = (
        tile_root()
        / layer.name
        / scope_key(user, layer, public)
        / version
        / tms.identifier
        / str(z)
        / str(row)
    )
    path = directory / f"{col}.png"
    try:
        body = path.read_bytes()
        cache = "HIT"
    except FileNotFoundError:
        body = render_png([(layer, public)], user, tms.crs, tms.tile_bbox(z, row, col), 256, 256, True)
        _store(path, body)
        _drop_old_versions(directory.parents[3], version)
        cache = "MISS"
    response = HttpResponse(body, content_type="image/png")
    response["X-Tile-Cache"] = cache
    response["Cache-Control"] = "private, max-age=60"
    return response


def _store(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as out:
        out.write(body)
    os.replace(tmp, path)


def _drop_old_versions(scope_dir: Path, current: str) -> None:
    """Remove the cached tiles of earlier data versions of the layer (best effort)."""
    try:
        for child in scope_dir.iterdir():
            if child.name != current and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
    except FileNotFoundError:
        pass


def capabilities(request, user) -> HttpResponse:
    kvp = x(request.build_absolute_uri(reverse("geo:wmts")) + "?")
    rest_base = request.build_absolute_uri(reverse("geo:wmts_rest_capabilities")).rsplit("/", 2)[0]
    contents = []
    for layer in layers.for_user(user):
        extent = layer.source.extent() or (-180, -90, 180, 90)
        template = x(
            f"{rest_base}/{layer.name}/{{Style}}/{{TileMatrixSet}}/{{TileMatrix}}/{{TileRow}}/{{TileCol}}.png"
        )
        contents.append(
            f"<Layer><ows:Title>{x(layer.display_title())}</ows:Title>"
            f"<ows:WGS84BoundingBox><ows:LowerCorner>{extent[0]} {extent[1]}</ows:LowerCorner>"
            f"<ows:UpperCorner>{extent[2]} {extent[3]}</ows:UpperCorner></ows:WGS84BoundingBox>"
            f"<ows:Identifier>{x(layer.name)}</ows:Identifier>"
            f'<Style isDefault="true"><ows:Title>{x(_("Default"))}</ows:Title><ows:Identifier>default</ows:Identifier></Style>'
            "<Format>image/png</Format>"
            "<TileMatrixSetLink><TileMatrixSet>GoogleMapsCompatible</TileMatrixSet></TileMatrixSetLink>"
            "<TileMatrixSetLink><TileMatrixSet>CGCS2000</TileMatrixSet></TileMatrixSetLink>"
            f'<ResourceURL format="image/png" resourceType="tile" template="{template}"/></Layer>'
        )
    sets = []
    for tms in render.TILE_MATRIX_SETS.values():
        matrices = []
        for z in tms.levels:
            w, h = tms.matrix_size(z)
            corner = (
                f"{tms.top_left[1]} {tms.top_left[0]}"
                if tms.crs == "EPSG:4490"
                else f"{tms.top_left[0]} {tms.top_left[1]}"
            )
            matrices.append(
                f"<TileMatrix><ows:Identifier>{z}</ows:Identifier><ScaleDenominator>{tms.scale_denominator(z)!r}</ScaleDenominator>"
                f"<TopLeftCorner>{corner}</TopLeftCorner><TileWidth>256</TileWidth><TileHeight>256</TileHeight>"
                f"<MatrixWidth>{w}</MatrixWidth><MatrixHeight>{h}</MatrixHeight></TileMatrix>"
            )
        well_known = (
            "<WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible</WellKnownScaleSet>"
            if tms.identifier == "GoogleMapsCompatible"
            else ""
        )
        sets.append(
            f"<TileMatrixSet><ows:Identifier>{tms.identifier}</ows:Identifier>"
            f"<ows:SupportedCRS>urn:ogc:def:crs:EPSG::{tms.crs.split(':')[1]}</ows:SupportedCRS>{well_known}"
            + "".join(matrices)
            + "</TileMatrixSet>"
        )
    get = (
        f'<ows:Get xlink:href="{kvp}"><ows:Constraint name="GetEncoding"><ows:AllowedValues>'
        "<ows:Value>KVP</ows:Value></ows:AllowedValues></ows:Constraint></ows:Get>"
    )
    operations = "".join(
        f'<ows:Operation name="{name}"><ows:DCP><ows:HTTP>{get}</ows:HTTP></ows:DCP></ows:Operation>'
        for name in ("GetCapabilities", "GetTile")
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:gml="http://www.opengis.net/gml" version="1.0.0">'
        f"<ows:ServiceIdentification><ows:Title>{x(_('Zhili digital twin'))}</ows:Title>"
        "<ows:ServiceType>OGC WMTS</ows:ServiceType><ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>"
        "</ows:ServiceIdentification>"
        f"<ows:OperationsMetadata>{operations}</ows:OperationsMetadata>"
        f"<Contents>{''.join(contents)}{''.join(sets)}</Contents>"
        f'<ServiceMetadataURL xlink:href="{x(rest_base)}/1.0.0/WMTSCapabilities.xml"/>'
        "</Capabilities>"
    )
    return HttpResponse(body, content_type="application/xml; charset=utf-8")
