"""The layer registry and the feature-source contract (R-0-twin).

Every model registered with ``zhili.core.registry`` that has a ``GeometryField`` is a layer,
with no per-layer code: its name is the model label (``places.building``), its attributes are
the REST serializer's fields (so masking is exactly the API's), its rows are
``restrict(queryset, user, "view")``. Anything else that yields features (an external WFS, a
file) becomes a layer by implementing :class:`FeatureSource` and calling ``layers.add(...)``.

Later apps add thematic maps and linked records with one call each (see docs/development.md)::

    from zhili.geo.layers import layers
    layers.add_thematic("cases.by_grid", _("Cases per grid"), source="cases.case", by="grid")
    layers.add_thematic("cases.heat", _("Case heat map"), source="cases.case", kind="heat")
    layers.add_related("places.building", _("Residents"), "people.resident", "house__building")
"""

import abc
import hashlib
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from zhili.core import spatial
from zhili.core.fields import BBoxField, GeometryField
from zhili.core.masking import is_sensitive
from zhili.core.permissions import can_unmask, has_action, restrict, scope_filter
from zhili.core.registry import registry

#: Default styles of the town's base layers (others get a colour from their name).
BASE_STYLES = {
    "places.division": {
        "stroke_color": "#6c757d",
        "fill_color": "#adb5bd",
        "fill_opacity": 0.03,
        "stroke_width": 2,
    },
    "places.grid": {
        "stroke_color": "#198754",
        "fill_color": "#198754",
        "fill_opacity": 0.05,
        "stroke_width": 1,
    },
    "places.road": {"stroke_color": "#f0a020", "fill_color": "#f0a020", "fill_opacity": 0, "stroke_width": 3},
    "places.waterbody": {
        "stroke_color": "#4a90d9",
        "fill_color": "#9cc7f0",
        "fill_opacity": 0.8,
        "stroke_width": 1,
    },
    "places.building": {
        "stroke_color": "#0b5ed7",
        "fill_color": "#0d6efd",
        "fill_opacity": 0.45,
        "stroke_width": 1,
    },
}
BASE_ORDER = {
    "places.division": 10,
    "places.grid": 20,
    "places.waterbody": 25,
    "places.road": 30,
    "places.building": 40,
}
PALETTE = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e", "#2ca02c")


@dataclass
class Attribute:
    """One attribute of a layer: name, title, type (string/integer/number/boolean/date/datetime/ref)."""

    name: str
    title: str
    type: str = "string"
    choices: dict = field(default_factory=dict)
    sensitive: bool = False

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": str(self.title),
            "type": self.type,
            "choices": {str(k): str(v) for k, v in self.choices.items()},
            "sensitive": self.sensitive,
        }


class Feature:
    """One feature; its geometry is parsed from the stored GeoJSON text only when asked for."""

    __slots__ = ("id", "_geometry", "geometry_text", "properties", "url")

    def __init__(self, id, geometry=None, properties=None, url="", geometry_text=None):  # noqa: A002
        self.id = id
        self._geometry = geometry
        self.geometry_text = geometry_text
        self.properties = properties if properties is not None else {}
        self.url = url

    @property
    def geometry(self):
        if self._geometry is None and self.geometry_text:
            self._geometry = shapely.from_geojson(self.geometry_text)
        return self._geometry


@dataclass
class FeatureResult:
    total: int
    features: list


class LayerAccessDenied(Exception):
    """The user may not read the layer (``anonymous`` tells a sign-in could help)."""

    def __init__(self, anonymous: bool):
        self.anonymous = anonymous
        super().__init__("layer access denied")


class BadFilter(ValueError):
    """A filter names an unknown attribute or carries a value of the wrong type."""


class FeatureSource(abc.ABC):
    """The contract every layer's data follows. Subclass it for external data (a WFS, a file)."""

    geometry_types: tuple = ()

    @abc.abstractmethod
    def fields(self) -> list[Attribute]:
        """The layer's attributes."""

    @abc.abstractmethod
    def query(
        self, user, *, bbox=None, filters=None, ids=None, offset=0, limit=None, hits_only=False, public=False
    ):
        """Return a FeatureResult; ``filters`` is a ``Q`` over attribute names (see ``build_q``)."""

    def get(self, user, fid, public=False) -> Feature | None:
        result = self.query(user, ids=[fid], limit=1, public=public)
        return result.features[0] if result.features else None

    def geometries(self, user, bbox, attribute=None, public=False):
        """Return (geometry array, attribute values or None) for drawing; the fast path of WMS."""
        result = self.query(user, bbox=bbox, public=public)
        geoms = np.array([f.geometry for f in result.features], dtype=object)
        values = [f.properties.get(attribute) for f in result.features] if attribute else None
        return geoms, values

    def can_read(self, user) -> bool:
        return True

    def extent(self):
        return None

    def version(self) -> str:
        return "0"


def _attribute_type(f) -> str:
    if f.is_relation:
        return "ref"
    if isinstance(f, models.BooleanField):
        return "boolean"
    if isinstance(f, models.IntegerField | models.AutoField):
        return "integer"
    if isinstance(f, models.FloatField | models.DecimalField):
        return "number"
    if isinstance(f, models.DateTimeField):
        return "datetime"
    if isinstance(f, models.DateField):
        return "date"
    return "string"


class ModelFeatureSource(FeatureSource):
    """Features of a registered model: restricted, masked like the REST API."""

    def __init__(self, entry):
        self.entry = entry
        self.model = entry.model
        self.geometry_field: GeometryField = entry.geometry_field
        self.geometry_types = self.geometry_field.geom_types or ()

    # -- description ---------------------------------------------------------------------------

    def serializer_class(self):
        """The REST serializer of the model without its geometry field (read from the text)."""
        cached = getattr(self, "_serializer", None)
        if cached is not None:
            return cached
        from zhili.core.api.serializers import build_serializer

        base = build_serializer(self.entry)
        name = self.geometry_field.name
        fields = getattr(base.Meta, "fields", None)
        meta_attrs = {"read_only_fields": getattr(base.Meta, "read_only_fields", ())}
        if isinstance(fields, list | tuple):
            meta_attrs["fields"] = [f for f in fields if f != name]
        else:
            meta_attrs["exclude"] = [*getattr(base.Meta, "exclude", ()), name]
            meta_attrs["fields"] = None
        meta = type("Meta", (base.Meta,), meta_attrs)
        if meta_attrs.get("fields") is None:
            del meta.fields
        self._serializer = type(f"{base.__name__}Layer", (base,), {"Meta": meta, "_class_plan": None})
        return self._serializer

    def fields(self) -> list[Attribute]:
        names = [
            n for n in self.serializer_class()().fields if n not in (self.geometry_field.name, "display")
        ]
        result = []
        for name in names:
            try:
                f = self.model._meta.get_field(name)
            except Exception:  # noqa: BLE001 - a serializer-only field
                result.append(Attribute(name, name))
                continue
            if isinstance(f, BBoxField) or f.many_to_many:
                continue
            result.append(
                Attribute(
                    name,
                    getattr(f, "verbose_name", name),
                    "integer" if f.primary_key else _attribute_type(f),
                    dict(f.flatchoices) if getattr(f, "choices", None) else {},
                    is_sensitive(f),
                )
            )
        return result

    def extent(self):
        box = self.model._default_manager.aggregate(
            minx=models.Min("bbox_minx"),
            miny=models.Min("bbox_miny"),
            maxx=models.Max("bbox_maxx"),
            maxy=models.Max("bbox_maxy"),
        )
        return None if box["minx"] is None else (box["minx"], box["miny"], box["maxx"], box["maxy"])

    def version(self) -> str:
        """Changes when rows are saved/deleted (signal counter) or bulk-inserted (highest pk).

        One round trip (it is on the path of every cached tile)."""
        from django.db import connections

        from zhili.geo.models import LayerVersion

        connection = connections[self.model._default_manager.db]
        q = connection.ops.quote_name
        meta = self.model._meta
        sql = (
            f"SELECT (SELECT {q('version')} FROM {q(LayerVersion._meta.db_table)} WHERE {q('layer')} = %s), "
            f"(SELECT MAX({q(meta.pk.column)}) FROM {q(meta.db_table)})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.entry.label])
            counter, top = cursor.fetchone()
        return f"{counter or 0}-{top or 0}"

    # -- access --------------------------------------------------------------------------------

    def can_read(self, user) -> bool:
        return has_action(user, self.model, "view")

    def base_queryset(self, user, public: bool):
        """Rows the user may see: the permission path, or every row of a public layer."""
        queryset = self.model._default_manager.all()
        if has_action(user, self.model, "view"):
            return restrict(queryset, user, "view")
        if public:
            return queryset
        raise LayerAccessDenied(anonymous=not getattr(user, "is_authenticated", False))

    def unmask(self, user) -> bool:
        return can_unmask(user, self.model)

    def filterable(self, user) -> dict[str, Attribute]:
        """Attributes a filter may use: sensitive ones only for users who may see them in clear."""
        unmask = self.unmask(user)
        return {a.name: a for a in self.fields() if unmask or not a.sensitive}

    # -- reading -------------------------------------------------------------------------------

    def _filtered(self, user, bbox, filters, ids, public):
        queryset = self.base_queryset(user, public).exclude(bbox_minx__isnull=True)
        if bbox is not None:
            queryset = spatial.bbox_filter(queryset, *bbox)
        if filters is not None:
            queryset = queryset.filter(filters)
        if ids is not None:
            clean = [int(i) for i in ids if str(i).isdigit()]
            queryset = queryset.filter(pk__in=clean)
        return queryset

    def query(
        self, user, *, bbox=None, filters=None, ids=None, offset=0, limit=None, hits_only=False, public=False
    ):
        queryset = self._filtered(user, bbox, filters, ids, public)
        if hits_only:
            return FeatureResult(queryset.count(), [])
        total = queryset.count()
        queryset = queryset.order_by("pk")
        m2m = [f.name for f in self.model._meta.many_to_many]
        if m2m:
            queryset = queryset.prefetch_related(*m2m)
        end = None if limit is None else offset + limit
        geometry_name = self.geometry_field.attname
        rows = queryset.defer(geometry_name).annotate(_geom_text=spatial.raw_text(geometry_name))[offset:end]
        serializer = self.serializer_class()(context={"_unmask": self.unmask(user), "_unmask_checked": True})
        url_of = self._url_maker()
        features = []
        for obj in rows:
            props = serializer.to_representation(obj)
            features.append(Feature(obj.pk, None, props, url_of(obj), geometry_text=obj._geom_text or None))
        return FeatureResult(total, features)

    def _url_maker(self):
        """Detail URLs without one ``reverse`` per row (the pattern is the same for every pk)."""
        from django.urls import NoReverseMatch, reverse

        from zhili.core.models import BaseModel

        if self.model.get_absolute_url is not BaseModel.get_absolute_url:
            return lambda obj: obj.get_absolute_url()
        try:
            sample = reverse(f"{self.entry.app_label}:{self.entry.model_name}_detail", args=[987654321])
        except NoReverseMatch:
            return lambda obj: ""
        head, tail = sample.split("987654321", 1)
        return lambda obj: f"{head}{obj.pk}{tail}"

    def geometries(self, user, bbox, attribute=None, public=False):
        if attribute:
            f = self.model._meta.get_field(attribute)
            if is_sensitive(f) and not self.unmask(user):
                attribute = None
        queryset = self.base_queryset(user, public)
        sees_everything = not has_action(user, self.model, "view") or not scope_filter(
            user, self.model, "view"
        )
        if sees_everything:
            cached = self._all_geometries(attribute)
            if cached is not None:
                minx, miny, maxx, maxy, geoms, values = cached
                if bbox is None:
                    return geoms, values
                mask = (maxx >= bbox[0]) & (minx <= bbox[2]) & (maxy >= bbox[1]) & (miny <= bbox[3])
                return geoms[mask], (
                    list(np.asarray(values, dtype=object)[mask]) if values is not None else None
                )
        queryset = queryset.exclude(bbox_minx__isnull=True)
        if bbox is not None:
            queryset = spatial.bbox_filter(queryset, *bbox)
        return self._load_geometries(queryset, attribute)

    def _load_geometries(self, queryset, attribute):
        name = self.geometry_field.attname
        columns = ["_geom_text"]
        if attribute:
            columns.insert(0, self.model._meta.get_field(attribute).attname)
        rows = list(queryset.annotate(_geom_text=spatial.raw_text(name)).values_list(*columns))
        if not rows:
            return np.empty(0, dtype=object), None
        geoms = spatial.parse_many([row[-1] for row in rows])
        values = [row[0] for row in rows] if attribute else None
        return geoms, values

    def _all_geometries(self, attribute):
        """Every geometry of the layer, parsed once per data version and kept in memory (layers of
        up to GEOMETRY_CACHE_MAX_ROWS rows): map images then skip the database and the parsing."""
        version = self.version()
        key = (self.entry.label, attribute)
        hit = _geometry_cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        queryset = self.model._default_manager.exclude(bbox_minx__isnull=True)
        if queryset.count() > GEOMETRY_CACHE_MAX_ROWS:
            return None
        boxes = np.array(
            list(queryset.order_by("pk").values_list("bbox_minx", "bbox_miny", "bbox_maxx", "bbox_maxy")),
            dtype=float,
        )
        geoms, values = self._load_geometries(queryset.order_by("pk"), attribute)
        if len(geoms) != len(boxes):
            return None
        if len(boxes) == 0:
            boxes = np.empty((0, 4))
        data = (boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], geoms, values)
        _geometry_cache[key] = (version, data)
        return data


#: (layer, attribute) → (data version, arrays); see ModelFeatureSource._all_geometries.
_geometry_cache: dict = {}
GEOMETRY_CACHE_MAX_ROWS = 200_000


def build_q(attributes: dict[str, Attribute], name: str, op: str, value) -> Q:
    """Return ``Q`` for ``attribute op value`` (op: eq ne lt le gt ge like null in); raise BadFilter."""
    attr = attributes.get(name)
    if attr is None:
        raise BadFilter(_("Unknown or hidden attribute: %(name)s") % {"name": name})
    key = name if attr.type != "ref" else f"{name}_id"
    if op == "null":
        return Q(**{f"{key}__isnull": True})
    if op == "in":
        return Q(**{f"{key}__in": [convert_value(attr, v) for v in value]})
    if op == "like":
        text = str(value)
        return Q(**{f"{key}__icontains": text.replace("%", "").replace("*", "")})
    value = convert_value(attr, value)
    lookup = {"eq": "exact", "ne": "exact", "lt": "lt", "le": "lte", "gt": "gt", "ge": "gte"}.get(op)
    if lookup is None:
        raise BadFilter(_("Unknown operator: %(op)s") % {"op": op})
    q = Q(**{f"{key}__{lookup}": value})
    return ~q if op == "ne" else q


def convert_value(attr: Attribute, value):
    try:
        if attr.type in ("integer", "ref"):
            return int(value)
        if attr.type == "number":
            return float(value)
        if attr.type == "boolean":
            return str(value).lower() in ("1", "true", "yes", "是")
    except (TypeError, ValueError):
        raise BadFilter(
            _("%(value)s is not a valid value for %(name)s") % {"value": value, "name": attr.name}
        ) from None
    if attr.choices and str(value) not in {str(k) for k in attr.choices}:
        labels = {str(v): k for k, v in attr.choices.items()}
        if str(value) in labels:
            return labels[str(value)]
    return value


@dataclass
class Layer:
    name: str
    title: object
    source: FeatureSource
    entry: object = None
    group: str = ""
    order: int = 100

    @property
    def is_model_layer(self) -> bool:
        return self.entry is not None

    def settings(self):
        """Return the admin's LayerStyle row, or None."""
        from zhili.geo.models import LayerStyle

        return LayerStyle.objects.filter(layer=self.name).first()

    def display_title(self, settings=None) -> str:
        settings = settings if settings is not None else self.settings()
        return (settings.title if settings and settings.title else None) or str(self.title)

    def is_public(self, settings=None) -> bool:
        settings = settings if settings is not None else self.settings()
        return bool(settings and settings.is_public)

    def style(self, settings=None) -> dict:
        settings = settings if settings is not None else self.settings()
        if settings is not None:
            return {
                "kind": settings.kind,
                "attribute": settings.attribute,
                "stroke_color": settings.stroke_color,
                "fill_color": settings.fill_color,
                "fill_opacity": settings.fill_opacity,
                "stroke_width": settings.stroke_width,
                "classes": settings.parsed_classes(),
                "visible": settings.visible,
            }
        base = BASE_STYLES.get(self.name)
        if base is None:
            color = PALETTE[int(hashlib.md5(self.name.encode()).hexdigest(), 16) % len(PALETTE)]
            base = {"stroke_color": color, "fill_color": color, "fill_opacity": 0.4, "stroke_width": 1.5}
        return {"kind": "single", "attribute": "", "classes": [], "visible": True, **base}

    def readable(self, user, settings=None) -> bool:
        return self.source.can_read(user) or self.is_public(settings)

    def describe(self, user=None) -> dict:
        settings = self.settings()
        return {
            "name": self.name,
            "title": self.display_title(settings),
            "group": self.group,
            "geometry_types": list(self.source.geometry_types),
            "style": self.style(settings),
            "public": self.is_public(settings),
            "fields": [a.as_dict() for a in self.source.fields()],
            "order": settings.order if settings else self.order,
        }


@dataclass
class ThematicMap:
    """A choropleth (value per grid or division) or a heat map of a layer's features."""

    name: str
    title: object
    source: str
    kind: str = "choropleth"
    by: str = "grid"
    aggregate: str = "count"
    attribute: str = ""
    filters: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "title": str(self.title),
            "kind": self.kind,
            "source": self.source,
            "by": self.by,
        }


@dataclass
class RelatedRecords:
    layer: str
    title: object
    model: str
    path: str
    limit: int = 50


class LayerRegistry:
    """Model layers (derived from the model registry) plus layers, thematic maps and linked
    records added by apps."""

    def __init__(self):
        self._extra: dict[str, Layer] = {}
        self.thematic: dict[str, ThematicMap] = {}
        self.related: list[RelatedRecords] = []

    # -- layers ----------------------------------------------------------------------------------

    def _model_layers(self) -> dict[str, Layer]:
        result = {}
        for entry in registry:
            if entry.geometry_field is None:
                continue
            result[entry.label] = Layer(
                name=entry.label,
                title=entry.verbose_name_plural,
                source=ModelFeatureSource(entry),
                entry=entry,
                group=entry.group,
                order=BASE_ORDER.get(entry.label, 100),
            )
        return result

    def all(self) -> list[Layer]:
        merged = {**self._model_layers(), **self._extra}
        return sorted(merged.values(), key=lambda layer: (layer.order, layer.name))

    def get(self, name: str) -> Layer | None:
        if name in self._extra:
            return self._extra[name]
        entry = registry.get_by_label(name)
        if entry is None or entry.geometry_field is None:
            return None
        return self._model_layers()[name]

    def for_user(self, user) -> list[Layer]:
        from zhili.geo.models import LayerStyle

        settings = {s.layer: s for s in LayerStyle.objects.all()}
        return [layer for layer in self.all() if layer.readable(user, settings.get(layer.name) or False)]

    def add(self, layer: Layer) -> Layer:
        """Add a layer that is not a registered model (external WFS, file, computed features)."""
        self._extra[layer.name] = layer
        return layer

    # -- thematic maps and linked records ----------------------------------------------------------

    def add_thematic(
        self,
        name,
        title,
        *,
        source,
        kind="choropleth",
        by="grid",
        aggregate="count",
        attribute="",
        filters=None,
    ):
        """Add a thematic map of ``source`` (a model label).

        ``kind="choropleth"``: ``aggregate`` (count/sum/avg of ``attribute``) of the source's rows per
        grid or division, through the foreign key named by ``by`` (``"grid"``, ``"division"``,
        ``"house__building__grid"`` …). ``kind="heat"``: a heat map of the rows' locations (the
        source must have geometry), weighted by ``attribute`` if given.
        """
        if kind not in ("choropleth", "heat") or aggregate not in ("count", "sum", "avg"):
            raise ValueError(f"thematic map {name}: unknown kind or aggregate")
        self.thematic[name] = ThematicMap(name, title, source, kind, by, aggregate, attribute, filters or {})
        return self.thematic[name]

    def add_related(self, layer: str, title, model: str, path: str, limit: int = 50):
        """Show ``model`` rows whose ``path`` leads to the clicked feature in its popup."""
        self.related.append(RelatedRecords(layer, title, model, path, limit))


layers = LayerRegistry()


def geometry_bounds(geoms) -> tuple | None:
    if len(geoms) == 0:
        return None
    return tuple(shapely.total_bounds(geoms))
