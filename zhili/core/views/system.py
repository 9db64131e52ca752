"""Platform-wide pages: global search, change log, conformance report, language switch."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from zhili.core.conformance.report import load_report, report_path
from zhili.core.models import ChangeRecord
from zhili.core.permissions import restrict
from zhili.core.registry import registry
from zhili.core.tables import Table

SEARCH_LIMIT = 8


def search_models(user, text: str) -> list[dict]:
    """Search every registered model the user may view; sensitive fields match exactly only."""
    groups = []
    if len(text) < 1:
        return groups
    for entry in registry:
        if not entry.search_fields:
            continue
        queryset = restrict(entry.model._default_manager.all(), user, "view")
        if queryset.query.is_empty():
            continue
        condition = Q()
        for name in entry.search_fields:
            field = entry.meta.get_field(name.split("__")[0])
            lookup = "exact" if getattr(field, "is_sensitive", False) else "icontains"
            condition |= Q(**{f"{name}__{lookup}": text})
        rows = list(queryset.filter(condition).order_by(*entry.ordering)[: SEARCH_LIMIT + 1])
        if rows:
            groups.append(
                {
                    "entry": entry,
                    "table": Table(entry, rows[:SEARCH_LIMIT], user, fields=entry.get_list_fields()[:4]),
                    "more": len(rows) > SEARCH_LIMIT,
                }
            )
    return groups


def search(request):
    text = request.GET.get("q", "").strip()[:100]
    return render(request, "core/search.html", {"q": text, "groups": search_models(request.user, text)})


def change_log(request):
    if not request.user.has_perm("core.view_changerecord"):
        raise PermissionDenied
    records = ChangeRecord.objects.select_related("content_type")
    user_filter = request.GET.get("user", "").strip()
    if user_filter:
        records = records.filter(user_name=user_filter)
    request_filter = request.GET.get("request_id", "").strip()
    if request_filter:
        try:
            import uuid

            records = records.filter(request_id=uuid.UUID(request_filter))
        except ValueError:
            records = records.none()
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/change_log.html",
        {"page": page, "user_filter": user_filter, "request_filter": request_filter},
    )


def conformance(request):
    if not request.user.is_staff:
        raise PermissionDenied
    return render(request, "core/conformance.html", {"report": load_report(), "path": report_path()})


def data_dictionary(request):
    """The data dictionary generated from the registered models (R-11.1)."""
    from zhili.core.masking import is_sensitive
    from zhili.core.permissions import has_action

    models = []
    for entry in registry:
        if not has_action(request.user, entry.model, "view"):
            continue
        fields = []
        for field in entry.meta.get_fields():
            if field.auto_created and not field.concrete:
                continue
            fields.append(
                {
                    "name": field.name,
                    "column": getattr(field, "column", "") or "",
                    "label": getattr(field, "verbose_name", field.name),
                    "type": field.get_internal_type(),
                    "related": field.related_model._meta.verbose_name
                    if field.is_relation and field.related_model
                    else "",
                    "required": not getattr(field, "blank", True),
                    "unique": getattr(field, "unique", False) and not field.primary_key,
                    "sensitive": is_sensitive(field),
                    "choices": "、".join(str(label) for _value, label in field.flatchoices)
                    if field.choices
                    else "",
                    "help": getattr(field, "help_text", ""),
                }
            )
        models.append({"entry": entry, "table": entry.meta.db_table, "fields": fields})
    return render(request, "core/data_dictionary.html", {"models": models})
