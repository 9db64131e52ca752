"""URL helpers: one call per model produces its pages with grep-able names."""

from django.urls import path

from zhili.core.registry import registry
from zhili.core.views import bulk, generic


def model_urls(model) -> list:
    """Return the URL patterns of a registered model's pages.

    Names are ``<model_name>_<view>`` inside the app's namespace, e.g. ``people:resident_list``.
    """
    entry = registry.get(model)
    name = entry.model_name
    base = name
    return [
        path(f"{base}/", generic.ObjectListView.as_view(entry=entry), name=f"{name}_list"),
        path(f"{base}/add/", generic.ObjectEditView.as_view(entry=entry), name=f"{name}_add"),
        path(f"{base}/import/", bulk.ImportView.as_view(entry=entry), name=f"{name}_import"),
        path(
            f"{base}/import/template/",
            bulk.ImportTemplateView.as_view(entry=entry),
            name=f"{name}_import_template",
        ),
        path(f"{base}/export/", bulk.ExportView.as_view(entry=entry), name=f"{name}_export"),
        path(f"{base}/<int:pk>/", generic.ObjectDetailView.as_view(entry=entry), name=f"{name}_detail"),
        path(f"{base}/<int:pk>/edit/", generic.ObjectEditView.as_view(entry=entry), name=f"{name}_edit"),
        path(
            f"{base}/<int:pk>/delete/", generic.ObjectDeleteView.as_view(entry=entry), name=f"{name}_delete"
        ),
        path(
            f"{base}/<int:pk>/history/",
            generic.ObjectHistoryView.as_view(entry=entry),
            name=f"{name}_history",
        ),
    ]
