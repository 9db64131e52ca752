"""Home dashboard (counts and the town map), map layer GeoJSON, and error pages."""

import json
import math

import shapely
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from zhili.core.permissions import has_action, restrict
from zhili.core.registry import registry

#: Models whose counts the home dashboard shows, in order.
DASHBOARD_COUNTS = (
    "people.resident",
    "people.household",
    "places.building",
    "places.grid",
    "orgs.businessunit",
    "people.floatingregistration",
)
#: Layers of the home map, bottom to top.
HOME_LAYERS = ("places.division", "places.grid", "places.road", "places.building")
MAX_FEATURES = 20000


def home(request):
    counts = []
    for label in DASHBOARD_COUNTS:
        entry = registry.get_by_label(label)
        if entry is not None and has_action(request.user, entry.model, "view"):
            counts.append(
                {
                    "entry": entry,
                    "count": restrict(entry.model._default_manager.all(), request.user).count(),
                    "url": reverse(entry.url_name("list")),
                }
            )
    layers = []
    for label in HOME_LAYERS:
        entry = registry.get_by_label(label)
        if entry is not None and has_action(request.user, entry.model, "view"):
            layers.append(
                {
                    "name": label,
                    "title": str(entry.verbose_name_plural),
                    "url": reverse("dashboard:layer", args=[label]),
                }
            )
    return render(request, "dashboard/home.html", {"counts": counts, "layers_json": json.dumps(layers)})


def parse_bbox(text: str):
    """Return (minx, miny, maxx, maxy) from ``minx,miny,maxx,maxy`` or None; raise ValueError if malformed."""
    if not text:
        return None
    parts = [float(p) for p in text.split(",")]
    if (
        len(parts) != 4
        or not all(math.isfinite(p) for p in parts)
        or parts[0] > parts[2]
        or parts[1] > parts[3]
    ):
        raise ValueError(text)
    return parts


def layer(request, label):
    """Return a registered model's features as GeoJSON (restricted to what the user may see)."""
    entry = registry.get_by_label(label)
    if entry is None or entry.geometry_field is None:
        raise Http404
    if not has_action(request.user, entry.model, "view"):
        return JsonResponse({"detail": _("You do not have permission to view this layer.")}, status=403)
    try:
        bbox = parse_bbox(request.GET.get("bbox", ""))
    except ValueError:
        return JsonResponse({"bbox": [_("Use bbox=minx,miny,maxx,maxy in degrees.")]}, status=400)
    queryset = restrict(entry.model._default_manager.all(), request.user).exclude(bbox_minx__isnull=True)
    if bbox:
        minx, miny, maxx, maxy = bbox
        queryset = queryset.filter(
            bbox_maxx__gte=minx, bbox_minx__lte=maxx, bbox_maxy__gte=miny, bbox_miny__lte=maxy
        )
    geometry_name = entry.geometry_field.name
    extra = [f.name for f in entry.data_fields() if f.choices and not f.is_relation][:2]
    objects = queryset.only("pk", geometry_name, *_name_fields(entry), *extra)[:MAX_FEATURES]
    features = []
    for obj in objects:
        props = {"id": obj.pk, "name": str(obj), "url": obj.get_absolute_url()}
        props.update((name, getattr(obj, name)) for name in extra)
        geometry = shapely.to_geojson(getattr(obj, geometry_name))
        features.append(
            f'{{"type":"Feature","geometry":{geometry},"properties":{json.dumps(props, ensure_ascii=False)}}}'
        )
    body = (
        '{"type":"FeatureCollection","name":'
        + json.dumps(label)
        + ',"features":['
        + ",".join(features)
        + "]}"
    )
    return HttpResponse(body, content_type="application/geo+json")


def _name_fields(entry):
    return [f.attname for f in entry.data_fields() if f.name in ("name", "code", "address", "number")]


def bad_request(request, exception=None):
    return render(
        request, "errors/error.html", {"code": 400, "message": _("The request was not valid.")}, status=400
    )


def permission_denied(request, exception=None):
    message = (
        str(exception) if exception and str(exception) else _("You do not have permission to open this page.")
    )
    return render(request, "errors/error.html", {"code": 403, "message": message}, status=403)


def page_not_found(request, exception=None):
    return render(
        request, "errors/error.html", {"code": 404, "message": _("The page does not exist.")}, status=404
    )


def server_error(request):
    return render(
        request,
        "errors/error.html",
        {"code": 500, "message": _("Something went wrong on the server.")},
        status=500,
    )
