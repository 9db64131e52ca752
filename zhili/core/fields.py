"""Model fields shared by every app: sensitive values and portable geometry.

Geometry is stored as GeoJSON text in CGCS2000 lon/lat (EPSG:4490) with four indexed
bounding-box columns beside it, so that SQLite and PostgreSQL both answer spatial
pre-filters without GIS system libraries (R-0-coords).
"""

import json

import shapely
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from shapely.geometry.base import BaseGeometry

GEOMETRY_TYPES = (
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


class SensitiveCharField(models.CharField):
    """A CharField holding personal data (ID number, phone, address).

    ``mask`` names the masking rule (``id_number``, ``phone``, ``address``, ``name``).
    The security layer finds every sensitive field through ``is_sensitive`` and applies
    encryption at rest and masking on display in one place (R-10.3-rbac, R-10.3-crypto).
    """

    is_sensitive = True

    def __init__(self, *args, mask: str = "default", **kwargs):
        self.mask = mask
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["mask"] = self.mask
        return name, path, args, kwargs

    # -- encryption at rest (zhili.core.crypto): ``max_length`` limits the plaintext; the
    # column is text because the ciphertext is longer.
    def db_type(self, connection):
        return connection.data_types["TextField"] % {}

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def get_prep_value(self, value):
        from zhili.core import crypto

        value = super().get_prep_value(value)
        if value is None or value == "" or crypto.is_encrypted(value):
            return value
        return crypto.encrypt(str(value))

    def from_db_value(self, value, expression, connection):
        from zhili.core import crypto

        return crypto.decrypt(value)

    def bulk_column_preparer(self, connection):
        """Return what ``get_db_prep_save`` does to a list of values, encrypting the plain text
        among them in one batch (bulk inserts, ``zhili.core.bulk.column_preparers``)."""
        from zhili.core import crypto

        encryptor = crypto.bulk_encryptor()
        prefix = crypto.PREFIX

        def is_plain_text(value) -> bool:
            return type(value) is str and not value.startswith(prefix)

        def prepare(values: list) -> list:
            if all(map(is_plain_text, values)):
                return encryptor.many(values)
            tokens = iter(encryptor.many([value for value in values if is_plain_text(value)]))
            return [
                next(tokens) if is_plain_text(value) else self.get_db_prep_save(value, connection)
                for value in values
            ]

        return prepare


def drop_pattern_indexes(sender, using="default", **kwargs) -> None:
    """Drop PostgreSQL's ``…_like`` indexes on encrypted columns (connected to ``post_migrate``).

    For a unique or indexed text column Django adds a second index with ``text_pattern_ops`` to
    serve ``LIKE 'prefix%'``. An encrypted column is only ever compared whole (see
    ``_SensitiveLookupMixin``), so that index is never read; it only costs every insert (about
    2 µs a row in a resident import) and disk. Idempotent; other databases have no such index.
    """
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    indexed = [
        (model, field)
        for model in sender.get_models()
        for field in model._meta.local_concrete_fields
        if getattr(field, "is_sensitive", False) and (field.unique or field.db_index)
    ]
    if not indexed:
        return
    with connection.schema_editor() as editor:
        for model, field in indexed:
            name = editor._create_index_name(model._meta.db_table, [field.column], suffix="_like")
            editor.execute(editor._delete_index_sql(model, name))


class _SensitiveLookupMixin:
    """Equality on an encrypted column: compare with the stored forms under every key.

    ``exact``, ``iexact``, ``in`` and the text searches (``contains`` & co., which can only
    match a whole value here) all become ``IN (<stored forms>)``.
    """

    case_variants = False

    def _stored_forms(self, values):
        from zhili.core import crypto

        forms = []
        for value in values:
            if value is None:
                continue
            text = str(value).strip() if self.case_variants else str(value)
            variants = {text, text.upper(), text.lower()} if self.case_variants else {text}
            for variant in variants:
                for form in crypto.encrypt_all_keys(variant):
                    if form not in forms:
                        forms.append(form)
        return forms


class SensitiveIn(_SensitiveLookupMixin, models.lookups.In):
    lookup_name = "in"

    def process_lhs(self, compiler, connection, lhs=None):
        # The plain column: no UPPER()/LIKE casts of iexact/contains (PostgreSQL adds them).
        self.__dict__["lookup_name"] = "in"
        try:
            return super().process_lhs(compiler, connection, lhs)
        finally:
            del self.__dict__["lookup_name"]

    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression"):
            return super().get_prep_lookup()
        return self._stored_forms(self.rhs) or [None]


def _equality_lookup(name: str, case_variants: bool):
    class Lookup(SensitiveIn):
        lookup_name = name

        def get_prep_lookup(self):
            if hasattr(self.rhs, "resolve_expression"):
                return super(SensitiveIn, self).get_prep_lookup()
            self.case_variants = case_variants
            return self._stored_forms([self.rhs]) or [None]

    Lookup.__name__ = f"Sensitive{name.title().replace('_', '')}"
    return Lookup


for _name, _ci in (
    ("exact", False),
    ("iexact", True),
    ("contains", False),
    ("icontains", True),
    ("startswith", False),
    ("istartswith", True),
    ("endswith", False),
    ("iendswith", True),
):
    SensitiveCharField.register_lookup(_equality_lookup(_name, _ci))
SensitiveCharField.register_lookup(SensitiveIn)


def parse_geometry(value) -> BaseGeometry | None:
    """Return a Shapely geometry from GeoJSON text/dict, WKT or a geometry; None if empty.

    Raise ValidationError with a clear message when the value cannot be read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, BaseGeometry):
        return value
    try:
        if isinstance(value, dict):
            return shapely.geometry.shape(value)
        text = str(value).strip()
        if text.startswith("{"):
            data = json.loads(text)
            if data.get("type") == "Feature":
                data = data.get("geometry") or {}
            return shapely.geometry.shape(data)
        return shapely.from_wkt(text)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.ShapelyError) as exc:
        raise ValidationError(
            _("Not a readable geometry (GeoJSON or WKT expected): %(error)s"),
            params={"error": exc},
            code="invalid_geometry",
        ) from exc


def validate_geometry(geom: BaseGeometry, allowed_types: tuple[str, ...] | None) -> None:
    """Raise ValidationError unless ``geom`` is valid, of an allowed type and inside lon/lat range."""
    if allowed_types and geom.geom_type not in allowed_types:
        raise ValidationError(
            _("Geometry type %(got)s is not allowed here (expected %(expected)s)."),
            params={"got": geom.geom_type, "expected": ", ".join(allowed_types)},
            code="geometry_type",
        )
    if geom.is_empty:
        raise ValidationError(_("The geometry is empty."), code="geometry_empty")
    if not geom.is_valid:
        raise ValidationError(
            _("The geometry is invalid: %(reason)s"),
            params={"reason": shapely.is_valid_reason(geom)},
            code="geometry_invalid",
        )
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise ValidationError(
            _("Coordinates must be longitude/latitude in CGCS2000 (EPSG:4490)."), code="geometry_crs"
        )


class GeometryField(models.TextField):
    """Geometry stored as GeoJSON text; the Python value is a Shapely geometry.

    ``geom_types`` restricts the accepted types, e.g. ``("Polygon", "MultiPolygon")``.
    Pair it with ``bbox_fields()`` on the model (done by ``core.models.GeoModel``).
    """

    description = "Geometry (GeoJSON, EPSG:4490)"

    def __init__(self, *args, geom_types: tuple[str, ...] | None = None, **kwargs):
        self.geom_types = tuple(geom_types) if geom_types else None
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.geom_types:
            kwargs["geom_types"] = self.geom_types
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return None
        return shapely.from_geojson(value)

    def to_python(self, value):
        return parse_geometry(value)

    def get_prep_value(self, value):
        geom = parse_geometry(value)
        if geom is None:
            return None if self.null else ""
        return shapely.to_geojson(geom)

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if value is not None and value != "":
            validate_geometry(parse_geometry(value), self.geom_types)

    def value_to_string(self, obj):
        geom = self.value_from_object(obj)
        return shapely.to_geojson(geom) if geom is not None else ""

    def formfield(self, **kwargs):
        from zhili.core.forms import GeometryFormField

        return super().formfield(**{"form_class": GeometryFormField, "geom_types": self.geom_types, **kwargs})


class BBoxField(models.FloatField):
    """One bounding-box coordinate computed from the model's geometry field on every save.

    Computing in ``pre_save`` means ``bulk_create`` keeps the box in step too.
    """

    def __init__(self, *args, source: str = "geometry", index: int = 0, **kwargs):
        self.source = source
        self.index = index
        kwargs.setdefault("null", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, index=self.index)
        kwargs.pop("null", None)
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        geom = parse_geometry(getattr(model_instance, self.source))
        value = None if geom is None or geom.is_empty else float(geom.bounds[self.index])
        setattr(model_instance, self.attname, value)
        return value
