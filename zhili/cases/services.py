"""The case loop as a state machine: intake (``open_case``) and typed transitions (``transition``).

Every transition checks the acting user's permission on the case (``has_action``, so the data
scope applies), moves the status, restarts the SLA clock of the new step, writes one
``CaseEvent`` (who, when, where, notes, attachments) and emits ``cases.<event>`` to the audit
stream, all in one transaction: a refused or failing step changes nothing.
"""

import hashlib
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhili.cases import clock
from zhili.cases.models import (
    OPEN_STATES,
    Case,
    CaseAttachment,
    CaseCategory,
    CaseEvent,
    Channel,
    EventKind,
    FollowUpVisit,
    SlaState,
    Status,
)
from zhili.cases.routing import grid_for_point, route
from zhili.core import audit, workdays
from zhili.core.fields import parse_geometry, validate_geometry
from zhili.core.notices import notify
from zhili.core.permissions import has_action

DEFAULTS = {
    # Office hours per step for normal cases; urgent cases get URGENT_MINUTES of wall-clock time.
    "ACCEPT_HOURS": 2,
    "DISPATCH_HOURS": 2,
    "FEEDBACK_DAYS": 1,
    "REVIEW_DAYS": 2,
    "URGENT_MINUTES": 15,
    # Warn when this share of a step's time is left.
    "WARN_SHARE": 0.25,
    # A closed case may be reopened within this many days.
    "REOPEN_DAYS": 15,
    # Ratings at or below this create a follow-up visit (回访).
    "POOR_RATING": 2,
    # Channels whose cases are trusted: accepted and dispatched at once when a rule matches.
    "AUTO_DISPATCH_CHANNELS": ("alarm", "inspection", "patrol"),
    # Duplicate suggestion: same category within this radius (m) and time window (days).
    "DUPLICATE_RADIUS_M": 150,
    "DUPLICATE_DAYS": 7,
}


def config() -> dict:
    return {**DEFAULTS, **getattr(settings, "ZHILI", {}).get("CASES", {})}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def case_for_token(token: str):
    """Return the case a follow token belongs to (following merges), or None."""
    if not token or len(token) > 100:
        return None
    case = Case.objects.filter(follow_digest=token_digest(token)).select_related("category").first()
    return case


# -- SLA -----------------------------------------------------------------------------------------


def step_deadline(case: Case, status: str, start):
    """Return ``(due, warn)`` for the step ``status`` starting at ``start`` (None when no clock)."""
    cfg = config()
    if status not in OPEN_STATES:
        return None, None
    if case.urgent:
        from datetime import timedelta

        minutes = cfg["URGENT_MINUTES"]
        if status in (Status.DISPATCHED, Status.HANDLING):
            minutes = case.category.urgent_handle_hours * 60
        due = start + timedelta(minutes=minutes)
    elif status == Status.REGISTERED:
        due = workdays.add_working_hours(start, cfg["ACCEPT_HOURS"])
    elif status == Status.ACCEPTED:
        due = workdays.add_working_hours(start, cfg["DISPATCH_HOURS"])
    elif status in (Status.DISPATCHED, Status.HANDLING):
        due = workdays.add_working_days(start, case.category.handle_days)
    elif status == Status.HANDLED:
        due = workdays.add_working_days(start, cfg["FEEDBACK_DAYS"])
    else:
        due = workdays.add_working_days(start, cfg["REVIEW_DAYS"])
    warn = due - (due - start) * cfg["WARN_SHARE"]
    return due, warn


def start_step(case: Case, status: str, now, *, keep_clock: bool = False) -> None:
    """Set the case's status and restart the SLA clock of the new step (fields only, not saved)."""
    case.status = status
    if keep_clock:
        return
    case.step_started_at = now
    case.due_at, case.warn_at = step_deadline(case, status, now)
    case.sla_state = SlaState.OK if case.due_at else SlaState.NONE
    case.escalation_level = 0


# -- intake --------------------------------------------------------------------------------------


def _point(location):
    if location in (None, "", {}):
        return None
    geom = parse_geometry(location)
    validate_geometry(geom, ("Point",))
    return geom


def _record(case, kind, user, now, *, from_status="", note="", lon=None, lat=None, data=None, attachments=()):
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        from_status=from_status,
        to_status=case.status,
        at=now,
        user=user if user is not None and user.is_authenticated else None,
        longitude=lon,
        latitude=lat,
        note=note,
        data=data or {},
    )
    for item in attachments:
        save_attachment(case, item, event)
    audit.emit(
        f"cases.{kind}",
        user=user,
        obj=case,
        details={"number": case.number, "from": from_status, "to": case.status, **(data or {})},
    )
    return event


def save_attachment(case, item, event=None):
    """Store an uploaded file or a ``{"url": …}`` link as an attachment of ``case``."""
    if isinstance(item, dict):
        return CaseAttachment.objects.create(case=case, event=event, url=item.get("url", "")[:500])
    if isinstance(item, str):
        return CaseAttachment.objects.create(case=case, event=event, url=item[:500])
    name = getattr(item, "name", "photo") or "photo"
    attachment = CaseAttachment(case=case, event=event, content_type=getattr(item, "content_type", "") or "")
    attachment.file.save(name.rsplit("/", 1)[-1][-80:], item, save=False)
    attachment.save()
    return attachment


def open_case(
    *,
    category: str,
    title: str,
    description: str = "",
    channel: str = "staff",
    location: dict | str | None = None,
    address: str = "",
    grid=None,
    urgent: bool = False,
    reporter=None,
    reporter_name: str = "",
    reporter_phone: str = "",
    source=None,
    user=None,
    attachments=(),
    anonymous: bool = False,
    answers: dict | None = None,
) -> "Case":
    """Open (register) a case. category = CaseCategory.code; channel in resident/hotline/staff/
    open311/alarm/inspection/patrol; location = GeoJSON Point (dict or text); source = the model
    instance that caused it (stored as label + pk, e.g. an iot Alarm); user = acting user (None =
    system). Routes it by the routing rules; returns the saved case.

    The follow token (shown once to the reporter) is left on ``case.follow_token``. Trusted
    channels (``AUTO_DISPATCH_CHANNELS``) are accepted and dispatched at once when routing finds
    a department; the others wait in the dispatch centre's queue with the suggestion.
    Raises ``ValidationError`` for an unknown category or channel, or an unreadable location.
    """
    cat = CaseCategory.objects.filter(code=category, is_active=True).first()
    if cat is None:
        raise ValidationError({"category": _("Unknown case category: %(code)s") % {"code": category}})
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel: %(channel)s") % {"channel": channel}})
    if not str(title).strip():
        raise ValidationError({"title": _("A case needs a title.")})
    point = _point(location)
    if anonymous and not cat.allow_anonymous:
        raise ValidationError({"anonymous": _("This category does not accept anonymous reports.")})
    now = clock.now()
    if grid is None and point is not None:
        grid = grid_for_point(point.x, point.y)
    token = secrets.token_urlsafe(18)
    with transaction.atomic():
        case = Case(
            category=cat,
            title=str(title).strip()[:200],
            description=description or "",
            channel=channel,
            urgent=bool(urgent),
            geometry=point,
            address=(address or "")[:200],
            grid=grid,
            reporter=reporter
            if reporter is not None and getattr(reporter, "is_authenticated", False)
            else None,
            reporter_name="" if anonymous else (reporter_name or "")[:50],
            reporter_phone="" if anonymous else (reporter_phone or "")[:20],
            anonymous=bool(anonymous),
            answers=answers or {},
            reported_at=now,
            follow_digest=token_digest(token),
            source_label=source._meta.label_lower if source is not None and hasattr(source, "_meta") else "",
            source_id=str(source.pk)
            if source is not None and getattr(source, "pk", None) is not None
            else "",
            created_by=user if user is not None and user.is_authenticated else None,
            updated_by=user if user is not None and user.is_authenticated else None,
            data_source="device"
            if channel == Channel.ALARM
            else ("api" if channel == Channel.OPEN311 else "manual"),
        )
        start_step(case, Status.REGISTERED, now)
        suggestion = route(cat, grid)
        case.owner_unit = suggestion.department
        case.save()
        lon, lat = (point.x, point.y) if point is not None else (None, None)
        _record(
            case,
            EventKind.REGISTER,
            user,
            now,
            note=description[:500] if description else "",
            lon=lon,
            lat=lat,
            data={
                "channel": channel,
                "suggested_department": suggestion.department.pk if suggestion.department else None,
                "source": case.source_label,
            },
            attachments=attachments,
        )
        if channel in config()["AUTO_DISPATCH_CHANNELS"] and suggestion.department is not None:
            _apply(case, "accept", None, now, note=_("Accepted automatically (trusted channel)."))
            _apply(
                case,
                "dispatch",
                None,
                now,
                note=_("Dispatched automatically by routing rule."),
                department=suggestion.department,
                assignee=suggestion.assignee,
            )
    case.follow_token = token
    case.suggestion = suggestion
    return case


# -- transitions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One typed step of the loop: from which states, to which state, who may do it."""

    name: str
    label: object
    sources: tuple
    target: str | None  # None = status unchanged (notes, extension request)
    permission: str  # Case permission action (accept/dispatch/handle/review/merge/change)
    kind: str
    needs_note: bool = False
    fields: tuple = field(default_factory=tuple)


_HANDLING = (Status.DISPATCHED, Status.HANDLING)

TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "accept",
            gettext_lazy("Accept (立案)"),
            (Status.REGISTERED,),
            Status.ACCEPTED,
            "accept",
            EventKind.ACCEPT,
        ),
        Transition(
            "reject",
            gettext_lazy("Reject"),
            (Status.REGISTERED,),
            Status.REJECTED,
            "accept",
            EventKind.REJECT,
            needs_note=True,
        ),
        Transition(
            "dispatch",
            gettext_lazy("Dispatch (派遣)"),
            (Status.ACCEPTED,),
            Status.DISPATCHED,
            "dispatch",
            EventKind.DISPATCH,
            fields=("department", "assignee"),
        ),
        Transition(
            "start",
            gettext_lazy("Start handling"),
            (Status.DISPATCHED,),
            Status.HANDLING,
            "handle",
            EventKind.START,
        ),
        Transition(
            "progress",
            gettext_lazy("Add progress note"),
            _HANDLING,
            None,
            "handle",
            EventKind.PROGRESS,
            needs_note=True,
        ),
        Transition(
            "return",
            gettext_lazy("Return as wrongly dispatched"),
            _HANDLING,
            Status.ACCEPTED,
            "handle",
            EventKind.RETURN,
            needs_note=True,
        ),
        Transition(
            "request_extension",
            gettext_lazy("Request extension"),
            _HANDLING,
            None,
            "handle",
            EventKind.EXTENSION_REQUEST,
            needs_note=True,
            fields=("days",),
        ),
        Transition(
            "decide_extension",
            gettext_lazy("Decide extension"),
            _HANDLING,
            None,
            "dispatch",
            EventKind.EXTENSION_DECISION,
            fields=("approve",),
        ),
        Transition(
            "complete",
            gettext_lazy("Complete handling"),
            _HANDLING,
            Status.HANDLED,
            "handle",
            EventKind.COMPLETE,
            needs_note=True,
        ),
        Transition(
            "feedback",
            gettext_lazy("Feed back to the reporter (反馈)"),
            (Status.HANDLED,),
            Status.FEEDBACK,
            "dispatch",
            EventKind.FEEDBACK,
            needs_note=True,
        ),
        Transition(
            "review_pass",
            gettext_lazy("Review passed, close (结案)"),
            (Status.FEEDBACK,),
            Status.CLOSED,
            "review",
            EventKind.REVIEW_PASS,
        ),
        Transition(
            "review_fail",
            gettext_lazy("Review failed, send back"),
            (Status.FEEDBACK,),
            Status.HANDLING,
            "review",
            EventKind.REVIEW_FAIL,
            needs_note=True,
        ),
        Transition(
            "reopen",
            gettext_lazy("Reopen"),
            (Status.CLOSED,),
            Status.DISPATCHED,
            "review",
            EventKind.REOPEN,
            needs_note=True,
        ),
        Transition(
            "merge",
            gettext_lazy("Merge into another case"),
            OPEN_STATES,
            Status.MERGED,
            "merge",
            EventKind.MERGE,
            fields=("target",),
        ),
        Transition(
            "comment",
            gettext_lazy("Comment"),
            tuple(Status.values),
            None,
            "view",
            EventKind.COMMENT,
            needs_note=True,
        ),
    )
}


def available_transitions(case: Case, user) -> list[Transition]:
    """Return the transitions ``user`` may perform on ``case`` now."""
    result = []
    for t in TRANSITIONS.values():
        if case.status not in t.sources:
            continue
        if t.name == "decide_extension" and not case.events.filter(kind=EventKind.EXTENSION_REQUEST).exists():
            continue
        if has_action(user, Case, t.permission, case):
            result.append(t)
    return result


def transition(
    case: Case, name: str, user, *, note: str = "", lon=None, lat=None, attachments=(), **params
) -> Case:
    """Perform transition ``name`` on ``case`` as ``user``; raise PermissionDenied/ValidationError."""
    t = TRANSITIONS.get(name)
    if t is None:
        raise ValidationError({"action": _("Unknown action: %(name)s") % {"name": name}})
    if not has_action(user, Case, t.permission, case):
        audit.emit(f"cases.{t.kind}", user=user, obj=case, success=False, details={"reason": "permission"})
        raise PermissionDenied(_("You may not do this on this case."))
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("category").get(pk=case.pk)
        _apply(
            locked, name, user, clock.now(), note=note, lon=lon, lat=lat, attachments=attachments, **params
        )
    return locked


def _apply(case, name, user, now, *, note="", lon=None, lat=None, attachments=(), **params):
    t = TRANSITIONS[name]
    if case.status not in t.sources:
        raise ValidationError(
            _("“%(action)s” is not possible while the case is “%(status)s”.")
            % {"action": t.label, "status": case.get_status_display()}
        )
    note = (note or "").strip()
    if t.needs_note and not note:
        raise ValidationError({"note": _("Please give a note or reason.")})
    from_status = case.status
    data = {}
    targets = []
    if name == "accept":
        case.accepted_at = now
        case.accept_on_time = case.due_at is None or now <= case.due_at
    elif name == "reject":
        case.reject_reason = note
        case.closed_at = now
    elif name == "dispatch":
        department = params.get("department")
        if department is None:
            suggestion = route(case.category, case.grid)
            department = suggestion.department
            params.setdefault("assignee", suggestion.assignee)
        if department is None:
            raise ValidationError({"department": _("Choose the department to dispatch to.")})
        case.department = department
        case.owner_unit = department
        case.assignee = params.get("assignee")
        case.dispatched_at = now
        case.dispatch_on_time = case.due_at is None or now <= case.due_at
        data = {"department": department.pk, "assignee": case.assignee.pk if case.assignee else None}
        targets = _department_users(department, "handle_case") if case.assignee is None else [case.assignee]
    elif name == "return":
        case.department = None
        case.assignee = None
    elif name == "request_extension":
        days = _int(params.get("days"), 1, 30, "days")
        data = {"days": days}
    elif name == "decide_extension":
        request = case.events.filter(kind=EventKind.EXTENSION_REQUEST).order_by("-at", "-pk").first()
        approve = str(params.get("approve", "")).lower() in ("1", "true", "yes", "on")
        days = request.data.get("days", 1) if request else 1
        data = {"approve": approve, "days": days}
        if approve and case.due_at is not None:
            case.due_at = workdays.add_working_days(case.due_at, days)
            case.warn_at = case.due_at - (case.due_at - case.step_started_at) * config()["WARN_SHARE"]
            case.sla_state = SlaState.OK if case.due_at > now else SlaState.OVERDUE
    elif name == "complete":
        case.handled_at = now
        case.result = note
        case.handle_on_time = case.due_at is None or now <= case.due_at
    elif name == "feedback":
        case.feedback = note
        for duplicate in case.duplicates.all():
            duplicate.feedback = note
            duplicate.save(update_fields=["feedback", "updated_at"])
            _record(duplicate, EventKind.FEEDBACK, user, now, note=note, data={"via": case.number})
        targets = [u for u in [case.reporter, *(d.reporter for d in case.duplicates.all())] if u is not None]
    elif name == "review_pass":
        case.closed_at = now
    elif name == "reopen":
        window = config()["REOPEN_DAYS"]
        if case.closed_at is None or (now - case.closed_at).days > window:
            raise ValidationError(
                _("A case can only be reopened within %(days)d days of closing.") % {"days": window}
            )
        case.reopen_count += 1
        case.closed_at = None
        case.rating = None
        case.resolved = None
    elif name == "merge":
        target = params.get("target")
        if isinstance(target, int | str):
            # a case number first (they can be all digits), else an id
            text = str(target).strip()
            target = Case.objects.filter(number=text).first()
            if target is None and text.isdigit() and len(text) < 12:
                target = Case.objects.filter(pk=int(text)).first()
        if target is None or target.pk == case.pk or target.status not in OPEN_STATES:
            raise ValidationError({"target": _("Choose another open case to merge into.")})
        case.merged_into = target
        case.closed_at = now
        data = {"target": target.number}
        _record(
            target,
            EventKind.MERGE,
            user,
            now,
            note=_("Case %(number)s merged into this one.") % {"number": case.number},
        )
    if t.target is not None:
        start_step(case, t.target, now)
        if t.target in (Status.CLOSED, Status.REJECTED, Status.MERGED):
            case.due_at = case.warn_at = None
            case.sla_state = SlaState.NONE
    case.updated_by = user if user is not None and user.is_authenticated else case.updated_by
    case.save()
    _record(
        case,
        t.kind,
        user,
        now,
        from_status=from_status,
        note=note,
        lon=lon,
        lat=lat,
        data=data,
        attachments=attachments,
    )
    if targets:
        notify(
            targets,
            _("Case %(number)s: %(action)s") % {"number": case.number, "action": t.label},
            body=case.title,
            url=case.get_absolute_url(),
            category=f"cases.{name}",
            obj=case,
        )
    return case


def _int(value, low, high, name):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: _("Enter a whole number.")}) from None
    if not low <= number <= high:
        raise ValidationError(
            {name: _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}}
        )
    return number


def _department_users(department, permission_codename):
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    users = get_user_model().objects.filter(is_active=True, department=department)
    perm = Q(user_permissions__codename=permission_codename) | Q(
        groups__permissions__codename=permission_codename
    )
    return list(users.filter(perm | Q(is_superuser=True)).distinct())


def rate(case: Case, rating: int, comment: str = "", *, resolved: bool | None = None) -> Case:
    """Record the reporter's satisfaction (1–5) on a closed case; a poor one creates a return visit."""
    rating = _int(rating, 1, 5, "rating")
    if case.status not in (Status.CLOSED, Status.FEEDBACK):
        raise ValidationError(_("A case can be rated once the reporter has received the feedback."))
    now = clock.now()
    with transaction.atomic():
        case.rating = rating
        case.rating_comment = (comment or "")[:500]
        case.resolved = resolved if resolved is not None else rating >= 3
        case.save(update_fields=["rating", "rating_comment", "resolved", "updated_at"])
        _record(case, EventKind.RATE, None, now, note=case.rating_comment, data={"rating": rating})
        if rating <= config()["POOR_RATING"]:
            visit = FollowUpVisit.objects.create(
                case=case,
                reason=_("Reporter rated %(rating)d/5") % {"rating": rating},
                assignee=case.assignee,
                due_date=workdays.add_working_days(now, 2).date(),
                owner_unit=case.department,
            )
            recipients = (
                [case.assignee] if case.assignee else _department_users(case.department, "review_case")
            )
            notify(
                recipients,
                _("Follow-up visit for case %(number)s") % {"number": case.number},
                body=visit.reason,
                url=case.get_absolute_url(),
                level="warning",
                category="cases.visit",
                obj=case,
            )
    return case


# -- duplicates ----------------------------------------------------------------------------------


def similar_open_cases(category, lon: float, lat: float, *, exclude=None, limit: int = 5) -> list:
    """Return open cases of ``category`` within the duplicate radius and window, nearest first.

    The bounding-box index narrows the search; the geodesic distance decides.
    """
    from datetime import timedelta

    from zhili.core.geo import distance_m

    cfg = config()
    radius = cfg["DUPLICATE_RADIUS_M"]
    dlat = radius / 111_000
    dlon = radius / (111_000 * max(0.1, __import__("math").cos(__import__("math").radians(lat))))
    since = clock.now() - timedelta(days=cfg["DUPLICATE_DAYS"])
    qs = (
        Case.objects.filter(
            category=category,
            status__in=OPEN_STATES,
            reported_at__gte=since,
            bbox_minx__range=(lon - dlon, lon + dlon),
            bbox_miny__range=(lat - dlat, lat + dlat),
        )
        .only("pk", "number", "title", "status", "reported_at", "bbox_minx", "bbox_miny", "category_id")
        .order_by()
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    found = []
    for case in qs[:200]:
        distance = distance_m(lon, lat, case.bbox_minx, case.bbox_miny)
        if distance <= radius:
            case.distance_m = round(distance)
            found.append(case)
    found.sort(key=lambda c: c.distance_m)
    return found[:limit]
