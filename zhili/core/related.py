"""Related records shown on a detail page (residents of a household, buildings of a grid…)."""

from urllib.parse import urlencode

from django.urls import reverse

from zhili.core.permissions import restrict
from zhili.core.tables import Table

PANEL_ROWS = 5


def related_panels(obj, user) -> list[dict]:
    """Return one panel per registered model that points at ``obj`` and that ``user`` may view."""
    from zhili.core.registry import registry

    panels = []
    for rel in obj._meta.related_objects:
        model = rel.related_model
        if model not in registry or rel.field.name not in registry.get(model).get_filter_fields():
            continue
        entry = registry.get(model)
        queryset = restrict(model._default_manager.filter(**{rel.field.name: obj.pk}), user, "view")
        if not queryset.query.is_empty() and user.is_authenticated:
            total = queryset.count()
            if total == 0:
                continue
            rows = queryset.order_by(*entry.ordering)[:PANEL_ROWS]
            panels.append(
                {
                    "entry": entry,
                    "title": entry.verbose_name_plural,
                    "count": total,
                    "table": Table(entry, rows, user, fields=entry.get_list_fields()[:4]),
                    "list_url": reverse(entry.url_name("list")) + "?" + urlencode({rel.field.name: obj.pk}),
                }
            )
    return panels
