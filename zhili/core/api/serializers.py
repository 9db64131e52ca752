"""Default serializers: ModelSerializer per entry, GeoJSON geometry, masking of sensitive fields."""

import copy
import functools
import json

import shapely
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.settings import api_settings
from shapely.geometry.base import BaseGeometry

from zhili.core import audit
from zhili.core.fields import GeometryField, parse_geometry, validate_geometry
from zhili.core.masking import is_sensitive, mask_value
from zhili.core.models import BaseModel
from zhili.core.permissions import can_unmask

#: Instance attribute holding ``{m2m field name: [target pk, …]}`` read by ``attach_m2m_pks``.
M2M_PKS = "_zhili_m2m_pks"


def pk_only_m2m(serializer_class, context=None) -> frozenset:
    """Names of the many-to-many fields that ``serializer_class`` shows as lists of keys.

    ``context`` is the view's serializer context, for serializers that read it to build fields.
    """
    if not issubclass(serializer_class, ModelSerializer):
        return frozenset()
    if serializer_class not in _pk_only_m2m:
        plan = serializer_class(context=context or {})._representation_plan()
        _pk_only_m2m[serializer_class] = frozenset(arg for _name, how, arg in plan if how == "pks")
    return _pk_only_m2m[serializer_class]


_pk_only_m2m: dict = {}


def attach_m2m_pks(instances: list, names) -> None:
    """Read the keys of many-to-many fields ``names`` for a page of rows, one query per field.

    Cheaper than ``prefetch_related`` (no target instances, no query compiled) for a serializer
    that shows only keys; ``ModelSerializer`` reads them back.
    """
    from zhili.core.fetch import m2m_pks

    if not instances or not names:
        return
    model = type(instances[0])
    using = instances[0]._state.db or "default"
    for name in names:
        by_pk = m2m_pks(model, name, [obj.pk for obj in instances], using=using)
        for obj in instances:
            obj.__dict__.setdefault(M2M_PKS, {})[name] = by_pk[obj.pk]


@functools.cache
def sensitive_fields_of(model) -> tuple:
    return tuple(f for f in model._meta.concrete_fields if is_sensitive(f))


@extend_schema_field(OpenApiTypes.OBJECT)
class GeoJSONField(serializers.Field):
    """A geometry as a GeoJSON object (CGCS2000 lon/lat, EPSG:4490)."""

    def __init__(self, *args, geom_types=None, **kwargs):
        self.geom_types = geom_types
        kwargs.pop("max_length", None)
        kwargs.pop("allow_blank", None)
        super().__init__(*args, **kwargs)

    def to_representation(self, value):
        if value is None or value == "":
            return None
        if not isinstance(value, BaseGeometry):
            value = parse_geometry(value)  # e.g. GeoJSON text assigned but not yet read back
        return json.loads(shapely.to_geojson(value))

    def to_internal_value(self, data):
        try:
            geom = parse_geometry(data)
            if geom is not None:
                validate_geometry(geom, self.geom_types)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return geom


class BoundedDateTimeField(serializers.DateTimeField):
    """A date and time between 1900 and 2199 (the years a governance record can have).

    Earlier years are typing errors, and in Asia/Shanghai they would come back with the
    local mean time offset (+08:05:43), which is not an RFC 3339 time.
    """

    default_error_messages = {"year": _("The year must be between 1900 and 2199.")}

    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        if not 1900 <= result.year <= 2199:
            self.fail("year")
        return result


class ModelSerializer(serializers.ModelSerializer):
    """Base for app serializers: runs the model's ``clean()`` and masks sensitive fields."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: BoundedDateTimeField,
    }

    display = serializers.SerializerMethodField()

    def get_display(self, obj) -> str:
        return str(obj)

    def build_standard_field(self, field_name, model_field):
        if isinstance(model_field, GeometryField):
            return GeoJSONField, {
                "geom_types": model_field.geom_types,
                # A geometry the model requires is required on create (PATCH stays partial).
                "required": not (model_field.null or model_field.blank or model_field.has_default()),
                "allow_null": model_field.null,
            }
        return super().build_standard_field(field_name, model_field)

    def validate(self, attrs):
        """Run the model's ``clean()`` so the API applies the same rules as forms and imports.

        Values that ``clean()`` derives (e.g. birth date from the ID number) are kept.
        """
        attrs = super().validate(attrs)
        model = self.Meta.model
        m2m = {f.name for f in model._meta.many_to_many}
        instance = copy.copy(self.instance) if self.instance is not None else model()
        for key, value in attrs.items():
            if key not in m2m:
                setattr(instance, key, value)
        writable = [
            f
            for f in model._meta.concrete_fields
            if f.name in self.fields and not self.fields[f.name].read_only
        ]
        before = {f.name: getattr(instance, f.attname) for f in writable}
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            ) from None
        for f in writable:
            if getattr(instance, f.attname) != before[f.name]:
                attrs[f.name] = getattr(instance, f.name)
        return attrs

    def _representation_plan(self):
        """Return, once per serializer instance, a fast getter per readable field.

        DRF's generic per-field path costs most of a list request; for the field types the
        default serializers use, a direct getter gives the same output (checked by
        ``test_fast_representation_matches_drf``). Other fields keep DRF's path.
        """
        plan = getattr(self, "_plan", None) or type(self).__dict__.get("_class_plan")
        if plan is not None:
            return plan
        plan = []
        for field in self._readable_fields:
            name = field.field_name
            single = len(field.source_attrs) == 1 and field.source != "*"
            attr = field.source_attrs[0] if single else None
            kind = type(field)
            if isinstance(field, serializers.SerializerMethodField):
                plan.append((name, "method", field.method_name))
            elif single and isinstance(field, serializers.PrimaryKeyRelatedField):
                model_field = self.Meta.model._meta.get_field(attr)
                plan.append((name, "attr", model_field.attname))
            elif (
                single
                and isinstance(field, serializers.ManyRelatedField)
                and isinstance(field.child_relation, serializers.PrimaryKeyRelatedField)
            ):
                plan.append((name, "pks", attr))
            elif (
                single
                and kind
                in (
                    serializers.CharField,
                    serializers.ChoiceField,
                    serializers.BooleanField,
                    serializers.IntegerField,
                    serializers.FloatField,
                    serializers.ReadOnlyField,
                )
                or (
                    single
                    and kind is serializers.BigIntegerField
                    and not getattr(field, "coerce_to_string", False)
                )
            ):
                plan.append((name, "attr", attr))
            elif single and kind is serializers.DateField:
                plan.append((name, "date", attr))
            elif (
                single
                and kind in (serializers.DateTimeField, BoundedDateTimeField)  # same output
                and getattr(field, "format", None) is None
                and api_settings.DATETIME_FORMAT.lower() == ISO_8601
                and not hasattr(field, "timezone")
            ):
                plan.append((name, "datetime", attr))
            elif single and kind is GeoJSONField:
                plan.append((name, "geojson", (attr, field)))
            else:
                plan.append((name, "drf", field))
        self._plan = plan
        if all(how != "drf" for _name, how, _arg in plan):
            # Nothing in the plan depends on this instance: later serializers of the class reuse it
            # and never build their fields for reading (DRF rebuilds them on every request).
            type(self)._class_plan = plan
        return plan

    def fast_representation(self, instance) -> dict:
        data = {}
        for name, how, arg in self._representation_plan():
            if how == "attr":
                data[name] = getattr(instance, arg)
            elif how == "method":
                data[name] = getattr(self, arg)(instance)
            elif how == "pks":
                attached = instance.__dict__.get(M2M_PKS)
                if attached is not None and arg in attached:
                    data[name] = attached[arg]
                    continue
                cache = getattr(instance, "_prefetched_objects_cache", {})
                rows = cache[arg] if arg in cache else getattr(instance, arg).all()
                data[name] = [obj.pk for obj in rows]
            elif how == "date":
                value = getattr(instance, arg)
                data[name] = value.isoformat() if value is not None else None
            elif how == "datetime":
                value = getattr(instance, arg)
                if value:
                    text = value.astimezone(timezone.get_current_timezone()).isoformat()
                    data[name] = text[:-6] + "Z" if text.endswith("+00:00") else text
                else:
                    data[name] = None
            elif how == "geojson":
                value = getattr(instance, arg[0])
                data[name] = arg[1].to_representation(value) if value is not None else None
            else:
                try:
                    attribute = arg.get_attribute(instance)
                except SkipField:
                    continue
                data[name] = None if attribute is None else arg.to_representation(attribute)
        return data

    def to_representation(self, instance):
        data = self.fast_representation(instance)
        request = self.context.get("request")
        model = self.Meta.model
        if request is not None and not self.context.get("_unmask_checked"):
            # Clear values only on request (``?unmask=true``), like the "show" button of a page:
            # least disclosure by default, and no audit write for every plain list request.
            asked = str(request.query_params.get("unmask", "") if hasattr(request, "query_params") else "")
            self.context["_unmask"] = asked.lower() in ("1", "true", "yes") and can_unmask(
                request.user, model
            )
            self.context["_unmask_checked"] = True
            if self.context["_unmask"] and sensitive_fields_of(model):
                # Reading personal data in clear is audited, once per response (R-10.3-audit).
                audit.emit(
                    "data.unmask",
                    user=request.user,
                    details={"model": model._meta.label_lower, "via": "api", "path": request.path},
                )
        if not self.context.get("_unmask"):
            for f in sensitive_fields_of(model):
                if f.name in data:
                    data[f.name] = mask_value(f, data[f.name])
        return data


_serializers: dict = {}


def build_serializer(entry) -> type[serializers.ModelSerializer]:
    """Return the entry's serializer class (declared, or built once from the model)."""
    if entry.serializer is not None:
        return entry.serializer
    if entry.model not in _serializers:
        _serializers[entry.model] = _build_serializer(entry)
    return _serializers[entry.model]


def _build_serializer(entry) -> type[serializers.ModelSerializer]:
    """Return the entry's serializer class, building one from the model when none is declared."""
    if entry.serializer is not None:
        return entry.serializer
    base = list(BaseModel.BASE_FIELDS) if issubclass(entry.model, BaseModel) else []
    fields = ["id", "display", *entry.get_form_fields(), *base]
    readonly = [f for f in base if f != "owner_unit"]
    meta = type("Meta", (), {"model": entry.model, "fields": fields, "read_only_fields": readonly})
    return type(f"{entry.model.__name__}Serializer", (ModelSerializer,), {"Meta": meta})
