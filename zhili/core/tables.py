"""Tables for list pages and related-record panels, built from the registry entry."""

from dataclasses import dataclass

from django.db import models
from django.urls import NoReverseMatch
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from zhili.core.fields import GeometryField
from zhili.core.masking import is_sensitive, mask_value


@dataclass
class Column:
    name: str
    header: str
    field: models.Field | None
    sortable: bool


def display_value(obj, field: models.Field, *, unmask: bool = False):
    """Return ``(text, url)`` for one field of ``obj`` as a person should read it."""
    if field.many_to_many:
        if obj.pk is None:
            return "", None
        return "、".join(str(o) for o in getattr(obj, field.name).all()), None
    value = getattr(obj, field.name, None)
    if value is None or value == "":
        return "", None
    if field.is_relation:
        try:
            return str(value), value.get_absolute_url()
        except (AttributeError, NoReverseMatch):
            return str(value), None
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")(), None
    if isinstance(field, models.BooleanField):
        return (_("Yes") if value else _("No")), None
    if isinstance(field, models.DateTimeField):
        return formats.date_format(timezone.localtime(value), "Y-m-d H:i"), None
    if isinstance(field, models.DateField):
        return value.isoformat(), None
    if isinstance(field, GeometryField):
        return value.geom_type, None
    if is_sensitive(field) and not unmask:
        return mask_value(field, value), None
    return str(value), None


class Table:
    """Columns and rendered rows of a list of objects for one user (masking applied)."""

    def __init__(self, entry, objects, user, fields=None, sort: str = ""):
        self.entry = entry
        # Lists and search results always show masked values: clear values are read one record
        # at a time on the detail page ("show", audited as data.unmask).
        self.unmask = False
        self.sort = sort
        self.columns = []
        for name in fields or entry.get_list_fields():
            field = entry.meta.get_field(name)
            self.columns.append(
                Column(
                    name=name,
                    header=str(field.verbose_name),
                    field=field,
                    sortable=field.concrete
                    and not field.many_to_many
                    and not isinstance(field, GeometryField),
                )
            )
        self.objects = list(objects)

    @property
    def rows(self):
        for obj in self.objects:
            cells = [display_value(obj, col.field, unmask=self.unmask) for col in self.columns]
            yield obj, cells
