"""WMS 1.3.0: GetCapabilities, GetMap (PNG), GetFeatureInfo (JSON, HTML), GetLegendGraphic (R-11.2.1-ogc)."""

import json

import numpy as np
import shapely
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from PIL import ImageDraw

from zhili.geo import render
from zhili.geo.layers import LayerAccessDenied, layers
from zhili.geo.ogc.access import request_user, resolve_layer
from zhili.geo.ogc.common import GEOGRAPHIC, SUPPORTED_CRS, OGCError, Params, normalize_crs, x

MAX_SIZE = 4096
WORLD = (-180.0, -90.0, 180.0, 90.0)


def wms(request):
    params = Params(request)
    try:
        user = request_user(request)
        operation = params.get("request").lower()
        service = params.get("service").upper()
        if service and service != "WMS":
            raise OGCError("InvalidParameterValue", "SERVICE must be WMS.", "service")
        if operation == "getcapabilities":
            return capabilities(request, user)
        version = params.get("version")
        if version and version != "1.3.0":
            raise OGCError("InvalidParameterValue", "Only VERSION=1.3.0 is supported.", "version")
        if operation == "getmap":
            return get_map(params, user)
        if operation == "getfeatureinfo":
            return get_feature_info(params, user)
        if operation == "getlegendgraphic":
            return get_legend_graphic(params, user)
        if not operation:
            raise OGCError("MissingParameterValue", "Parameter REQUEST is required.", "request")
        raise OGCError(
            "OperationNotSupported", f"Unknown request {params.get('request')}.", "request", status=501
        )
    except OGCError as error:
        from zhili.geo.ogc.common import wms_exception

        return wms_exception(error)


def _service_url(request, name="geo:wms") -> str:
    return request.build_absolute_uri(reverse(name)) + "?"


def _axis_box(crs: str, box) -> str:
    minx, miny, maxx, maxy = box
    if crs in GEOGRAPHIC:
        return f'CRS="{crs}" minx="{miny}" miny="{minx}" maxx="{maxy}" maxy="{maxx}"'
    return f'CRS="{crs}" minx="{minx}" miny="{miny}" maxx="{maxx}" maxy="{maxy}"'


def capabilities(request, user) -> HttpResponse:
    url = x(_service_url(request))
    available = layers.for_user(user)
    layer_xml = []
    everything = None
    for layer in available:
        extent = layer.source.extent() or WORLD
        everything = (
            extent
            if everything is None
            else (
                min(everything[0], extent[0]),
                min(everything[1], extent[1]),
                max(everything[2], extent[2]),
                max(everything[3], extent[3]),
            )
        )
        merc = render.project(np.array([shapely.box(*extent)], dtype=object), "EPSG:3857")[0].bounds
        legend = x(
            _service_url(request)
            + f"service=WMS&version=1.3.0&request=GetLegendGraphic&format=image/png&layer={layer.name}"
        )
        layer_xml.append(
            f'<Layer queryable="1" opaque="0"><Name>{x(layer.name)}</Name><Title>{x(layer.display_title())}</Title>'
            f"<EX_GeographicBoundingBox><westBoundLongitude>{extent[0]}</westBoundLongitude>"
            f"<eastBoundLongitude>{extent[2]}</eastBoundLongitude><southBoundLatitude>{extent[1]}</southBoundLatitude>"
            f"<northBoundLatitude>{extent[3]}</northBoundLatitude></EX_GeographicBoundingBox>"
            f"<BoundingBox {_axis_box('EPSG:4490', extent)}/><BoundingBox {_axis_box('EPSG:4326', extent)}/>"
            f"<BoundingBox {_axis_box('EPSG:3857', merc)}/>"
            f"<Style><Name>default</Name><Title>{x(_('Default'))}</Title>"
            f'<LegendURL width="200" height="20"><Format>image/png</Format>'
            f'<OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:type="simple" xlink:href="{legend}"/>'
            f"</LegendURL></Style></Layer>"
        )
    everything = everything or WORLD
    crs_xml = "".join(f"<CRS>{c}</CRS>" for c in SUPPORTED_CRS)
    online = (
        f'<OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:type="simple" xlink:href="{url}"/>'
    )
    dcp = f"<DCPType><HTTP><Get>{online}</Get></HTTP></DCPType>"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" '
        'xmlns:sld="http://www.opengis.net/sld" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd">'
        f"<Service><Name>WMS</Name><Title>{x(_('Zhili digital twin'))}</Title>"
        f"<Abstract>{x(_('Map layers of the town, CGCS2000.'))}</Abstract>{online}"
        f"<Fees>none</Fees><AccessConstraints>{x(_('Sign-in or API token unless the layer is public'))}</AccessConstraints>"
        f"<MaxWidth>{MAX_SIZE}</MaxWidth><MaxHeight>{MAX_SIZE}</MaxHeight></Service>"
        "<Capability><Request>"
        f"<GetCapabilities><Format>text/xml</Format>{dcp}</GetCapabilities>"
        f"<GetMap><Format>image/png</Format>{dcp}</GetMap>"
        f"<GetFeatureInfo><Format>application/json</Format><Format>text/html</Format>{dcp}</GetFeatureInfo>"
        f"<sld:GetLegendGraphic><Format>image/png</Format>{dcp}</sld:GetLegendGraphic>"
        "</Request><Exception><Format>XML</Format></Exception>"
        f"<Layer><Title>{x(_('Zhili digital twin'))}</Title>{crs_xml}"
        f"<EX_GeographicBoundingBox><westBoundLongitude>{everything[0]}</westBoundLongitude>"
        f"<eastBoundLongitude>{everything[2]}</eastBoundLongitude><southBoundLatitude>{everything[1]}</southBoundLatitude>"
        f"<northBoundLatitude>{everything[3]}</northBoundLatitude></EX_GeographicBoundingBox>"
        f"<BoundingBox {_axis_box('EPSG:4490', everything)}/>"
        + "".join(layer_xml)
        + "</Layer></Capability></WMS_Capabilities>"
    )
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def parse_map_request(params: Params, info: bool = False):
    """Return (layers, crs, bbox in x/y order, width, height) of a GetMap/GetFeatureInfo request."""
    names = [n for n in params.require("layers" if not info else "query_layers").split(",") if n.strip()]
    if not names:
        raise OGCError("MissingParameterValue", "LAYERS is required.", "layers")
    crs = normalize_crs(params.require("crs"))
    if crs is None:
        raise OGCError("InvalidCRS", f"CRS {params.get('crs')} is not supported.", "crs")
    box = params.floats("bbox", 4)
    if crs in GEOGRAPHIC:  # WMS 1.3.0: lat/lon axis order for EPSG:4326 and 4490
        box = [box[1], box[0], box[3], box[2]]
    if box[0] >= box[2] or box[1] >= box[3]:
        raise OGCError("InvalidParameterValue", "BBOX is empty or inverted.", "bbox")
    width = params.integer("width", minimum=1, maximum=MAX_SIZE)
    height = params.integer("height", minimum=1, maximum=MAX_SIZE)
    if width is None or height is None:
        raise OGCError("MissingParameterValue", "WIDTH and HEIGHT are required.", "width")
    styles = params.get("styles")
    if styles and any(s.strip() not in ("", "default") for s in styles.split(",")):
        raise OGCError("StyleNotDefined", f"Unknown style {styles}.", "styles")
    return names, crs, tuple(box), width, height


def render_png(layer_list, user, crs, box, width, height, transparent=True, bgcolor="#FFFFFF") -> bytes:
    """Draw the layers (each ``(layer, public)``) and return PNG bytes."""
    image = render.new_image(width, height, transparent, bgcolor)
    draw = ImageDraw.Draw(image, "RGBA")
    query_box = render.lonlat_bbox(crs, box)
    # A margin of a few pixels so that outlines of features just outside still show at the edges.
    dx = (query_box[2] - query_box[0]) / width * 3
    dy = (query_box[3] - query_box[1]) / height * 3
    query_box = (query_box[0] - dx, query_box[1] - dy, query_box[2] + dx, query_box[3] + dy)
    for layer, public in layer_list:
        style = layer.style()
        painter = render.StylePainter(style)
        try:
            geoms, values = layer.source.geometries(user, query_box, painter.attribute, public=public)
        except LayerAccessDenied:
            continue
        render.draw_layer(draw, render.project(geoms, crs), values, painter, box, width, height)
    return render.png_bytes(image, transparent)


def get_map(params: Params, user) -> HttpResponse:
    names, crs, box, width, height = parse_map_request(params)
    fmt = params.get("format", "image/png").lower()
    if fmt not in ("image/png", "png", "image/png; mode=8bit"):
        raise OGCError("InvalidFormat", f"FORMAT {fmt} is not supported (image/png).", "format")
    resolved = [resolve_layer(name, user) for name in names]
    transparent = params.get("transparent", "FALSE").upper() == "TRUE"
    bgcolor = params.get("bgcolor", "0xFFFFFF")
    try:
        render.hex_rgba(bgcolor.replace("0x", "#").replace("0X", "#"))
    except (ValueError, IndexError):
        raise OGCError("InvalidParameterValue", "BGCOLOR must be 0xRRGGBB.", "bgcolor") from None
    body = render_png(resolved, user, crs, box, width, height, transparent, bgcolor.replace("0X", "0x"))
    return HttpResponse(body, content_type="image/png")


def get_feature_info(params: Params, user) -> HttpResponse:
    names, crs, box, width, height = parse_map_request(params, info=True)
    i = params.integer("i", minimum=0, maximum=width - 1)
    j = params.integer("j", minimum=0, maximum=height - 1)
    if i is None or j is None:
        raise OGCError("MissingParameterValue", "I and J are required.", "i")
    fmt = params.get("info_format", "text/html").lower()
    if fmt not in ("application/json", "application/geo+json", "text/html"):
        raise OGCError("InvalidFormat", f"INFO_FORMAT {fmt} is not supported.", "info_format")
    count = params.integer("feature_count", default=1, minimum=1, maximum=100)
    px = box[0] + (i + 0.5) / width * (box[2] - box[0])
    py = box[3] - (j + 0.5) / height * (box[3] - box[1])
    tolerance = 4 * (box[2] - box[0]) / width
    click = shapely.Point(px, py).buffer(tolerance)
    if crs == "EPSG:3857":
        click = shapely.Polygon(
            np.column_stack(render.from_web_mercator().transform(*np.asarray(click.exterior.coords).T))
        )
    features = []
    for name in names:
        layer, public = resolve_layer(name, user)
        result = layer.source.query(user, bbox=click.bounds, public=public, limit=2000)
        hits = [f for f in result.features if f.geometry is not None and f.geometry.intersects(click)]
        for feature in hits[:count]:
            features.append((layer, feature))
    if fmt == "text/html":
        rows = []
        for layer, feature in features:
            cells = "".join(
                f"<tr><th>{escape(k)}</th><td>{escape('' if v is None else v)}</td></tr>"
                for k, v in feature.properties.items()
            )
            rows.append(f"<h4>{escape(layer.display_title())}</h4><table>{cells}</table>")
        body = "<html><body>" + ("".join(rows) or escape(_("Nothing here."))) + "</body></html>"
        return HttpResponse(body, content_type="text/html; charset=utf-8")
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f"{layer.name}.{feature.id}",
                "layer": layer.name,
                "geometry": json.loads(shapely.to_geojson(feature.geometry)),
                "properties": feature.properties,
            }
            for layer, feature in features
        ],
    }
    return HttpResponse(
        json.dumps(collection, ensure_ascii=False, default=str), content_type="application/json"
    )


def get_legend_graphic(params: Params, user) -> HttpResponse:
    layer, _public = resolve_layer(params.require("layer"), user, locator="layer")
    fmt = params.get("format", "image/png").lower()
    if fmt != "image/png":
        raise OGCError("InvalidFormat", "FORMAT must be image/png.", "format")
    body = render.legend_png(layer.display_title(), layer.style(), layer.source.geometry_types)
    return HttpResponse(body, content_type="image/png")
