"""WFS 2.0.0: GetCapabilities, DescribeFeatureType, GetFeature (GeoJSON, GML 3.2), stored queries.

GetFeature supports typeNames, bbox, count/startIndex paging, propertyName, resultType=hits,
srsName (EPSG:4490/4326/3857), FES 2.0 filters (comparison, like, null, between, And/Or/Not,
BBOX, ResourceId) and the GetFeatureById stored query. Rows come through the layer's feature
source: the data scope and field masking of the REST API apply (R-11.2.1-ogc).
"""

import datetime
import json
import xml.etree.ElementTree as ET

import numpy as np
import shapely
from django.db.models import Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.geo import render
from zhili.geo.layers import BadFilter, build_q, layers
from zhili.geo.ogc.access import request_user, resolve_layer
from zhili.geo.ogc.common import GEOGRAPHIC, OGCError, Params, normalize_crs, ows_exception, x

GET_FEATURE_BY_ID = "urn:ogc:def:query:OGC-WFS::GetFeatureById"
MAX_COUNT = 100_000
DEFAULT_COUNT = 10_000
FES = "http://www.opengis.net/fes/2.0"
OGC = "http://www.opengis.net/ogc"
JSON_FORMATS = ("application/json", "application/geo+json", "json", "geojson")
GML_FORMATS = (
    "application/gml+xml; version=3.2",
    "text/xml; subtype=gml/3.2",
    "gml32",
    "application/gml+xml",
)
XSD_TYPES = {
    "string": "xsd:string",
    "integer": "xsd:long",
    "ref": "xsd:long",
    "number": "xsd:double",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}
GML_GEOMETRY_TYPES = {
    "Point": "gml:PointPropertyType",
    "LineString": "gml:CurvePropertyType",
    "Polygon": "gml:SurfacePropertyType",
    "MultiPoint": "gml:MultiPointPropertyType",
    "MultiLineString": "gml:MultiCurvePropertyType",
    "MultiPolygon": "gml:MultiSurfacePropertyType",
}


def wfs(request):
    params = Params(request)
    try:
        user = request_user(request)
        service = params.get("service").upper()
        if service and service != "WFS":
            raise OGCError("InvalidParameterValue", "SERVICE must be WFS.", "service")
        operation = params.get("request").lower()
        if operation == "getcapabilities":
            return capabilities(request, user)
        version = params.get("version")
        if version and version != "2.0.0":
            raise OGCError("InvalidParameterValue", "Only VERSION=2.0.0 is supported.", "version")
        if operation == "describefeaturetype":
            return describe_feature_type(params, user)
        if operation == "getfeature":
            return get_feature(params, user)
        if operation == "liststoredqueries":
            return list_stored_queries()
        if operation == "describestoredqueries":
            return describe_stored_queries()
        if not operation:
            raise OGCError("MissingParameterValue", "Parameter REQUEST is required.", "request")
        raise OGCError(
            "OperationNotSupported", f"Unknown request {params.get('request')}.", "request", status=501
        )
    except OGCError as error:
        return ows_exception(error)


def _url(request) -> str:
    return x(request.build_absolute_uri(reverse("geo:wfs")) + "?")


def capabilities(request, user) -> HttpResponse:
    url = _url(request)
    dcp = f'<ows:DCP><ows:HTTP><ows:Get xlink:href="{url}"/></ows:HTTP></ows:DCP>'
    operations = "".join(
        f'<ows:Operation name="{name}">{dcp}</ows:Operation>'
        for name in ("GetCapabilities", "DescribeFeatureType", "ListStoredQueries", "DescribeStoredQueries")
    )
    operations += (
        f'<ows:Operation name="GetFeature">{dcp}'
        '<ows:Parameter name="outputFormat"><ows:AllowedValues><ows:Value>application/json</ows:Value>'
        "<ows:Value>application/gml+xml; version=3.2</ows:Value></ows:AllowedValues></ows:Parameter>"
        '<ows:Parameter name="resultType"><ows:AllowedValues><ows:Value>results</ows:Value>'
        "<ows:Value>hits</ows:Value></ows:AllowedValues></ows:Parameter></ows:Operation>"
    )
    constraints = "".join(
        f'<ows:Constraint name="{name}"><ows:NoValues/><ows:DefaultValue>{value}</ows:DefaultValue></ows:Constraint>'
        for name, value in (
            ("ImplementsBasicWFS", "TRUE"),
            ("ImplementsTransactionalWFS", "FALSE"),
            ("ImplementsLockingWFS", "FALSE"),
            ("KVPEncoding", "TRUE"),
            ("XMLEncoding", "FALSE"),
            ("SOAPEncoding", "FALSE"),
            ("ImplementsInheritance", "FALSE"),
            ("ImplementsRemoteResolve", "FALSE"),
            ("ImplementsResultPaging", "TRUE"),
            ("ImplementsStandardJoins", "FALSE"),
            ("ImplementsSpatialJoins", "FALSE"),
            ("ImplementsTemporalJoins", "FALSE"),
            ("ImplementsFeatureVersioning", "FALSE"),
            ("ManageStoredQueries", "FALSE"),
        )
    )
    constraints += f'<ows:Constraint name="CountDefault"><ows:NoValues/><ows:DefaultValue>{DEFAULT_COUNT}</ows:DefaultValue></ows:Constraint>'
    types = []
    for layer in layers.for_user(user):
        extent = layer.source.extent() or (-180, -90, 180, 90)
        types.append(
            f"<FeatureType><Name>zhili:{x(layer.name)}</Name><Title>{x(layer.display_title())}</Title>"
            "<DefaultCRS>urn:ogc:def:crs:EPSG::4490</DefaultCRS><OtherCRS>urn:ogc:def:crs:EPSG::4326</OtherCRS>"
            "<OtherCRS>urn:ogc:def:crs:EPSG::3857</OtherCRS>"
            "<OutputFormats><Format>application/json</Format><Format>application/gml+xml; version=3.2</Format></OutputFormats>"
            f"<ows:WGS84BoundingBox><ows:LowerCorner>{extent[0]} {extent[1]}</ows:LowerCorner>"
            f"<ows:UpperCorner>{extent[2]} {extent[3]}</ows:UpperCorner></ows:WGS84BoundingBox></FeatureType>"
        )
    comparison = "".join(
        f'<fes:ComparisonOperator name="{op}"/>'
        for op in (
            "PropertyIsEqualTo",
            "PropertyIsNotEqualTo",
            "PropertyIsLessThan",
            "PropertyIsGreaterThan",
            "PropertyIsLessThanOrEqualTo",
            "PropertyIsGreaterThanOrEqualTo",
            "PropertyIsLike",
            "PropertyIsNull",
            "PropertyIsBetween",
        )
    )
    conformance = "".join(
        f'<fes:Constraint name="{name}"><ows:NoValues/><ows:DefaultValue>{value}</ows:DefaultValue></fes:Constraint>'
        for name, value in (
            ("ImplementsQuery", "TRUE"),
            ("ImplementsAdHocQuery", "TRUE"),
            ("ImplementsFunctions", "FALSE"),
            ("ImplementsResourceId", "TRUE"),
            ("ImplementsMinStandardFilter", "TRUE"),
            ("ImplementsStandardFilter", "TRUE"),
            ("ImplementsMinSpatialFilter", "TRUE"),
            ("ImplementsSpatialFilter", "FALSE"),
            ("ImplementsMinTemporalFilter", "FALSE"),
            ("ImplementsTemporalFilter", "FALSE"),
            ("ImplementsVersionNav", "FALSE"),
            ("ImplementsSorting", "FALSE"),
            ("ImplementsExtendedOperators", "FALSE"),
        )
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<WFS_Capabilities version="2.0.0" xmlns="http://www.opengis.net/wfs/2.0" '
        'xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:ows="http://www.opengis.net/ows/1.1" '
        f'xmlns:fes="{FES}" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:gml="http://www.opengis.net/gml/3.2" '
        'xmlns:zhili="https://zhili.example.org/geo">'
        f"<ows:ServiceIdentification><ows:Title>{x(_('Zhili digital twin'))}</ows:Title>"
        f"<ows:Abstract>{x(_('Features of the town, CGCS2000.'))}</ows:Abstract>"
        "<ows:ServiceType>WFS</ows:ServiceType><ows:ServiceTypeVersion>2.0.0</ows:ServiceTypeVersion>"
        "<ows:Fees>none</ows:Fees><ows:AccessConstraints>NONE</ows:AccessConstraints></ows:ServiceIdentification>"
        f"<ows:ServiceProvider><ows:ProviderName>{x(_('Zhili'))}</ows:ProviderName></ows:ServiceProvider>"
        f"<ows:OperationsMetadata>{operations}{constraints}</ows:OperationsMetadata>"
        f"<FeatureTypeList>{''.join(types)}</FeatureTypeList>"
        f"<fes:Filter_Capabilities><fes:Conformance>{conformance}</fes:Conformance>"
        '<fes:Id_Capabilities><fes:ResourceIdentifier name="fes:ResourceId"/></fes:Id_Capabilities>'
        "<fes:Scalar_Capabilities><fes:LogicalOperators/>"
        f"<fes:ComparisonOperators>{comparison}</fes:ComparisonOperators></fes:Scalar_Capabilities>"
        '<fes:Spatial_Capabilities><fes:GeometryOperands><fes:GeometryOperand name="gml:Envelope"/></fes:GeometryOperands>'
        '<fes:SpatialOperators><fes:SpatialOperator name="BBOX"/></fes:SpatialOperators></fes:Spatial_Capabilities>'
        "</fes:Filter_Capabilities></WFS_Capabilities>"
    )
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


def _type_names(params: Params, required=True) -> list[str]:
    text = params.get("typenames") or params.get("typename")
    if not text:
        if required:
            raise OGCError("MissingParameterValue", "TYPENAMES is required.", "typeNames")
        return []
    return [n.strip().strip("()") for n in text.split(",") if n.strip()]


def describe_feature_type(params: Params, user) -> HttpResponse:
    user_layers = {layer.name for layer in layers.for_user(user)}
    names = _type_names(params, required=False) or [f"zhili:{n}" for n in sorted(user_layers)]
    elements = []
    for name in names:
        layer, _public = resolve_layer(name, user, "InvalidParameterValue", "typeNames")
        type_name = layer.name.replace(".", "_") + "Type"
        props = "".join(
            f'<xsd:element name="{x(a.name)}" type="{XSD_TYPES.get(a.type, "xsd:string")}" minOccurs="0" nillable="true"/>'
            for a in layer.source.fields()
        )
        types = layer.source.geometry_types
        geom_type = (
            GML_GEOMETRY_TYPES.get(types[0], "gml:GeometryPropertyType")
            if len(types) == 1
            else "gml:GeometryPropertyType"
        )
        elements.append(
            f'<xsd:complexType name="{type_name}"><xsd:complexContent><xsd:extension base="gml:AbstractFeatureType">'
            f'<xsd:sequence><xsd:element name="geometry" type="{geom_type}" minOccurs="0" nillable="true"/>{props}'
            "</xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>"
            f'<xsd:element name="{x(layer.name)}" type="zhili:{type_name}" substitutionGroup="gml:AbstractFeature"/>'
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:gml="http://www.opengis.net/gml/3.2" '
        'xmlns:zhili="https://zhili.example.org/geo" targetNamespace="https://zhili.example.org/geo" '
        'elementFormDefault="qualified">'
        '<xsd:import namespace="http://www.opengis.net/gml/3.2" schemaLocation="http://schemas.opengis.net/gml/3.2.1/gml.xsd"/>'
        + "".join(elements)
        + "</xsd:schema>"
    )
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


def list_stored_queries() -> HttpResponse:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<wfs:ListStoredQueriesResponse xmlns:wfs="http://www.opengis.net/wfs/2.0">'
        f'<wfs:StoredQuery id="{GET_FEATURE_BY_ID}"><wfs:Title>Get feature by identifier</wfs:Title>'
        "</wfs:StoredQuery></wfs:ListStoredQueriesResponse>"
    )
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


def describe_stored_queries() -> HttpResponse:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<wfs:DescribeStoredQueriesResponse xmlns:wfs="http://www.opengis.net/wfs/2.0" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f'<wfs:StoredQueryDescription id="{GET_FEATURE_BY_ID}"><wfs:Title>Get feature by identifier</wfs:Title>'
        '<wfs:Parameter name="ID" type="xsd:string"/>'
        '<wfs:QueryExpressionText isPrivate="true" language="urn:ogc:def:queryLanguage:OGC-WFS::WFS_QueryExpression" '
        'returnFeatureTypes=""/></wfs:StoredQueryDescription></wfs:DescribeStoredQueriesResponse>'
    )
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


# ---------------------------------------------------------------- GetFeature


def _parse_bbox(text: str) -> tuple:
    """Return the lon/lat box of a WFS BBOX value ``a,b,c,d[,crs]`` (crs URN ⇒ lat/lon order)."""
    parts = [p.strip() for p in text.split(",")]
    crs_text = parts[4] if len(parts) > 4 else "urn:ogc:def:crs:EPSG::4490"
    crs = normalize_crs(crs_text)
    if crs is None:
        raise OGCError("InvalidParameterValue", f"BBOX CRS {crs_text} is not supported.", "bbox")
    try:
        a, b, c, d = (float(v) for v in parts[:4])
    except ValueError:
        raise OGCError(
            "InvalidParameterValue", "BBOX must be four numbers and an optional CRS.", "bbox"
        ) from None
    lat_first = crs in GEOGRAPHIC and not crs_text.upper().startswith("EPSG:")
    box = (b, a, d, c) if lat_first else (a, b, c, d)
    if box[0] > box[2] or box[1] > box[3]:
        raise OGCError("InvalidParameterValue", "BBOX is inverted.", "bbox")
    return render.lonlat_bbox(crs, box)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _value_reference(element) -> str:
    for child in element:
        if _local(child.tag) in ("ValueReference", "PropertyName"):
            name = (child.text or "").strip()
            return name.split(":")[-1].split("/")[-1]
    raise BadFilter(_("A comparison needs a ValueReference."))


def _literal(element) -> str:
    for child in element:
        if _local(child.tag) == "Literal":
            return (child.text or "").strip()
    raise BadFilter(_("A comparison needs a Literal."))


COMPARISONS = {
    "PropertyIsEqualTo": "eq",
    "PropertyIsNotEqualTo": "ne",
    "PropertyIsLessThan": "lt",
    "PropertyIsGreaterThan": "gt",
    "PropertyIsLessThanOrEqualTo": "le",
    "PropertyIsGreaterThanOrEqualTo": "ge",
}


def filter_to_q(element, attributes, ids: list) -> Q:
    """Translate one FES 2.0 (or OGC 1.1) filter element to a Q; ResourceIds are collected in ``ids``."""
    tag = _local(element.tag)
    if tag == "Filter":
        children = list(element)
        rid = [c for c in children if _local(c.tag) in ("ResourceId", "FeatureId", "GmlObjectId")]
        for c in rid:
            ident = c.get("rid") or c.get("fid") or c.get("{http://www.opengis.net/gml/3.2}id") or ""
            ids.append(ident.rsplit(".", 1)[-1])
        rest = [c for c in children if c not in rid]
        q = Q()
        for c in rest:
            q &= filter_to_q(c, attributes, ids)
        return q
    if tag in ("And", "Or"):
        parts = [filter_to_q(c, attributes, ids) for c in element]
        if not parts:
            raise BadFilter(_("An empty And/Or."))
        q = parts[0]
        for part in parts[1:]:
            q = q & part if tag == "And" else q | part
        return q
    if tag == "Not":
        children = list(element)
        if len(children) != 1:
            raise BadFilter(_("Not takes one operand."))
        return ~filter_to_q(children[0], attributes, ids)
    if tag in COMPARISONS:
        return build_q(attributes, _value_reference(element), COMPARISONS[tag], _literal(element))
    if tag == "PropertyIsLike":
        return build_q(attributes, _value_reference(element), "like", _literal(element))
    if tag == "PropertyIsNull":
        return build_q(attributes, _value_reference(element), "null", None)
    if tag == "PropertyIsBetween":
        name = _value_reference(element)
        low = high = None
        for child in element:
            if _local(child.tag) == "LowerBoundary":
                low = _literal(child)
            if _local(child.tag) == "UpperBoundary":
                high = _literal(child)
        if low is None or high is None:
            raise BadFilter(_("PropertyIsBetween needs both boundaries."))
        return build_q(attributes, name, "ge", low) & build_q(attributes, name, "le", high)
    if tag == "BBOX":
        for child in element.iter():
            if _local(child.tag) == "Envelope":
                lower = upper = None
                for corner in child:
                    if _local(corner.tag) == "lowerCorner":
                        lower = [float(v) for v in (corner.text or "").split()]
                    if _local(corner.tag) == "upperCorner":
                        upper = [float(v) for v in (corner.text or "").split()]
                if not lower or not upper:
                    break
                srs = child.get("srsName") or "urn:ogc:def:crs:EPSG::4490"
                box = _parse_bbox(",".join(str(v) for v in (*lower, *upper)) + "," + srs)
                return Q(
                    bbox_maxx__gte=box[0], bbox_minx__lte=box[2], bbox_maxy__gte=box[1], bbox_miny__lte=box[3]
                )
        raise BadFilter(_("BBOX needs a gml:Envelope."))
    raise BadFilter(_("Filter operator %(op)s is not supported.") % {"op": tag})


def parse_filter(text: str, attributes) -> tuple[Q, list]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise OGCError("InvalidParameterValue", f"FILTER is not well-formed XML: {exc}", "filter") from None
    ids: list = []
    try:
        q = filter_to_q(root, attributes, ids)
    except BadFilter as exc:
        raise OGCError("InvalidParameterValue", str(exc), "filter") from None
    except ValueError:
        raise OGCError("InvalidParameterValue", "FILTER has a malformed value.", "filter") from None
    return q, ids


def get_feature(params: Params, user) -> HttpResponse:
    stored = params.get("storedquery_id")
    ids = None
    if stored:
        if stored != GET_FEATURE_BY_ID:
            raise OGCError("InvalidParameterValue", f"Unknown stored query {stored}.", "STOREDQUERY_ID")
        ident = params.require("id")
        if "." not in ident:
            raise OGCError("InvalidParameterValue", "ID must be <layer>.<id>.", "ID")
        layer_name, fid = ident.rsplit(".", 1)
        names = [layer_name]
        ids = [fid]
    else:
        names = _type_names(params)
        resource = params.get("resourceid") or params.get("featureid")
        if resource:
            ids = [r.rsplit(".", 1)[-1] for r in resource.split(",")]
            if not names:
                names = sorted({r.rsplit(".", 1)[0] for r in resource.split(",") if "." in r})
    if len(names) != 1:
        raise OGCError("InvalidParameterValue", "Query one feature type per request.", "typeNames")
    layer, public = resolve_layer(names[0], user, "InvalidParameterValue", "typeNames")
    source = layer.source
    attributes = (
        source.filterable(user) if hasattr(source, "filterable") else {a.name: a for a in source.fields()}
    )
    count = params.integer("count", default=None, minimum=0, maximum=MAX_COUNT)
    if count is None:
        count = params.integer("maxfeatures", default=DEFAULT_COUNT, minimum=0, maximum=MAX_COUNT)
    start = params.integer("startindex", default=0, minimum=0)
    bbox = _parse_bbox(params.get("bbox")) if params.get("bbox") else None
    filters = None
    filter_text = params.get("filter") or params.get("query")
    if filter_text:
        if bbox is not None:
            raise OGCError("InvalidParameterValue", "BBOX and FILTER are mutually exclusive.", "filter")
        filters, filter_ids = parse_filter(filter_text, attributes)
        if filter_ids:
            ids = (ids or []) + filter_ids
    out_crs_text = params.get("srsname") or "urn:ogc:def:crs:EPSG::4490"
    out_crs = normalize_crs(out_crs_text)
    if out_crs is None:
        raise OGCError("InvalidParameterValue", f"SRSNAME {out_crs_text} is not supported.", "srsName")
    fmt = params.get("outputformat", "application/gml+xml; version=3.2").strip().lower()
    if fmt not in JSON_FORMATS and fmt not in GML_FORMATS:
        raise OGCError("InvalidParameterValue", f"OUTPUTFORMAT {fmt} is not supported.", "outputFormat")
    property_names = None
    if params.get("propertyname"):
        property_names = [
            p.strip().split(":")[-1] for p in params.get("propertyname").strip("()").split(",") if p.strip()
        ]
        known = {a.name for a in source.fields()} | {"geometry"}
        unknown = [p for p in property_names if p not in known]
        if unknown:
            raise OGCError("InvalidParameterValue", f"Unknown property {', '.join(unknown)}.", "propertyName")
    hits = params.get("resulttype", "results").lower() == "hits"
    result = source.query(
        user, bbox=bbox, filters=filters, ids=ids, offset=start, limit=count, hits_only=hits, public=public
    )
    if stored and not hits and not result.features:
        raise OGCError("NotFound", f"No feature {params.get('id')}.", "ID", status=404)
    stamp = timezone.now().replace(microsecond=0).isoformat()
    if hits:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" '
            f'timeStamp="{stamp}" numberMatched="{result.total}" numberReturned="0"/>'
        )
        return HttpResponse(body, content_type="application/xml; charset=utf-8")
    features = result.features
    if fmt in JSON_FORMATS:
        return HttpResponse(
            geojson_collection(layer, features, result.total, property_names, out_crs, start),
            content_type="application/geo+json; charset=utf-8",
        )
    if stored:
        return HttpResponse(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            + gml_feature(layer, features[0], property_names, out_crs, out_crs_text, root=True),
            content_type="application/gml+xml; version=3.2; charset=utf-8",
        )
    members = "".join(
        f"<wfs:member>{gml_feature(layer, f, property_names, out_crs, out_crs_text)}</wfs:member>"
        for f in features
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" '
        'xmlns:zhili="https://zhili.example.org/geo" '
        f'timeStamp="{stamp}" numberMatched="{result.total}" numberReturned="{len(features)}">{members}</wfs:FeatureCollection>'
    )
    return HttpResponse(body, content_type="application/gml+xml; version=3.2; charset=utf-8")


def _json_default(value):
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return str(value)


def transform_geometry(geom, crs: str):
    if geom is None:
        return None
    return render.project(np.array([geom], dtype=object), crs)[0]


def geojson_collection(layer, features, total, property_names=None, crs="EPSG:4490", start=0) -> str:
    """Return a GeoJSON FeatureCollection text (ids are ``<layer>.<id>``)."""
    parts = []
    keep_geometry = property_names is None or "geometry" in property_names
    for f in features:
        props = (
            f.properties
            if property_names is None
            else {k: v for k, v in f.properties.items() if k in property_names}
        )
        if not keep_geometry:
            geometry_json = "null"
        elif crs != "EPSG:3857" and getattr(f, "geometry_text", None):
            geometry_json = f.geometry_text  # stored GeoJSON, lon/lat: no parse, no re-encode
        else:
            geometry = transform_geometry(f.geometry, crs)
            geometry_json = shapely.to_geojson(geometry) if geometry is not None else "null"
        parts.append(
            '{"type":"Feature","id":'
            + json.dumps(f"{layer.name}.{f.id}")
            + ',"geometry":'
            + geometry_json
            + ',"properties":'
            + json.dumps(props, ensure_ascii=False, default=_json_default)
            + "}"
        )
    return (
        '{"type":"FeatureCollection","name":'
        + json.dumps(layer.name)
        + f',"numberMatched":{total},"numberReturned":{len(features)},"startIndex":{start},'
        + '"timeStamp":'
        + json.dumps(timezone.now().replace(microsecond=0).isoformat())
        + ',"features":['
        + ",".join(parts)
        + "]}"
    )


def _pos_list(coords, lat_first: bool) -> str:
    if lat_first:
        return " ".join(f"{y:.8f} {x_:.8f}" for x_, y in coords)
    return " ".join(f"{x_:.8f} {y:.8f}" for x_, y in coords)


def gml_geometry(geom, srs: str, lat_first: bool, gid: str) -> str:
    kind = geom.geom_type
    attrs = f'gml:id="{gid}" srsName="{x(srs)}" srsDimension="2"'
    if kind == "Point":
        return f"<gml:Point {attrs}><gml:pos>{_pos_list(geom.coords, lat_first)}</gml:pos></gml:Point>"
    if kind == "LineString":
        return f"<gml:LineString {attrs}><gml:posList>{_pos_list(geom.coords, lat_first)}</gml:posList></gml:LineString>"
    if kind == "Polygon":
        rings = f"<gml:exterior><gml:LinearRing><gml:posList>{_pos_list(geom.exterior.coords, lat_first)}</gml:posList></gml:LinearRing></gml:exterior>"
        for hole in geom.interiors:
            rings += f"<gml:interior><gml:LinearRing><gml:posList>{_pos_list(hole.coords, lat_first)}</gml:posList></gml:LinearRing></gml:interior>"
        return f"<gml:Polygon {attrs}>{rings}</gml:Polygon>"
    members = {
        "MultiPoint": ("MultiPoint", "pointMember"),
        "MultiLineString": ("MultiCurve", "curveMember"),
        "MultiPolygon": ("MultiSurface", "surfaceMember"),
    }
    tag, member = members.get(kind, ("MultiGeometry", "geometryMember"))
    inner = "".join(
        f"<gml:{member}>{gml_geometry(part, srs, lat_first, f'{gid}.{i}')}</gml:{member}>"
        for i, part in enumerate(geom.geoms)
    )
    return f"<gml:{tag} {attrs}>{inner}</gml:{tag}>"


def gml_feature(layer, feature, property_names, crs, crs_text, root=False) -> str:
    gid = f"{layer.name}.{feature.id}"
    lat_first = crs in GEOGRAPHIC and not crs_text.upper().startswith("EPSG:")
    srs = (
        crs_text
        if crs_text.lower().startswith(("urn:", "http"))
        else f"urn:ogc:def:crs:EPSG::{crs.split(':')[-1]}"
    )
    ns = (
        ' xmlns:zhili="https://zhili.example.org/geo" xmlns:gml="http://www.opengis.net/gml/3.2"'
        if root
        else ""
    )
    parts = [f'<zhili:{x(layer.name)} gml:id="{x(gid)}"{ns}>']
    if feature.geometry is not None and (property_names is None or "geometry" in property_names):
        geometry = transform_geometry(feature.geometry, crs)
        parts.append(f"<zhili:geometry>{gml_geometry(geometry, srs, lat_first, gid + '.g')}</zhili:geometry>")
    for key, value in feature.properties.items():
        if property_names is not None and key not in property_names:
            continue
        if value is None:
            continue
        if isinstance(value, list | dict):
            value = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        parts.append(f"<zhili:{x(key)}>{x(value)}</zhili:{x(key)}>")
    parts.append(f"</zhili:{x(layer.name)}>")
    return "".join(parts)
