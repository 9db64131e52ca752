"""Form helpers: Bootstrap styling, geometry input, and the default ModelForm of a registry entry."""

import shapely
from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import parse_geometry, validate_geometry


class BootstrapMixin:
    """Give every widget the Bootstrap 5 class it needs (no per-form template code)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.fields.values():
            widget = bound.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class GeometryWidget(forms.Textarea):
    """GeoJSON text input; the map picker script enhances it where a map is available."""

    template_name = "core/widgets/geometry.html"

    def __init__(self, attrs=None, geom_types=None):
        self.geom_types = geom_types
        super().__init__(attrs={"rows": 3, "data-geometry": ",".join(geom_types or ()), **(attrs or {})})

    def format_value(self, value):
        if value is None or value == "":
            return ""
        geom = value if hasattr(value, "geom_type") else parse_geometry(value)
        return shapely.to_geojson(geom) if geom is not None else ""


class GeometryFormField(forms.CharField):
    widget = GeometryWidget

    def __init__(self, *args, geom_types=None, max_length=None, **kwargs):
        self.geom_types = geom_types
        kwargs.setdefault("widget", GeometryWidget(geom_types=geom_types))
        kwargs.setdefault("help_text", _("GeoJSON or WKT in CGCS2000 longitude/latitude (EPSG:4490)."))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        geom = parse_geometry(value)
        if geom is not None:
            validate_geometry(geom, self.geom_types)
        return geom


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class ModelForm(BootstrapMixin, forms.ModelForm):
    """Base for app forms; the default form of every entry is built on it."""


def formfield_callback(field: models.Field, **kwargs):
    """Choose widgets for the default forms (HTML5 date inputs, geometry input)."""
    if isinstance(field, models.DateTimeField):
        kwargs.setdefault("widget", DateTimeInput)
    elif isinstance(field, models.DateField):
        kwargs.setdefault("widget", DateInput)
    return field.formfield(**kwargs)


def build_form(entry) -> type[forms.ModelForm]:
    """Return the entry's ModelForm class, building one from the model when none is declared."""
    if entry.form is not None:
        return entry.form
    return forms.modelform_factory(
        entry.model,
        form=ModelForm,
        fields=list(entry.get_form_fields()),
        formfield_callback=formfield_callback,
    )
