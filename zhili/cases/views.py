"""Case pages: resident report and follow pages (no account), hotline intake, the case page with
its timeline and workflow actions, work queues with bulk dispatch, map, statistics."""

import io
import json
from datetime import timedelta

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from zhili.cases import clock, services, stats
from zhili.cases.forms import ActionForm, HotlineForm, RatingForm, ReportForm
from zhili.cases.models import OPEN_STATES, PUBLIC_EVENTS, Case, CaseCategory, SlaState, Status
from zhili.cases.scopes import subtree_ids
from zhili.core import audit
from zhili.core.permissions import has_action, restrict
from zhili.core.registry import registry
from zhili.core.views.generic import ObjectDetailView


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [m for messages_ in exc.message_dict.values() for m in messages_]
    return list(exc.messages)


# -- residents -----------------------------------------------------------------------------------


def _report(request, form_class, channel, template, *, user=None, public=True):
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        description = data["description"].strip()
        try:
            case = services.open_case(
                category=data["category"].code,
                title=description.splitlines()[0][:60] if description else data["category"].name,
                description=description,
                channel=data.get("channel") or channel,
                location=form.location(),
                address=data.get("address", ""),
                urgent=data.get("urgent", False),
                reporter=request.user if request.user.is_authenticated and public else None,
                reporter_name=data.get("name", ""),
                reporter_phone=data.get("phone", ""),
                anonymous=data.get("anonymous", False),
                answers=form.answers(),
                user=user,
                attachments=data.get("photos") or (),
            )
        except ValidationError as exc:
            for message in _errors(exc):
                form.add_error(None, message)
        else:
            request.session["cases_new_token"] = case.follow_token
            if public:
                return redirect("cases:follow", token=case.follow_token)
            messages.success(
                request,
                _("Case %(number)s registered. Tell the caller the follow code: %(token)s")
                % {"number": case.number, "token": case.follow_token},
            )
            return redirect("cases:case_detail", pk=case.pk)
    status = 400 if request.method == "POST" else 200
    center = json.dumps(settings.ZHILI.get("MAP_CENTER", [119.96, 30.27]))
    return render(request, template, {"form": form, "map_center": center}, status=status)


@login_not_required
def report(request):
    """The phone page where a resident reports a problem (R-0-mobile, R-5.2.4)."""
    return _report(request, ReportForm, "resident", "cases/report.html")


def hotline(request):
    """The 12345 operator's form for a call (every category, also non-public ones)."""
    if not has_action(request.user, Case, "add"):
        raise PermissionDenied(_("You may not register cases."))
    return _report(request, HotlineForm, "hotline", "cases/hotline.html", user=request.user, public=False)


@login_not_required
def similar(request):
    """HTMX: open cases like the one being reported (same category, nearby, recent)."""
    try:
        lon = float(request.GET.get("longitude", ""))
        lat = float(request.GET.get("latitude", ""))
    except ValueError:
        return HttpResponse("")
    category = CaseCategory.objects.filter(code=request.GET.get("category", "")).first()
    if category is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return HttpResponse("")
    cases = services.similar_open_cases(category, lon, lat)
    return render(request, "cases/partials/similar.html", {"cases": cases})


def _public_case(token):
    case = services.case_for_token(token)
    if case is None:
        raise Http404(_("No case with this follow code."))
    return case


@login_not_required
def follow(request, token):
    """A reporter follows the case by its secret link: status, feedback, timeline, rating."""
    case = _public_case(token)
    shown = case.merged_into if case.status == Status.MERGED and case.merged_into_id else case
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.rate(
                shown,
                form.cleaned_data["rating"],
                form.cleaned_data["comment"],
                resolved=form.cleaned_data["resolved"],
            )
        except ValidationError as exc:
            for message in _errors(exc):
                form.add_error(None, message)
        else:
            messages.success(request, _("Thank you for your rating."))
            return redirect("cases:follow", token=token)
    events = case.events.filter(kind__in=PUBLIC_EVENTS).order_by("at", "pk")
    if shown is not case:
        events = shown.events.filter(kind__in=PUBLIC_EVENTS).order_by("at", "pk")
    new = request.session.pop("cases_new_token", None) == token
    return render(
        request,
        "cases/follow.html",
        {
            "case": case,
            "shown": shown,
            "events": events,
            "photos": case.attachments.exclude(file=""),
            "form": form,
            "token": token,
            "new": new,
            "can_rate": shown.status in (Status.FEEDBACK, Status.CLOSED) and shown.rating is None,
            "follow_url": request.build_absolute_uri(reverse("cases:follow", args=[token])),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_not_required
def follow_qr(request, token):
    """The follow link as an SVG QR code (to print on a receipt or show on screen)."""
    _public_case(token)
    url = request.build_absolute_uri(reverse("cases:follow", args=[token]))
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=True, svgns=True)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml; charset=utf-8")


# -- the case page -------------------------------------------------------------------------------


class CaseDetailView(ObjectDetailView):
    """The generic detail page plus the timeline, SLA clock and the workflow actions."""

    template_name = "cases/case_detail.html"

    def context(self, **extra):
        context = super().context(**extra)
        case = extra.get("object")
        if case is not None:
            user = self.request.user
            context["transitions"] = services.available_transitions(case, user)
            context["events"] = case.events.select_related("user").prefetch_related("attachments")
            context["attachments"] = case.attachments.filter(event__isnull=True)
            context["duplicates"] = case.duplicates.all()
            context["similar"] = (
                services.similar_open_cases(case.category, *case.point, exclude=case.pk)
                if case.point and case.is_open
                else []
            )
            context["action_form"] = ActionForm()
            context["now"] = clock.now()
            context["clock"] = clock_badge(case, context["now"])
            departments = _department_choices()
            context["departments"] = departments
            context["suggestion"] = (
                services.route(case.category, case.grid) if case.status == Status.ACCEPTED else None
            )
            context["handlers"] = _handler_choices(case)
        return context


def _department_choices():
    from zhili.orgs.models import Department

    return Department.objects.filter(is_active=True).order_by("path")


def _handler_choices(case):
    from django.contrib.auth import get_user_model

    qs = get_user_model().objects.filter(is_active=True)
    if case.department_id:
        qs = qs.filter(department=case.department)
    return qs.order_by("username")[:200]


@require_POST
def case_action(request, pk, name):
    """Perform one workflow step from the case page (form post)."""
    case = restrict(Case.objects.select_related("category"), request.user, "view").filter(pk=pk).first()
    if case is None:
        raise Http404(_("No such record, or it is outside your data scope."))
    form = ActionForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("cases:case_detail", pk=pk)
    try:
        services.transition(
            case,
            name,
            request.user,
            note=form.cleaned_data["note"],
            lon=form.cleaned_data.get("longitude"),
            lat=form.cleaned_data.get("latitude"),
            attachments=form.cleaned_data.get("photos") or (),
            **_action_params(request.POST),
        )
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Done: %(action)s") % {"action": services.TRANSITIONS[name].label})
    return redirect("cases:case_detail", pk=pk)


def _action_params(data) -> dict:
    """Turn posted ids into objects for the transition's own fields (invalid ids are ignored)."""
    from django.contrib.auth import get_user_model

    from zhili.orgs.models import Department

    params = {}
    if data.get("department", "").isdigit():
        params["department"] = Department.objects.filter(pk=data["department"]).first()
        if params["department"] is None:
            raise Http404(_("No such department."))
    if data.get("assignee", "").isdigit():
        params["assignee"] = get_user_model().objects.filter(pk=data["assignee"], is_active=True).first()
    for key in ("days", "approve", "target"):
        if key in data:
            params[key] = data[key]
    return params


def duration_text(delta) -> str:
    """Compact Chinese/English duration: 2天3小时, 5小时20分, 12分."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)dd %(h)dh") % {"d": days, "h": hours}
    if hours:
        return _("%(h)dh %(m)dm") % {"h": hours, "m": mins}
    return _("%(m)dm") % {"m": mins}


def clock_badge(case, now) -> dict | None:
    """What the SLA clock of a list row shows: css class, text, due time (None = no clock)."""
    if case.due_at is None or not case.sla_state:
        return None
    remaining = case.due_at - now
    if remaining.total_seconds() < 0 or case.sla_state == SlaState.OVERDUE:
        return {
            "state": "overdue",
            "css": "text-bg-danger",
            "text": _("overdue %(t)s") % {"t": duration_text(remaining)},
        }
    css = "text-bg-warning" if case.sla_state == SlaState.WARNING else "text-bg-success"
    return {"state": case.sla_state, "css": css, "text": _("%(t)s left") % {"t": duration_text(remaining)}}


# -- work queues ---------------------------------------------------------------------------------

#: Each queue's condition. Only open cases have a deadline (``due_at``), so "open" queues filter
#: on it too: with the (department, due_at) and (sla_state, due_at) indexes the first page is a
#: short index range already in deadline order, even among a million historic cases.
QUEUES = {
    "mine": (lambda user: Q(assignee=user, due_at__isnull=False, status__in=OPEN_STATES)),
    "department": (
        lambda user: (
            Q(department_id__in=subtree_ids(user.department), due_at__isnull=False, status__in=OPEN_STATES)
            if getattr(user, "department", None)
            else Q(due_at__isnull=False, status__in=OPEN_STATES)
        )
    ),
    "intake": (lambda user: Q(status__in=(Status.REGISTERED, Status.ACCEPTED))),
    "overdue": (lambda user: Q(sla_state=SlaState.OVERDUE, status__in=OPEN_STATES)),
    "review": (lambda user: Q(status__in=(Status.HANDLED, Status.FEEDBACK))),
    "closed": (
        lambda user: Q(
            status__in=(Status.CLOSED, Status.REJECTED, Status.MERGED),
            reported_at__gte=clock.now() - timedelta(days=90),
        )
    ),
}
QUEUE_LABELS = {
    "mine": gettext_lazy("Mine"),
    "department": gettext_lazy("My department"),
    "intake": gettext_lazy("To accept / dispatch"),
    "overdue": gettext_lazy("Overdue"),
    "review": gettext_lazy("To feed back / review"),
    "closed": gettext_lazy("Closed"),
}


def queue(request):
    """Work queues with the SLA clock on every row; bulk dispatch for the dispatch centre."""
    if not has_action(request.user, Case, "view"):
        raise PermissionDenied(_("You may not view cases."))
    name = request.GET.get("queue", "department")
    if name not in QUEUES:
        name = "department"
    qs = restrict(Case.objects.all(), request.user, "view").filter(QUEUES[name](request.user))
    category = request.GET.get("category", "")
    if category.isdigit():
        qs = qs.filter(category_id=category)
    qs = (
        qs.select_related("category", "department", "grid")
        .only(
            "number",
            "title",
            "status",
            "sla_state",
            "due_at",
            "urgent",
            "reported_at",
            "channel",
            "category__name",
            "department__name",
            "grid__name",
        )
        .order_by("due_at" if name != "closed" else "-reported_at", "pk")
    )
    page = Paginator(qs, 50, allow_empty_first_page=True).get_page(request.GET.get("page"))
    now = clock.now()
    rows = list(page)
    for case in rows:
        case.clock = clock_badge(case, now)
    return render(
        request,
        "cases/queue.html",
        {
            "page": page,
            "rows": rows,
            "queue": name,
            "queues": [(key, QUEUE_LABELS[key]) for key in QUEUES],
            "now": now,
            "can_dispatch": has_action(request.user, Case, "dispatch"),
            "departments": _department_choices() if name == "intake" else (),
            "entry": registry.get(Case),
        },
    )


@require_POST
def bulk_dispatch(request):
    """Dispatch the ticked cases (accepting registered ones first) to one department or by the rules."""
    from zhili.orgs.models import Department

    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    department = None
    if request.POST.get("department", "").isdigit():
        department = Department.objects.filter(pk=request.POST["department"]).first()
    cases = restrict(Case.objects.select_related("category", "grid"), request.user, "dispatch").filter(
        pk__in=ids, status__in=(Status.REGISTERED, Status.ACCEPTED)
    )
    done, failed = 0, []
    for case in cases:
        try:
            if case.status == Status.REGISTERED:
                case = services.transition(case, "accept", request.user)
            params = {"department": department} if department else {}
            services.transition(case, "dispatch", request.user, **params)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            failed.append(
                f"{case.number}: {' '.join(_errors(exc)) if isinstance(exc, ValidationError) else exc}"
            )
    if done:
        messages.success(request, _("%(n)d case(s) dispatched.") % {"n": done})
    for message in failed:
        messages.error(request, message)
    if not done and not failed:
        messages.warning(request, _("No case selected that can be dispatched."))
    return redirect(reverse("cases:queue") + "?queue=intake")


# -- map and statistics --------------------------------------------------------------------------


def case_map(request):
    if not has_action(request.user, Case, "view"):
        raise PermissionDenied(_("You may not view cases."))
    return render(
        request,
        "cases/map.html",
        {
            "hotspots": stats.hotspots(restrict(Case.objects.all(), request.user, "view"), clock.now()),
            "categories": CaseCategory.objects.filter(is_active=True).order_by("sort_order"),
            "statuses": Status.choices,
            "center": json.dumps(settings.ZHILI.get("MAP_CENTER", [119.96, 30.27])),
        },
    )


def _period(request):
    try:
        days = int(request.GET.get("days", "90"))
    except ValueError:
        days = 90
    return max(1, min(days, 3660))


def map_data(request):
    """GeoJSON of open cases (by status) and aggregated grid cells for the heat map."""
    if not has_action(request.user, Case, "view"):
        raise PermissionDenied(_("You may not view cases."))
    qs = restrict(Case.objects.all(), request.user, "view")
    category = request.GET.get("category", "")
    if category.isdigit():
        qs = qs.filter(category__path__contains=f"/{category}/")
    kind = request.GET.get("kind", "open")
    if kind == "hotspots":
        return JsonResponse(stats.hotspot_features(qs, clock.now()))
    if kind == "heat":
        cells = stats.heat_cells(qs, _period(request), clock.now())
        return JsonResponse(cells)
    rows = qs.filter(status__in=OPEN_STATES, bbox_minx__isnull=False).values_list(
        "pk", "number", "title", "status", "sla_state", "bbox_minx", "bbox_miny"
    )[:5000]
    labels = dict(Status.choices)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {
                "url": reverse("cases:case_detail", args=[pk]),
                "name": f"{number} {title}",
                "status": status,
                "status_label": str(labels.get(status, status)),
                "sla": sla,
            },
        }
        for pk, number, title, status, sla, x, y in rows
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


def statistics(request):
    if not has_action(request.user, Case, "view"):
        raise PermissionDenied(_("You may not view cases."))
    days = _period(request)
    qs = restrict(Case.objects.all(), request.user, "view")
    report = stats.report(qs, days, clock.now())
    if request.GET.get("format") == "xlsx":
        if not has_action(request.user, Case, "export"):
            raise PermissionDenied(_("You may not export cases."))
        audit.emit(
            "data.export",
            user=request.user,
            details={"model": "cases.case", "report": "statistics", "days": days},
        )
        response = HttpResponse(
            stats.report_xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="case-statistics-{days}d.xlsx"'
        return response
    if request.GET.get("format") not in (None, "", "html"):
        return HttpResponseBadRequest(_("Unknown format."))
    return render(
        request,
        "cases/stats.html",
        {"report": report, "days": days, "chart_data": stats.chart_data(report)},
    )


# -- attachments ---------------------------------------------------------------------------------

PHOTO_SALT = "zhili.cases.photo"


def photo_url(attachment) -> str:
    """An unguessable link to one attachment (signed id) for the reporter's page and Open311."""
    from django.core import signing

    return reverse("cases:photo", args=[signing.dumps(attachment.pk, salt=PHOTO_SALT)])


@login_not_required
def photo(request, signed):
    """Serve an attachment by its signed link (media files are not served as static files)."""
    from django.core import signing
    from django.http import FileResponse

    from zhili.cases.models import CaseAttachment

    try:
        pk = signing.loads(signed, salt=PHOTO_SALT)
    except signing.BadSignature:
        raise Http404(_("No such file.")) from None
    attachment = CaseAttachment.objects.filter(pk=pk).exclude(file="").first()
    if attachment is None:
        raise Http404(_("No such file."))
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise Http404(_("No such file.")) from None
    response = FileResponse(handle, content_type=attachment.content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response
