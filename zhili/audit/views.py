"""The audit browser: for the audit administrator only (三员分立); read-only by construction."""

import csv
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from zhili.audit import store
from zhili.audit.models import AuditEvent
from zhili.core import audit

VIEWS = {
    "all": (_("Audit log"), None),
    "login": (_("Login log"), "auth."),
    "operation": (_("Operation log"), "data."),
}


def can_read_audit(user) -> bool:
    """Only holders of the audit administrator duty read the audit stream (R-10.3-audit)."""
    from zhili.system.backends import duties

    return user.is_authenticated and user.has_perm("audit.view_auditevent") and "audit_admin" in duties(user)


def _require(request, perm="audit.view_auditevent"):
    if not can_read_audit(request.user) or not request.user.has_perm(perm):
        audit.emit("access.denied", user=request.user, success=False, details={"path": request.path})
        raise PermissionDenied


def _parse_date(text):
    try:
        return timezone.make_aware(datetime.fromisoformat(text)) if text else None
    except ValueError:
        return None


def filtered(request, prefix=None):
    events = AuditEvent.objects.all()
    if prefix:
        events = events.filter(event_type__startswith=prefix)
    params = request.GET
    filters = {}
    for name in ("type", "user", "ip", "object_type", "object_id", "request_id", "success", "since", "until"):
        filters[name] = params.get(name, "").strip()[:100]
    if filters["type"]:
        events = events.filter(event_type__startswith=filters["type"])
    if filters["user"]:
        events = events.filter(username=filters["user"])
    if filters["ip"]:
        events = events.filter(ip=filters["ip"])
    if filters["object_type"]:
        events = events.filter(object_type=filters["object_type"])
    if filters["object_id"]:
        events = events.filter(object_id=filters["object_id"])
    if filters["request_id"]:
        events = events.filter(request_id=filters["request_id"])
    if filters["success"] in ("1", "0"):
        events = events.filter(success=filters["success"] == "1")
    since, until = _parse_date(filters["since"]), _parse_date(filters["until"])
    if since:
        events = events.filter(time__gte=since)
    if until:
        events = events.filter(time__lte=until)
    return events.order_by("-id"), filters


@require_safe
def event_list(request, kind="all"):
    _require(request)
    title, prefix = VIEWS.get(kind, VIEWS["all"])
    events, filters = filtered(request, prefix)
    if kind == "operation":
        events = events | AuditEvent.objects.filter(event_type__regex=r"^(rbac|bulk)\.")
        events, filters = _refilter(request, events)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {"page": page, "filters": filters, "title": title, "kind": kind, "query": query.urlencode()},
    )


def _refilter(request, events):
    request_filtered, filters = filtered(request)
    return events.filter(pk__in=request_filtered.values("pk")).order_by("-id"), filters


@require_safe
def export(request, kind="all"):
    _require(request, "audit.export_auditevent")
    _title, prefix = VIEWS.get(kind, VIEWS["all"])
    events, filters = filtered(request, prefix)
    audit.emit("audit.export", user=request.user, details={"kind": kind, "filters": filters})

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def rows():
        yield "\ufeff"
        yield writer.writerow(store.EXPORT_COLUMNS)
        for row in store.export_rows(events):
            yield writer.writerow(row)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{kind}.csv"'
    return response


@require_safe
def verify_view(request):
    _require(request)
    result = store.verify()
    audit.emit("audit.verify", user=request.user, success=result.ok, details=result.as_dict())
    return render(
        request, "audit/verify.html", {"result": result, "checkpoints": store.read_checkpoints()[-10:]}
    )
