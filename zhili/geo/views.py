"""Map pages and the map's JSON API: layers, GeoJSON per layer, spatial queries, thematic maps.

The API authenticates like the REST API (session or API token) and answers JSON errors; a layer
an administrator marked public is readable without sign-in (masked). Pages need a sign-in.
"""

import json
import math

import numpy as np
import shapely
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Q, Sum
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from zhili.core import audit, geo, spatial
from zhili.core.fields import parse_geometry
from zhili.core.importexport import ImportFileError
from zhili.core.permissions import has_action, require_action, restrict
from zhili.core.registry import registry
from zhili.geo import gisio
from zhili.geo.auth import AuthenticationFailed, authenticate
from zhili.geo.layers import BadFilter, LayerAccessDenied, build_q, layers
from zhili.geo.ogc.wfs import geojson_collection

RESERVED = {"bbox", "limit", "offset", "format", "ids", "related"}
OPERATORS = {
    "": "eq",
    "ne": "ne",
    "lt": "lt",
    "lte": "le",
    "gt": "gt",
    "gte": "ge",
    "like": "like",
    "in": "in",
    "isnull": "null",
}
MAX_LIMIT = 20_000
#: Colour ramp of choropleth classes (ColorBrewer YlOrRd, 5 classes).
RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


class ApiError(Exception):
    def __init__(self, status: int, detail, field: str | None = None):
        super().__init__(str(detail))
        self.status = status
        self.payload = {field: [str(detail)]} if field else {"detail": str(detail)}


def api_view(func):
    """Authenticate with the DRF classes, turn ApiError/denials into JSON errors, open to anonymous."""

    @login_not_required
    @require_GET
    def wrapper(request, *args, **kwargs):
        try:
            request.api_user = authenticate(request)
            return func(request, *args, **kwargs)
        except AuthenticationFailed as exc:
            response = JsonResponse({"detail": str(exc)}, status=401)
            response["WWW-Authenticate"] = 'Token realm="api"'
            return response
        except LayerAccessDenied as exc:
            if exc.anonymous:
                response = JsonResponse(
                    {"detail": _("Authentication credentials were not provided.")}, status=401
                )
                response["WWW-Authenticate"] = 'Token realm="api"'
                return response
            return JsonResponse({"detail": _("You do not have permission to view this layer.")}, status=403)
        except ApiError as exc:
            return JsonResponse(exc.payload, status=exc.status)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def _layer(name, user):
    layer = layers.get(name)
    if layer is None:
        raise ApiError(404, _("No layer named %(name)s.") % {"name": name})
    public = layer.is_public()
    if not layer.source.can_read(user) and not public:
        raise LayerAccessDenied(anonymous=not user.is_authenticated)
    return layer, public


def _bbox(text: str):
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if (
        len(parts) != 4
        or not all(math.isfinite(p) for p in parts)
        or parts[0] > parts[2]
        or parts[1] > parts[3]
    ):
        raise ApiError(400, _("Use bbox=minx,miny,maxx,maxy in degrees."), "bbox")
    return tuple(parts)


def _int(request, name, default, maximum):
    text = request.GET.get(name, "")
    if not text:
        return default
    if not text.isdigit():
        raise ApiError(400, _("Must be a whole number."), name)
    return min(int(text), maximum)


def attribute_filters(request, layer, user) -> Q | None:
    """Return the Q of ``attr=value`` / ``attr__op=value`` query parameters (None when there are none)."""
    source = layer.source
    attributes = (
        source.filterable(user) if hasattr(source, "filterable") else {a.name: a for a in source.fields()}
    )
    q = None
    for key, value in request.GET.items():
        if key in RESERVED or key.startswith("_"):
            continue
        name, _sep, op = key.partition("__")
        if op not in OPERATORS:
            raise ApiError(400, _("Unknown operator: %(op)s") % {"op": op}, key)
        operator = OPERATORS[op]
        argument = value.split(",") if operator == "in" else value
        if operator == "null" and value.lower() not in ("1", "true"):
            operator, argument = "ne", None
        try:
            part = (
                build_q(attributes, name, operator, argument)
                if argument is not None
                else ~build_q(attributes, name, "null", None)
            )
        except BadFilter as exc:
            raise ApiError(400, exc, key) from None
        q = part if q is None else q & part
    return q


# ---------------------------------------------------------------- JSON API


@api_view
def layer_list(request):
    """The layers the caller may read, with style, attributes, and the thematic maps."""
    user = request.api_user
    readable = layers.for_user(user)
    names = {layer.name for layer in readable}
    data = {
        "layers": [
            {
                **layer.describe(user),
                "features_url": reverse("geo:features", args=[layer.name]),
                "export_url": reverse("geo:export", args=[layer.name]),
                "import_url": reverse("geo:import", args=[layer.name]),
                "can_import": layer.entry is not None and has_action(user, layer.entry.model, "import"),
                "can_export": layer.entry is None or has_action(user, layer.entry.model, "export"),
            }
            for layer in readable
        ],
        "thematic": [
            {**t.describe(), "url": reverse("geo:thematic", args=[t.name])}
            for t in layers.thematic.values()
            if _thematic_readable(t, user)
        ],
        "base_tile_url": settings.ZHILI.get("MAP_TILE_URL", ""),
        "center": settings.ZHILI.get("MAP_CENTER", [119.96, 30.27]),
        "base_layers": [
            n
            for n in ("places.division", "places.grid", "places.waterbody", "places.road", "places.building")
            if n in names
        ],
    }
    return JsonResponse(data)


@api_view
def features(request, name):
    """GeoJSON of one layer: ``bbox``, ``limit``/``offset``, attribute filters (``floors__gte=3``)."""
    user = request.api_user
    layer, public = _layer(name, user)
    bbox = _bbox(request.GET.get("bbox", ""))
    limit = _int(request, "limit", MAX_LIMIT, MAX_LIMIT)
    offset = _int(request, "offset", 0, 10**9)
    ids = [i for i in request.GET.get("ids", "").split(",") if i] or None
    result = layer.source.query(
        user,
        bbox=bbox,
        filters=attribute_filters(request, layer, user),
        ids=ids,
        offset=offset,
        limit=limit,
        public=public,
    )
    return HttpResponse(
        geojson_collection(layer, result.features, result.total, start=offset),
        content_type="application/geo+json",
    )


@api_view
def feature_detail(request, name, pk):
    """One feature with its attributes, link and linked records (residents of a building …)."""
    user = request.api_user
    layer, public = _layer(name, user)
    feature = layer.source.get(user, pk, public=public)
    if feature is None:
        raise ApiError(404, _("Not found."))
    data = {
        "type": "Feature",
        "id": f"{layer.name}.{feature.id}",
        "geometry": json.loads(shapely.to_geojson(feature.geometry))
        if feature.geometry is not None
        else None,
        "properties": feature.properties,
        "url": feature.url if layer.entry is not None and has_action(user, layer.entry.model, "view") else "",
        "title": layer.display_title(),
        "related": related_records(layer, feature.id, user) if layer.entry is not None else [],
    }
    if feature.geometry is not None:
        data["measures"] = measures(feature.geometry)
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False, "default": str})


def related_records(layer, pk, user) -> list[dict]:
    """Declared links (``layers.add_related``) plus every registered model with a foreign key to it."""
    groups = []
    declared = [(r.model, r.path, r.title, r.limit) for r in layers.related if r.layer == layer.name]
    automatic = []
    for f in layer.entry.model._meta.related_objects:
        if f.one_to_many and f.related_model in registry:
            automatic.append(
                (
                    f.related_model._meta.label_lower,
                    f.field.name,
                    f.related_model._meta.verbose_name_plural,
                    20,
                )
            )
    seen = set()
    for label, path, title, limit in declared + automatic:
        if (label, path) in seen:
            continue
        seen.add((label, path))
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if not has_action(user, model, "view"):
            continue
        queryset = restrict(model._default_manager.filter(**{path: pk}), user, "view").order_by("pk")
        total = queryset.count()
        if not total:
            continue
        rows = []
        for obj in queryset[:limit]:
            row = {"id": obj.pk, "text": str(obj), "url": obj.get_absolute_url()}
            for extra in ("age", "household_type", "residence_type", "status"):
                if hasattr(obj, f"get_{extra}_display"):
                    row[extra] = str(getattr(obj, f"get_{extra}_display")())
                elif extra == "age" and getattr(obj, "age", None) is not None:
                    row["age"] = obj.age
            rows.append(row)
        groups.append({"model": label, "title": str(title), "total": total, "items": rows})
    return groups


def measures(geom) -> dict:
    kind = geom.geom_type
    if "Polygon" in kind:
        return {"area_m2": round(geo.area_m2(geom), 1), "perimeter_m": round(geo.length_m(geom), 1)}
    if "Line" in kind:
        return {"length_m": round(geo.length_m(geom), 1)}
    return {}


@api_view
def measure(request):
    """Length or area in metres of a GeoJSON/WKT geometry on the CGCS2000 ellipsoid."""
    try:
        geom = parse_geometry(request.GET.get("geometry", ""))
    except ValidationError as exc:
        raise ApiError(400, "; ".join(exc.messages), "geometry") from None
    if geom is None:
        raise ApiError(400, _("This field is required."), "geometry")
    return JsonResponse(measures(geom))


@api_view
def spatial_query(request):
    """Features of ``layer`` selected by ``op``: bbox, intersects (``geometry``), dwithin
    (``lon``, ``lat``, ``distance`` in metres) or nearest (``lon``, ``lat``, ``n``)."""
    user = request.api_user
    layer, public = _layer(request.GET.get("layer", ""), user)
    if layer.entry is None:
        raise ApiError(400, _("Spatial selection works on model layers."), "layer")
    queryset = layer.source.base_queryset(user, public)
    filters = attribute_filters_from(request, layer, user)
    if filters is not None:
        queryset = queryset.filter(filters)
    op = request.GET.get("op", "bbox")
    distances = {}
    if op == "bbox":
        queryset = spatial.in_bbox(queryset, *(_bbox(request.GET.get("bbox", "")) or _missing("bbox")))
    elif op == "intersects":
        try:
            geom = parse_geometry(request.GET.get("geometry", ""))
        except ValidationError as exc:
            raise ApiError(400, "; ".join(exc.messages), "geometry") from None
        if geom is None:
            _missing("geometry")
        buffer = _float(request, "buffer", 0)
        if buffer:
            centre = geom.centroid
            metric = spatial.to_metres(geom, centre.x, centre.y).buffer(buffer, 32)
            geom = spatial.from_metres(metric, centre.x, centre.y)
        queryset = spatial.intersecting(queryset, geom)
    elif op in ("dwithin", "nearest"):
        lon, lat = _float(request, "lon", None), _float(request, "lat", None)
        if lon is None or lat is None:
            _missing("lon")
        if op == "dwithin":
            pairs = spatial.distances_m(queryset, lon, lat, _float(request, "distance", 100))
        else:
            pairs = spatial.nearest(queryset, lon, lat, _int(request, "n", 1, 1000))
        distances = dict(pairs)
        queryset = queryset.filter(pk__in=list(distances))
    else:
        raise ApiError(400, _("Unknown operation: %(op)s") % {"op": op}, "op")
    ids = list(queryset.values_list("pk", flat=True)[: MAX_LIMIT + 1])
    limit = _int(request, "limit", 5000, MAX_LIMIT)
    result = layer.source.query(user, ids=ids, limit=limit, public=public)
    for feature in result.features:
        if feature.id in distances:
            feature.properties = {**feature.properties, "distance_m": round(distances[feature.id], 1)}
    if distances:
        result.features.sort(key=lambda f: distances.get(f.id, 0))
    return HttpResponse(
        geojson_collection(layer, result.features, len(ids)), content_type="application/geo+json"
    )


def attribute_filters_from(request, layer, user):
    """Attribute filters on a spatial query are prefixed ``where.`` (``where.floors__gte=3``)."""
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, value in request.GET.items():
        if key.startswith("where."):
            query[key[6:]] = value
    if not query:
        return None

    class Shim:
        GET = query

    return attribute_filters(Shim, layer, user)


def _missing(name):
    raise ApiError(400, _("This field is required."), name)


def _float(request, name, default):
    text = request.GET.get(name, "")
    if text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value):
        raise ApiError(400, _("Must be a number."), name)
    return value


def _thematic_readable(thematic, user) -> bool:
    try:
        model = apps.get_model(thematic.source)
    except LookupError:
        return False
    return has_action(user, model, "view")


def _target_model(model, path: str):
    for part in path.split("__"):
        model = model._meta.get_field(part).related_model
    return model


@api_view
def thematic(request, name):
    """A thematic map: GeoJSON of grids/divisions with ``value`` and classes, or heat points."""
    user = request.api_user
    spec = layers.thematic.get(name)
    if spec is None:
        raise ApiError(404, _("No thematic map named %(name)s.") % {"name": name})
    model = apps.get_model(spec.source)
    if not has_action(user, model, "view"):
        raise LayerAccessDenied(anonymous=not user.is_authenticated)
    queryset = restrict(model._default_manager.filter(**spec.filters), user, "view")
    if spec.kind == "heat":
        prefix = f"{spec.by}__" if spec.by else ""
        columns = [f"{prefix}bbox_minx", f"{prefix}bbox_miny", f"{prefix}bbox_maxx", f"{prefix}bbox_maxy"]
        if spec.attribute:
            columns.append(spec.attribute)
        rows = queryset.exclude(**{columns[0] + "__isnull": True}).values_list(*columns)[:200_000]
        points = {}
        for row in rows:
            key = (round((row[1] + row[3]) / 2, 6), round((row[0] + row[2]) / 2, 6))
            weight = float(row[4] or 0) if spec.attribute else 1.0
            points[key] = points.get(key, 0) + weight
        top = max(points.values(), default=1)
        return JsonResponse(
            {
                "kind": "heat",
                "title": str(spec.title),
                "max": top,
                "points": [[lat, lon, w] for (lat, lon), w in points.items()],
            }
        )
    aggregate = {
        "count": Count("pk"),
        "sum": Sum(spec.attribute or "pk"),
        "avg": Avg(spec.attribute or "pk"),
    }[spec.aggregate]
    values = {
        row[spec.by]: row["value"]
        for row in queryset.values(spec.by).annotate(value=aggregate).order_by()
        if row[spec.by] is not None
    }
    target = _target_model(model, spec.by)
    areas = (
        restrict(target._default_manager.exclude(bbox_minx__isnull=True), user, "view")
        if has_action(user, target, "view")
        else target._default_manager.none()
    )
    numbers = sorted(float(v or 0) for v in values.values())
    breaks = _quantile_breaks(numbers)
    features = []
    for area in areas.only("pk", "name", "geometry"):
        value = float(values.get(area.pk) or 0)
        features.append(
            {
                "type": "Feature",
                "id": area.pk,
                "geometry": json.loads(shapely.to_geojson(area.geometry)),
                "properties": {
                    "name": str(area),
                    "value": round(value, 2),
                    "color": _class_color(value, breaks),
                    "url": area.get_absolute_url(),
                },
            }
        )
    classes = [
        {"min": lo, "max": hi, "color": RAMP[i]}
        for i, (lo, hi) in enumerate(zip(breaks[:-1], breaks[1:], strict=False))
    ]
    return JsonResponse(
        {
            "kind": "choropleth",
            "title": str(spec.title),
            "classes": classes,
            "type": "FeatureCollection",
            "features": features,
        },
        json_dumps_params={"ensure_ascii": False},
    )


def _quantile_breaks(numbers: list[float]) -> list[float]:
    if not numbers:
        return [0.0, 1.0]
    qs = np.quantile(np.asarray(numbers), np.linspace(0, 1, len(RAMP) + 1))
    breaks = sorted({round(float(v), 2) for v in qs})
    if len(breaks) == 1:
        breaks.append(breaks[0] + 1)
    return breaks


def _class_color(value: float, breaks: list[float]) -> str:
    for i in range(len(breaks) - 1):
        if value <= breaks[i + 1]:
            return RAMP[min(i, len(RAMP) - 1)]
    return RAMP[-1]


@api_view
def village(request, pk):
    """A village or community: its boundary, its buildings with household counts per type."""
    user = request.api_user
    Division = apps.get_model("places.Division")
    Building = apps.get_model("places.Building")
    if not has_action(user, Division, "view") or not has_action(user, Building, "view"):
        raise LayerAccessDenied(anonymous=not user.is_authenticated)
    division = restrict(Division.objects.filter(pk=pk), user, "view").first()
    if division is None:
        raise ApiError(404, _("Not found."))
    wanted = request.GET.get("household_type", "")
    buildings = restrict(
        Building.objects.filter(division__path__startswith=division.path), user, "view"
    ).exclude(bbox_minx__isnull=True)
    counts: dict[int, dict[str, int]] = {}
    types = {}
    if apps.is_installed("zhili.people"):
        Household = apps.get_model("people.Household")
        types = dict(Household._meta.get_field("household_type").flatchoices)
        if has_action(user, Household, "view"):
            rows = (
                restrict(Household.objects.filter(house__building__in=buildings.values("pk")), user, "view")
                .values_list("house__building", "household_type")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for building_id, kind, n in rows:
                counts.setdefault(building_id, {})[kind] = n
        if wanted and wanted not in types:
            raise ApiError(400, _("Unknown household type."), "household_type")
    features = []
    for b in buildings.only("pk", "name", "address", "floors", "geometry", "code"):
        c = counts.get(b.pk, {})
        if wanted and not c.get(wanted):
            continue
        features.append(
            {
                "type": "Feature",
                "id": b.pk,
                "geometry": json.loads(shapely.to_geojson(b.geometry)),
                "properties": {
                    "name": str(b),
                    "code": b.code,
                    "floors": b.floors,
                    "households": c,
                    "url": b.get_absolute_url(),
                },
            }
        )
    return JsonResponse(
        {
            "division": {
                "id": division.pk,
                "name": division.name,
                "geometry": json.loads(shapely.to_geojson(division.geometry))
                if division.geometry is not None
                else None,
            },
            "household_types": types,
            "totals": {k: sum(c.get(k, 0) for c in counts.values()) for k in types},
            "type": "FeatureCollection",
            "features": features,
        },
        json_dumps_params={"ensure_ascii": False},
    )


# ---------------------------------------------------------------- pages


def map_page(request):
    Division = apps.get_model("places.Division")
    villages = (
        restrict(Division.objects.exclude(level="town"), request.user, "view")
        .order_by("code")
        .only("pk", "name")
    )
    return render(
        request,
        "geo/map.html",
        {
            "villages": villages,
            "household_types": _household_types(),
            "config": {
                "layers_url": reverse("geo:layer_list"),
                "query_url": reverse("geo:query"),
                "measure_url": reverse("geo:measure"),
                "village_url": reverse("geo:village", args=[0]),
                "feature_url": reverse("geo:feature", args=["LAYER", 0]),
                "center": settings.ZHILI.get("MAP_CENTER", [119.96, 30.27]),
            },
        },
    )


def _household_types():
    if not apps.is_installed("zhili.people"):
        return []
    Household = apps.get_model("people.Household")
    return list(Household._meta.get_field("household_type").flatchoices)


def view_3d(request):
    layer = layers.get("places.building")
    if layer is None or not layer.source.can_read(request.user):
        raise Http404
    extra = [
        {"name": item.name, "url": reverse("geo:features", args=[item.name]), "depth_attribute": "depth_m"}
        for item in layers.all()
        if item.name != "places.building"
        and any("Line" in t for t in item.source.geometry_types)
        and item.source.can_read(request.user)
        and "depth_m" in {a.name for a in item.source.fields()}
    ]
    return render(
        request,
        "geo/view3d.html",
        {
            "config": {
                "buildings_url": reverse("geo:features", args=["places.building"]),
                "feature_url": reverse("geo:feature", args=["places.building", 0]),
                "underground": extra,
                "center": settings.ZHILI.get("MAP_CENTER", [119.96, 30.27]),
                "floor_height": settings.ZHILI.get("FLOOR_HEIGHT_M", 3.0),
            }
        },
    )


def export_audit(user, layer, fmt, count):
    audit.emit("data.export", user=user, details={"model": layer.name, "format": fmt, "rows": count})


# ---------------------------------------------------------------- GIS import / export


class GisImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".zip,.gpkg,.kml,.geojson,.json,.dxf,.xlsx,.csv"}
        ),
    )
    crs = forms.ChoiceField(
        label=gettext_lazy("Coordinate system"),
        choices=[
            ("auto", gettext_lazy("As declared in the file (else CGCS2000)")),
            ("EPSG:4490", "CGCS2000 (EPSG:4490)"),
            ("EPSG:4326", "WGS84 (EPSG:4326)"),
            ("EPSG:3857", "Web Mercator (EPSG:3857)"),
            ("EPSG:4549", "CGCS2000 / 3° GK CM 120E (EPSG:4549)"),
            ("gcj02", gettext_lazy("GCJ-02 (Amap, Tencent)")),
        ],
        initial="auto",
        widget=forms.Select(attrs={"class": "form-select"}),
    )


def _model_layer(name):
    layer = layers.get(name)
    if layer is None or layer.entry is None:
        raise Http404
    return layer


def gis_export(request, name):
    """Download a layer (or the selected ``ids``, or a ``bbox``) as a GIS file or a table."""
    layer = _model_layer(name)
    entry = layer.entry
    require_action(
        request.user, entry.model, "export", message=_("You do not have permission to export this layer.")
    )
    fmt = request.GET.get("format", "geojson")
    if fmt not in gisio.FORMATS:
        return JsonResponse({"format": [_("Unknown format.")]}, status=400)
    queryset = restrict(entry.model._default_manager.all(), request.user, "export")
    ids = [i for i in request.GET.get("ids", "").split(",") if i.isdigit()]
    if ids:
        queryset = queryset.filter(pk__in=ids)
    try:
        bbox = _bbox(request.GET.get("bbox", ""))
    except ApiError as exc:
        return JsonResponse(exc.payload, status=400)
    if bbox:
        queryset = spatial.bbox_filter(queryset, *bbox)
    body, filename, content_type = gisio.export_layer(entry, queryset, request.user, fmt)
    audit.emit(
        "data.export",
        user=request.user,
        details={"model": entry.label, "format": fmt, "ids": len(ids), "bbox": request.GET.get("bbox", "")},
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def gis_import(request, name):
    layer = _model_layer(name)
    entry = layer.entry
    require_action(
        request.user,
        entry.model,
        "import",
        message=_("You do not have permission to import into this layer."),
    )
    result, file_error, status = None, None, 200
    form = GisImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = gisio.import_layer(
                    entry, upload, upload.name, request.user, form.cleaned_data["crs"]
                )
            except ImportFileError as exc:
                file_error = str(exc)
                audit.emit(
                    "data.import",
                    user=request.user,
                    success=False,
                    details={"model": entry.label, "file": upload.name, "error": file_error},
                )
        status = 200 if result is not None and result.ok else 400
    return render(
        request,
        "geo/import.html",
        {
            "layer": layer,
            "entry": entry,
            "form": form,
            "result": result,
            "file_error": file_error,
            "formats": gisio.FORMATS,
        },
        status=status,
    )
