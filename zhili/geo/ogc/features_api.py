"""OGC API – Features (Part 1: Core, GeoJSON) over the same layers and feature sources."""

import json

import shapely
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from zhili.geo.auth import AuthenticationFailed, authenticate
from zhili.geo.layers import LayerAccessDenied, layers
from zhili.geo.ogc.wfs import geojson_collection
from zhili.geo.views import ApiError, _bbox, _int, _layer, attribute_filters

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
RESERVED_OAPIF = {"f", "crs", "bbox-crs", "datetime"}


def _errors(func):
    def wrapper(request, *args, **kwargs):
        try:
            request.api_user = authenticate(request)
            return func(request, *args, **kwargs)
        except AuthenticationFailed as exc:
            return JsonResponse({"code": "Unauthorized", "description": str(exc)}, status=401)
        except LayerAccessDenied as exc:
            status = 401 if exc.anonymous else 403
            return JsonResponse(
                {"code": "Forbidden", "description": _("You may not read this collection.")}, status=status
            )
        except ApiError as exc:
            return JsonResponse(
                {"code": "InvalidParameterValue", "description": json.dumps(exc.payload, ensure_ascii=False)},
                status=exc.status,
            )

    wrapper.__name__ = func.__name__
    return wrapper


def _abs(request, name, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


@_errors
def landing(request):
    return JsonResponse(
        {
            "title": _("Zhili digital twin"),
            "links": [
                {"href": _abs(request, "geo:oapif_landing"), "rel": "self", "type": "application/json"},
                {
                    "href": _abs(request, "geo:oapif_conformance"),
                    "rel": "conformance",
                    "type": "application/json",
                },
                {"href": _abs(request, "geo:oapif_collections"), "rel": "data", "type": "application/json"},
                {
                    "href": _abs(request, "api-schema"),
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                },
            ],
        }
    )


@_errors
def conformance(request):
    return JsonResponse({"conformsTo": CONFORMANCE})


def _collection(request, layer) -> dict:
    extent = layer.source.extent() or (-180, -90, 180, 90)
    return {
        "id": layer.name,
        "title": layer.display_title(),
        "extent": {
            "spatial": {"bbox": [list(extent)], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
        },
        "itemType": "feature",
        "links": [
            {
                "href": _abs(request, "geo:oapif_items", layer.name),
                "rel": "items",
                "type": "application/geo+json",
            },
            {
                "href": _abs(request, "geo:oapif_collection", layer.name),
                "rel": "self",
                "type": "application/json",
            },
        ],
    }


@_errors
def collections(request):
    return JsonResponse(
        {
            "collections": [_collection(request, layer) for layer in layers.for_user(request.api_user)],
            "links": [
                {"href": _abs(request, "geo:oapif_collections"), "rel": "self", "type": "application/json"}
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@_errors
def collection(request, name):
    layer, _public = _layer(name, request.api_user)
    return JsonResponse(_collection(request, layer), json_dumps_params={"ensure_ascii": False})


class _Filtered:
    """The request's query parameters without the OGC API reserved ones."""

    def __init__(self, request):
        self.GET = request.GET.copy()
        for key in ("f", "crs", "bbox-crs", "datetime", "limit", "offset", "bbox"):
            self.GET.pop(key, None)


@_errors
def items(request, name):
    user = request.api_user
    layer, public = _layer(name, user)
    if request.GET.get("datetime"):
        raise ApiError(400, _("datetime is not supported on this collection."), "datetime")
    limit = _int(request, "limit", 100, 10_000)
    offset = _int(request, "offset", 0, 10**9)
    bbox = _bbox(request.GET.get("bbox", ""))
    result = layer.source.query(
        user,
        bbox=bbox,
        filters=attribute_filters(_Filtered(request), layer, user),
        offset=offset,
        limit=limit,
        public=public,
    )
    body = json.loads(geojson_collection(layer, result.features, result.total, start=offset))
    base = _abs(request, "geo:oapif_items", name)
    query = request.GET.copy()
    links = [{"href": f"{base}?{query.urlencode()}", "rel": "self", "type": "application/geo+json"}]
    if offset + limit < result.total:
        query["offset"] = str(offset + limit)
        query["limit"] = str(limit)
        links.append({"href": f"{base}?{query.urlencode()}", "rel": "next", "type": "application/geo+json"})
    body["links"] = links
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/geo+json")


@_errors
def item(request, name, pk):
    user = request.api_user
    layer, public = _layer(name, user)
    feature = layer.source.get(user, pk, public=public)
    if feature is None:
        return JsonResponse({"code": "NotFound", "description": _("Not found.")}, status=404)
    data = {
        "type": "Feature",
        "id": f"{layer.name}.{feature.id}",
        "geometry": json.loads(shapely.to_geojson(feature.geometry))
        if feature.geometry is not None
        else None,
        "properties": feature.properties,
        "links": [
            {
                "href": _abs(request, "geo:oapif_collection", name),
                "rel": "collection",
                "type": "application/json",
            }
        ],
    }
    return HttpResponse(
        json.dumps(data, ensure_ascii=False, default=str), content_type="application/geo+json"
    )
